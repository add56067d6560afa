"""The engine's `skip_locked` claims pass over rows another fan-out or claim holds, and only those.

A row referred to by a row being inserted elsewhere (a test send's delivery refers to its event; an
attempt refers to its delivery) carries PostgreSQL's key-share lock until that transaction ends.
The engine locks what it takes with FOR NO KEY UPDATE, which doesn't conflict with it: with plain
FOR UPDATE such a row was skipped, and waited for the sweep. SQLite has no row locks.
"""

import pytest
from django.db import connection
from django.utils import timezone

from core.tests.row_locks import row_locked
from webhooks.delivery import claim_due
from webhooks.fanout import events_fan_out
from webhooks.models import Delivery, Event
from webhooks.tests.engine import endpoint_make, event_make

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks (PostgreSQL)"),
]


def test_a_fan_out_takes_an_event_that_a_delivery_being_inserted_refers_to(tenant):
    endpoint_make(tenant, "http://127.0.0.1:9/hook")
    event = event_make(tenant)

    with row_locked(Event, event.pk, lock="FOR KEY SHARE"):
        created = events_fan_out()

    assert [delivery.event_id for delivery in created] == [event.pk]


def test_a_claim_takes_a_delivery_that_an_attempt_being_inserted_refers_to(tenant):
    endpoint = endpoint_make(tenant, "http://127.0.0.1:9/hook")
    event = event_make(tenant)
    now = timezone.now()
    delivery = Delivery.objects.create(tenant=tenant, event=event, endpoint=endpoint, next_attempt_at=now)

    with row_locked(Delivery, delivery.pk, lock="FOR KEY SHARE"):
        claimed = claim_due(limit=10, now=now)

    assert claimed == [delivery.pk]
