"""A delivery the sender hands back unsent (its circuit is open, its endpoint's lane is full) goes back
to the database free for the next claim, with no attempt counted: not left leased until the lease
lapses. Fanned-out deliveries are the case to watch: the fan-out leases them a moment before the
dispatch looks at them."""

import pytest
from django.utils import timezone

from webhooks.delivery import deliveries_send_claimed
from webhooks.fanout import events_fan_out
from webhooks.models import Delivery, Endpoint
from webhooks.tests.engine import endpoint_make, event_make
from webhooks.tests.receivers.scripted import ScriptedReceiver


@pytest.fixture
def receiver():
    with ScriptedReceiver(hold=0.2) as server:
        yield server


def _fan_out(tenant, count: int) -> list[Delivery]:
    for n in range(count):
        event_make(tenant, data={"n": n})
    return events_fan_out()


def test_deliveries_held_by_an_open_circuit_are_returned_unleased_and_untried(tenant, receiver):
    endpoint = endpoint_make(tenant, receiver.url, circuit=Endpoint.Circuit.OPEN)
    created = _fan_out(tenant, 3)
    assert all(d.locked_until is not None for d in created)

    report = deliveries_send_claimed(deliveries=created)

    assert report.released == 3 and report.sent == 0
    rows = Delivery.objects.filter(endpoint=endpoint)
    assert set(rows.values_list("status", "attempt_count", "locked_until")) == {("pending", 0, None)}
    assert receiver.ids() == []


def test_deliveries_beyond_a_full_lane_are_returned_unleased_to_be_sent_soon(tenant, receiver):
    # A cap of 1 queues 4 behind the one in flight (sender.QUEUE_FACTOR); the sixth is handed back.
    endpoint = endpoint_make(tenant, receiver.url, max_in_flight=1)
    created = _fan_out(tenant, 6)
    before = timezone.now()

    report = deliveries_send_claimed(deliveries=created)

    assert (report.succeeded, report.released) == (5, 1)
    [held] = Delivery.objects.filter(endpoint=endpoint, status="pending")
    assert held.locked_until is None and held.attempt_count == 0
    assert held.next_attempt_at > before  # a short back-off, so the sweep doesn't take it straight back
    assert receiver.peak == 1 and len(receiver.ids()) == 5
