"""An endpoint's `max_in_flight` caps the requests open to it at once in a worker process, and what
doesn't fit waits (queued, or handed back to the database unsent) rather than being dropped or
counted as a failed try: every delivery still arrives, once.

The worker runs one process (`-c 1`), so the receiver's count of requests open at once is that
process's; with N processes an endpoint may see N times its cap (docs/webhooks-delivery.md).
"""

import time
from collections import Counter

import pytest
from django.db import transaction

from webhooks.events import emit
from webhooks.models import Attempt, Delivery
from webhooks.tests.engine import endpoint_make
from webhooks.tests.receivers.scripted import ScriptedReceiver

CAP = 2
EVENTS = 20
HOLD = 0.4  # seconds the receiver takes per request


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_an_endpoint_never_has_more_than_its_max_in_flight_open_and_gets_everything(worker_factory, tenant):
    with ScriptedReceiver(hold=HOLD) as slow:
        endpoint = endpoint_make(tenant, slow.url, events=["webhook.test"], max_in_flight=CAP)
        worker_factory(concurrency=1, beat=True, env={"WEBHOOKS_SWEEP_INTERVAL": "1"})

        # Committed together, so one fan-out hands the worker far more than the cap at once.
        with transaction.atomic():
            for n in range(EVENTS):
                emit("webhook.test", {"n": n}, tenant=tenant)
        rows = Delivery.objects.filter(endpoint=endpoint)
        deadline = time.monotonic() + 60
        while rows.filter(status="succeeded").count() < EVENTS:
            assert time.monotonic() < deadline, (f"{len(slow.ids())} of {EVENTS} arrived; "
                                                 f"{list(rows.values_list('status', 'attempt_count', 'last_error'))}")
            time.sleep(0.2)

        print(f"\n{EVENTS} deliveries, at most {slow.peak} open at once (cap {CAP})")
        assert slow.peak <= CAP
        assert slow.peak == CAP, "the requests never overlapped: the cap was not put to the test"
        received = Counter(slow.ids())
        assert set(received) == set(rows.values_list("event_id", flat=True))
        assert max(received.values()) == 1
        # Held back is not a failed try: one attempt each, the successful one.
        assert set(rows.values_list("attempt_count", flat=True)) == {1}
        assert Attempt.objects.filter(delivery__endpoint=endpoint).count() == EVENTS
        assert not Attempt.objects.filter(delivery__endpoint=endpoint, succeeded=False).exists()
