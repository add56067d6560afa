"""A hanging endpoint holds up nobody: while its receiver keeps every request open past the timeout,
the same tenant's other endpoint and another tenant's endpoint get the same events at once, and their
outcomes are recorded at once, not after the hanging requests time out. Nothing is sent twice.

A real worker (prefork, two processes) sends to real receivers on 127.0.0.1.
"""

import time
from collections import Counter

import pytest

from webhooks.events import emit
from webhooks.models import Attempt, Delivery
from webhooks.tests.engine import endpoint_make
from webhooks.tests.receivers.scripted import ScriptedReceiver

TIMEOUT = 8  # the worker's WEBHOOKS_TIMEOUT
EVENTS = 15  # per tenant


def _wait_for(condition, *, within: float, what: str, step: float = 0.1):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(step)
    raise AssertionError(f"not within {within} s: {what}")


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_a_hanging_endpoint_delays_no_other_endpoint_or_tenant(worker_factory, tenant, other_tenant):
    with (ScriptedReceiver(hold=TIMEOUT + 10) as hanging, ScriptedReceiver() as neighbour,
          ScriptedReceiver() as stranger):
        # One retry, long after the test: the only tries are the ones it watches.
        stuck = endpoint_make(tenant, hanging.url, events=["webhook.test"], retry_schedule=[600])
        same_tenant = endpoint_make(tenant, neighbour.url, events=["webhook.test"])
        other = endpoint_make(other_tenant, stranger.url, events=["webhook.test"])
        worker_factory(env={"WEBHOOKS_TIMEOUT": str(TIMEOUT), "WEBHOOKS_SWEEP_INTERVAL": "1"}, beat=True)

        started = time.monotonic()
        for n in range(EVENTS):
            emit("webhook.test", {"n": n}, tenant=tenant)
            emit("webhook.test", {"n": n}, tenant=other_tenant)
        fast = Delivery.objects.filter(endpoint__in=[same_tenant, other])

        _wait_for(lambda: fast.filter(status="succeeded").count() == 2 * EVENTS, within=TIMEOUT - 2,
                  what=f"the other endpoints' deliveries succeeded; {list(fast.values_list('status', 'last_error'))}")
        recorded_in = time.monotonic() - started
        # At that moment the hanging endpoint's requests are open and none of their outcomes is in.
        stuck_rows = Delivery.objects.filter(endpoint=stuck)
        assert stuck_rows.count() == EVENTS
        assert len(hanging.ids()) > 0, "nothing was in flight to the hanging endpoint: the test proved nothing"
        assert hanging.open_now == len(hanging.ids())
        assert not Attempt.objects.filter(delivery__endpoint=stuck).exists()
        assert set(stuck_rows.values_list("status", "attempt_count")) == {("pending", 0)}
        print(f"\n{2 * EVENTS} deliveries to the other endpoints recorded {recorded_in:.1f} s after the first emit, "
              f"with {hanging.open_now} requests hanging at {stuck.url}")

        # The hanging requests time out, each one recorded once as a failed try, and wait for their retry.
        _wait_for(lambda: Attempt.objects.filter(delivery__endpoint=stuck).count() == EVENTS, within=TIMEOUT + 15,
                  what="every hanging request was recorded as a timed-out try", step=0.5)
        time.sleep(2)  # a second send, if one were coming, would be under way by now
        assert set(stuck_rows.values_list("status", "attempt_count")) == {("pending", 1)}
        assert all("timeout" in e.lower() or "timed out" in e.lower()
                   for e in stuck_rows.values_list("last_error", flat=True)), list(stuck_rows.values_list("last_error"))

        emitted = {tenant.pk: set(), other_tenant.pk: set()}
        for event_id, tenant_id in Delivery.objects.values_list("event_id", "tenant_id"):
            emitted[tenant_id].add(event_id)
        for receiver, tenant_id in ((hanging, tenant.pk), (neighbour, tenant.pk), (stranger, other_tenant.pk)):
            received = Counter(receiver.ids())
            assert set(received) == emitted[tenant_id], "a receiver missed an event or got another tenant's"
            assert max(received.values()) == 1, f"sent twice: {[i for i, c in received.items() if c > 1]}"
        assert Attempt.objects.filter(delivery__endpoint__in=[same_tenant, other]).count() == 2 * EVENTS
