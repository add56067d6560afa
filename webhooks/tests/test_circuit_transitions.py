"""The circuit breaker's state machine (webhooks/circuit.py), without a worker: when a run of failed
tries opens it, when it is probed, what a probe's outcome does, and that each transition is announced
to the tenant once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from webhooks.circuit import (
    circuit_probe_abandon,
    circuit_record,
    circuit_reset,
    circuits_to_probe,
    probe_interval,
)
from webhooks.delivery import claim_due, claim_probe
from webhooks.models import Delivery, Endpoint, Event
from webhooks.tests.engine import endpoint_make, event_make

Circuit = Endpoint.Circuit


@pytest.fixture(autouse=True)
def _circuit_settings(settings):
    settings.WEBHOOKS_CIRCUIT_THRESHOLD = 3
    settings.WEBHOOKS_CIRCUIT_PROBE_BASE = 2.0
    settings.WEBHOOKS_CIRCUIT_PROBE_MAX = 10.0


@pytest.fixture
def endpoint(tenant):
    return endpoint_make(tenant, "http://127.0.0.1:9/hook", events=["webhook.test"])


def _fresh(endpoint: Endpoint) -> Endpoint:
    return Endpoint.objects.get(pk=endpoint.pk)


def _announced(type: str) -> list[Event]:
    return list(Event.objects.filter(type=type))


def _open(endpoint: Endpoint, now) -> None:
    assert circuit_record(endpoint=endpoint, results=[False] * 3, last_error="HTTP 500", now=now) == Circuit.OPEN


def test_probe_interval_doubles_after_each_failed_probe_up_to_the_cap():
    assert [probe_interval(n) for n in range(5)] == [2.0, 4.0, 8.0, 10.0, 10.0]
    assert probe_interval(1000) == 10.0  # no overflow however long the receiver stays down


def test_a_run_shorter_than_the_threshold_keeps_the_circuit_closed(endpoint):
    now = timezone.now()
    assert circuit_record(endpoint=endpoint, results=[False, False], last_error="HTTP 500", now=now) is None
    assert _fresh(endpoint).consecutive_failures == 2
    # A success between failures starts the run over: two, then one, never three in a row.
    assert circuit_record(endpoint=endpoint, results=[True, False], last_error="HTTP 500", now=now) is None
    fresh = _fresh(endpoint)
    assert (fresh.circuit, fresh.consecutive_failures) == (Circuit.CLOSED, 1)
    assert _announced("endpoint.failing") == []


def test_threshold_failures_in_a_row_open_the_circuit_and_announce_it_once(endpoint):
    now = timezone.now()
    circuit_record(endpoint=endpoint, results=[False], last_error="HTTP 500", now=now)
    assert circuit_record(endpoint=endpoint, results=[False, False], last_error="HTTP 503", now=now) == Circuit.OPEN
    fresh = _fresh(endpoint)
    assert fresh.circuit == Circuit.OPEN and fresh.consecutive_failures == 3
    assert fresh.circuit_opened_at == now and fresh.circuit_probe_at == now + timedelta(seconds=2)
    assert endpoint.circuit == Circuit.OPEN  # the caller's instance follows, so its batch stops sending

    # Tries that were already in flight when it opened fail too: no second announcement.
    assert circuit_record(endpoint=fresh, results=[False] * 5, last_error="HTTP 500", now=now) is None
    assert _fresh(endpoint).circuit == Circuit.OPEN
    [failing] = _announced("endpoint.failing")
    assert failing.tenant_id == endpoint.tenant_id
    assert failing.data["endpoint_id"] == endpoint.pk and failing.data["consecutive_failures"] == 3
    assert failing.data["last_error"] == "HTTP 503"


def test_an_open_circuit_is_not_probed_before_its_time_and_then_by_one_caller_only(endpoint):
    now = timezone.now()
    _open(endpoint, now)
    assert circuits_to_probe(now=now + timedelta(seconds=1)) == []
    assert circuits_to_probe(now=now + timedelta(seconds=2)) == [endpoint.pk]
    assert _fresh(endpoint).circuit == Circuit.HALF_OPEN
    # A second sweep at the same moment finds the probe already out.
    assert circuits_to_probe(now=now + timedelta(seconds=2)) == []


def test_a_failed_probe_reopens_the_circuit_with_the_interval_doubled(endpoint):
    now = timezone.now()
    _open(endpoint, now)
    probe_time = now + timedelta(seconds=2)
    circuits_to_probe(now=probe_time)
    assert circuit_record(endpoint=_fresh(endpoint), results=[False], last_error="HTTP 500",
                          now=probe_time) == Circuit.OPEN
    fresh = _fresh(endpoint)
    assert (fresh.circuit, fresh.circuit_probes) == (Circuit.OPEN, 1)
    assert fresh.circuit_probe_at == probe_time + timedelta(seconds=4)

    second = probe_time + timedelta(seconds=4)
    assert circuits_to_probe(now=second) == [endpoint.pk]
    circuit_record(endpoint=_fresh(endpoint), results=[False], last_error="HTTP 500", now=second)
    fresh = _fresh(endpoint)
    assert fresh.circuit_probes == 2 and fresh.circuit_probe_at == second + timedelta(seconds=8)
    assert len(_announced("endpoint.failing")) == 1  # re-opening after a probe is not news


def test_a_successful_probe_closes_the_circuit_and_announces_the_recovery_once(endpoint):
    now = timezone.now()
    _open(endpoint, now)
    later = now + timedelta(seconds=2)
    circuits_to_probe(now=later)
    assert circuit_record(endpoint=_fresh(endpoint), results=[True], last_error="", now=later) == Circuit.CLOSED
    fresh = _fresh(endpoint)
    assert (fresh.circuit, fresh.consecutive_failures, fresh.circuit_probes) == (Circuit.CLOSED, 0, 0)
    assert fresh.circuit_opened_at is None and fresh.circuit_probe_at is None
    # More successes on the closed circuit change nothing and announce nothing.
    assert circuit_record(endpoint=fresh, results=[True, True], last_error="", now=later) is None
    [recovered] = _announced("endpoint.recovered")
    assert recovered.data["endpoint_id"] == endpoint.pk
    assert recovered.data["opened_at"] is not None and recovered.data["recovered_at"] is not None


def test_a_probe_with_nothing_to_send_leaves_the_circuit_open_for_the_next_interval(endpoint):
    now = timezone.now()
    _open(endpoint, now)
    later = now + timedelta(seconds=2)
    circuits_to_probe(now=later)
    circuit_probe_abandon(endpoint_id=endpoint.pk, now=later)
    fresh = _fresh(endpoint)
    assert fresh.circuit == Circuit.OPEN and fresh.circuit_probe_at == later + timedelta(seconds=2)
    assert _announced("endpoint.recovered") == []


def test_a_probe_whose_worker_died_is_taken_again_once_its_lease_lapsed(endpoint, settings):
    settings.WEBHOOKS_LEASE_SECONDS = 30
    now = timezone.now()
    _open(endpoint, now)
    taken = now + timedelta(seconds=2)
    assert circuits_to_probe(now=taken) == [endpoint.pk]
    assert circuits_to_probe(now=taken + timedelta(seconds=29)) == []
    assert circuits_to_probe(now=taken + timedelta(seconds=30)) == [endpoint.pk]


def test_claims_skip_an_open_circuit_and_its_probe_takes_the_oldest_pending_delivery(endpoint, tenant):
    now = timezone.now()
    deliveries = [Delivery.objects.create(tenant=tenant, event=event_make(tenant), endpoint=endpoint,
                                          next_attempt_at=now + timedelta(seconds=n)) for n in (0, 60)]
    _open(endpoint, now)
    assert claim_due(limit=10, now=now + timedelta(seconds=120)) == []
    # The probe doesn't wait for a due delivery: the receiver's health is the question, not the schedule.
    assert claim_probe(endpoint_id=endpoint.pk, now=now) == [deliveries[0].pk]
    assert claim_probe(endpoint_id=endpoint.pk, now=now) == [deliveries[1].pk]  # the first is leased


def test_closing_by_hand_lets_deliveries_be_claimed_again(endpoint, tenant):
    now = timezone.now()
    delivery = Delivery.objects.create(tenant=tenant, event=event_make(tenant), endpoint=endpoint, next_attempt_at=now)
    _open(endpoint, now)
    circuit_reset(endpoint=endpoint)
    assert _fresh(endpoint).circuit == Circuit.CLOSED
    assert claim_due(limit=10, now=now) == [delivery.pk]
