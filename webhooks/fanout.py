"""Fan-out: one durable event becomes one `Delivery` per endpoint subscribed to its type.

Idempotent: the unique (event, endpoint) constraint means a second fan-out of the same event
(the sweep racing a late broker message) creates nothing twice. Rows this fan-out creates are
born leased to the caller, who sends them at once; rows that already existed belong to
whoever created them (or, once their lease lapses, to the sweep).
"""

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from webhooks.delivery import delivery_enqueue, lease_until
from webhooks.models import Delivery, Endpoint, Event

logger = logging.getLogger(__name__)


def endpoints_subscribed(*, tenant_id: int, event_type: str, created_before: datetime | None = None
                         ) -> list[Endpoint]:
    """Active, undeleted endpoints of the tenant whose `events` include the type (`[]` = all)."""
    endpoints = Endpoint.objects.filter(tenant_id=tenant_id, is_active=True, deleted_at__isnull=True)
    if created_before is not None:
        endpoints = endpoints.filter(created_at__lte=created_before)
    return [e for e in endpoints if not e.events or event_type in e.events]


def event_fan_out(*, event_id: str, now: datetime | None = None) -> list[Delivery]:
    """Create the event's deliveries; returns those created now, already leased to the caller."""
    now = now or timezone.now()
    event = Event.objects.select_related("tenant").filter(pk=event_id).first()
    if event is None or event.fanned_out_at is not None:
        return []
    # An endpoint subscribed after the event happened does not get it (a late sweep would do that).
    endpoints = endpoints_subscribed(tenant_id=event.tenant_id, event_type=event.type,
                                     created_before=event.created_at)
    rows = [
        Delivery(tenant_id=event.tenant_id, event=event, endpoint=endpoint, next_attempt_at=now,
                 locked_until=lease_until(now))
        for endpoint in endpoints
    ]
    with transaction.atomic():
        try:
            with transaction.atomic():
                created = Delivery.objects.bulk_create(rows)
        except IntegrityError:
            # Another fan-out of this event got there first: add only what it missed, unleased,
            # and let the sweep send those.
            for row in rows:
                row.locked_until = None
            Delivery.objects.bulk_create(rows, ignore_conflicts=True)
            created = []
        Event.objects.filter(pk=event.pk, fanned_out_at__isnull=True).update(fanned_out_at=now)
    for delivery in created:  # the sender needs them without another query
        delivery.event = event
    return created


def event_deliver_to(*, event: Event, endpoint: Endpoint) -> Delivery:
    """A delivery of `event` to this one endpoint (test sends), enqueued after commit.

    Idempotent like the fan-out: an existing delivery of the pair is returned as it is.
    """
    with transaction.atomic():
        delivery, created = Delivery.objects.get_or_create(
            event=event, endpoint=endpoint,
            defaults={"tenant_id": event.tenant_id, "next_attempt_at": timezone.now()},
        )
        if created:
            delivery_enqueue(delivery_ids=[delivery.pk])
    return delivery
