"""The circuit breaker through a real worker: a failing endpoint's circuit opens, shows as open in the
API, holds its deliveries without trying or failing them, is probed with one delivery, stays open when
the probe fails, closes when one succeeds, and then everything held arrives. The tenant's other
subscriber hears `endpoint.failing` and `endpoint.recovered` once each, and a delivery that fails for
good is announced once with `delivery.exhausted`. What the receivers saw and the Delivery and Attempt
rows must agree: nothing lost, nothing counted twice.
"""

import time
from collections import Counter

import pytest
from django.db import transaction
from django.db.models import Sum

from webhooks.events import emit
from webhooks.models import Attempt, Delivery, Endpoint
from webhooks.tests.engine import endpoint_make
from webhooks.tests.receivers.scripted import ScriptedReceiver

THRESHOLD = 3
PROBE_BASE = 2  # seconds; the second probe comes twice as late
WORKER_ENV = {"WEBHOOKS_CIRCUIT_THRESHOLD": str(THRESHOLD), "WEBHOOKS_CIRCUIT_PROBE_BASE": str(PROBE_BASE),
              "WEBHOOKS_SWEEP_INTERVAL": "0.5"}
OPERATIONAL = ["endpoint.failing", "endpoint.recovered", "delivery.exhausted"]


def _wait_for(condition, *, within: float, what):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {within} s: {what() if callable(what) else what}")


def _emit(tenant, count: int, start: int = 0) -> None:
    with transaction.atomic():  # committed together: one batch, tried at once
        for n in range(start, start + count):
            emit("webhook.test", {"n": n}, tenant=tenant)


def _rows_agree_with(receiver: ScriptedReceiver, endpoint: Endpoint) -> None:
    """Every request the receiver saw is one Attempt row and one count of its delivery, and back."""
    seen = Counter(receiver.ids())
    rows = Delivery.objects.filter(endpoint=endpoint)
    tries = Counter(Attempt.objects.filter(delivery__endpoint=endpoint).values_list("delivery__event_id", flat=True))
    assert seen == tries, "the receiver and the Attempt rows disagree"
    assert dict(rows.values_list("event_id", "attempt_count")) == dict(seen)
    ok = Counter(s.webhook_id for s in receiver.seen if s.status == 200)
    assert set(ok.values()) <= {1}, "a delivery was received successfully twice"


@pytest.mark.integration
@pytest.mark.timeout(150)
def test_a_circuit_opens_holds_probes_and_closes_and_the_tenant_hears_it_once(worker_factory, tenant, api_client):
    with ScriptedReceiver(status=500) as flaky_receiver, ScriptedReceiver() as watcher:
        # Retries every second: without the circuit, the held deliveries would be tried again and again.
        flaky = endpoint_make(tenant, flaky_receiver.url, events=["webhook.test"], retry_schedule=[1] * 30)
        endpoint_make(tenant, watcher.url, events=OPERATIONAL)
        rows = Delivery.objects.filter(endpoint=flaky)
        worker_factory(beat=True, env=WORKER_ENV)

        _emit(tenant, 5)
        _wait_for(lambda: api_client.get(f"/api/v1/webhooks/{flaky.pk}").json()["circuit"] == "open", within=20,
                  what=lambda: f"the circuit opened; {len(flaky_receiver.ids())} requests seen")
        assert api_client.get(f"/api/v1/webhooks/{flaky.pk}/stats").json()["circuit"] == "open"
        # The tries already in flight when it opened are recorded; after that, the receiver hears nothing.
        _wait_for(lambda: Attempt.objects.filter(delivery__endpoint=flaky).count() == len(flaky_receiver.ids()),
                  within=10, what="the tries in flight were recorded")
        tried_before = len(flaky_receiver.ids())
        assert tried_before >= THRESHOLD

        _emit(tenant, 3, start=5)  # while open: held, not tried
        _wait_for(lambda: rows.count() == 8, within=10, what="the events emitted while open were fanned out")

        # The first probe: one delivery, which fails; the circuit stays open and nothing else was tried.
        _wait_for(lambda: Endpoint.objects.get(pk=flaky.pk).circuit_probes == 1, within=PROBE_BASE + 15,
                  what=lambda: f"a failed probe was recorded; {len(flaky_receiver.ids())} requests seen")
        probed = Endpoint.objects.get(pk=flaky.pk)
        assert probed.circuit == Endpoint.Circuit.OPEN
        assert len(flaky_receiver.ids()) == tried_before + 1
        assert rows.aggregate(n=Sum("attempt_count"))["n"] == tried_before + 1
        assert not rows.filter(status="failed").exists(), "a delivery was failed while the circuit was open"
        assert api_client.get(f"/api/v1/webhooks/{flaky.pk}").json()["circuit"] == "open"

        # The receiver is back: the next probe succeeds, the circuit closes, everything held arrives.
        flaky_receiver.status = 200
        _wait_for(lambda: rows.filter(status="succeeded").count() == 8, within=2 * PROBE_BASE + 20,
                  what=lambda: f"every held delivery arrived; {list(rows.values_list('status', 'attempt_count'))}")
        assert api_client.get(f"/api/v1/webhooks/{flaky.pk}").json()["circuit"] == "closed"
        assert api_client.get(f"/api/v1/webhooks/{flaky.pk}/stats").json()["circuit"] == "closed"

        _wait_for(lambda: len(watcher.ids("endpoint.recovered")) >= 1, within=10,
                  what="endpoint.recovered reached the tenant's other subscriber")
        time.sleep(1.5)  # a second announcement, if one were coming, would have arrived
        assert Counter(s.type for s in watcher.seen) == {"endpoint.failing": 1, "endpoint.recovered": 1}
        assert all(s.data["endpoint_id"] == flaky.pk for s in watcher.seen)
        assert len(set(watcher.ids())) == 2  # two events, not one sent twice
        _rows_agree_with(flaky_receiver, flaky)
        assert not rows.exclude(status="succeeded").exists()


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_a_delivery_that_fails_for_good_is_announced_once_with_delivery_exhausted(worker_factory, tenant):
    with ScriptedReceiver(status=500) as broken, ScriptedReceiver() as watcher:
        doomed = endpoint_make(tenant, broken.url, events=["webhook.test"], retry_schedule=[])
        endpoint_make(tenant, watcher.url, events=OPERATIONAL)
        rows = Delivery.objects.filter(endpoint=doomed)
        worker_factory(beat=True, env=WORKER_ENV)

        _emit(tenant, 2)  # fewer failures than the threshold: the circuit stays out of it
        _wait_for(lambda: len(watcher.ids("delivery.exhausted")) >= 2, within=30,
                  what=lambda: f"delivery.exhausted arrived; {list(rows.values_list('status', 'last_error'))}")
        time.sleep(1.5)
        assert set(rows.values_list("status", "attempt_count")) == {("failed", 1)}
        announced = [s.data["delivery_id"] for s in watcher.seen if s.type == "delivery.exhausted"]
        assert sorted(announced) == sorted(rows.values_list("pk", flat=True))
        assert [s.type for s in watcher.seen] == ["delivery.exhausted"] * 2
        assert Endpoint.objects.get(pk=doomed.pk).circuit == Endpoint.Circuit.CLOSED
        _rows_agree_with(broken, doomed)
