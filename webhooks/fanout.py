"""Fan-out: one durable event becomes one `Delivery` per endpoint subscribed to its type.

Idempotent: the unique (event, endpoint) constraint means a second fan-out of the same event
(the sweep racing a late broker message) creates nothing twice. Rows this fan-out creates are
born leased to the caller, who sends them at once; rows that already existed belong to
whoever created them (or, once their lease lapses, to the sweep).
"""

import logging
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from webhooks import conf
from webhooks.delivery import QUIET_TYPES, delivery_enqueue, engine_atomic, lease_until
from webhooks.enqueue import FAN_OUT, fan_out_soon
from webhooks.models import Delivery, Endpoint, Event
from webhooks.subscriptions import subscribes
from webhooks.wake import wake_claim, wake_release

logger = logging.getLogger(__name__)


def _live_endpoints(tenant_id: int):
    return Endpoint.objects.filter(tenant_id=tenant_id, is_active=True, deleted_at__isnull=True)


def endpoints_subscribed(*, tenant_id: int, event_type: str) -> list[Endpoint]:
    """Active, undeleted endpoints of the tenant whose `events` include the type (`[]` = all, `x.*` = x's types),
    in no particular order: a caller that needs one sorts. The audio sampler asks once a second, and the
    model's default ordering, compiled into every query and then sorted away, was work for nothing."""
    return [e for e in _live_endpoints(tenant_id).order_by() if subscribes(e.events, event_type)]


# --- Waking a worker: one fan-out task takes every event waiting (see webhooks/wake.py) ---------


def fan_out_wake_claim() -> bool:
    """Whether an emitter should send a fan-out task (none is queued yet). Always, off Redis."""
    return wake_claim(FAN_OUT, seconds=conf.get("WEBHOOKS_FAN_OUT_WAKE_SECONDS"))


def fan_out_wake_release() -> bool:
    """Called as a fan-out task starts, before it looks for waiting events: an event committed from
    then on sends its own wake-up. Whether there was a flag to clear."""
    return wake_release(FAN_OUT)


def events_fan_out(*, limit: int | None = None, older_than: datetime | None = None, now: datetime | None = None,
                   wake_when_full: bool = False) -> list[Delivery]:
    """Fan out up to `limit` events that are not fanned out yet, oldest first.

    Under load, many events wait at once; taking them together turns a few hundred small
    transactions a second into a few large ones. The events are locked with `skip_locked`
    (PostgreSQL), so concurrent fan-outs take disjoint events; on SQLite the write transaction
    serialises them. `older_than` leaves younger events to their own tasks (the sweep's use).
    `wake_when_full`: a full batch may have left events waiting, so wake another worker for them
    after commit (the fan-out task's use: their own wake-ups were folded into this one).
    """
    now = now or timezone.now()
    limit = limit or conf.get("WEBHOOKS_BATCH_SIZE")
    try:
        return _fan_out(limit=limit, older_than=older_than, now=now, wake_when_full=wake_when_full)
    except IntegrityError:
        # Some deliveries existed already (a test send, or SQLite, which reads the waiting events
        # before it takes its write lock, letting two fan-outs take one): the transaction is undone
        # and done again adding only what is missing, unleased, for the sweep to send. Retrying
        # the whole transaction keeps the usual case to one INSERT, without a savepoint around it.
        return _fan_out(limit=limit, older_than=older_than, now=now, wake_when_full=wake_when_full,
                        conflicts=True)


def _fan_out(*, limit: int, older_than: datetime | None, now: datetime, wake_when_full: bool,
             conflicts: bool = False) -> list[Delivery]:
    with engine_atomic():
        waiting = Event.objects.filter(fanned_out_at__isnull=True, created_at__lte=older_than or now)
        if connection.features.has_select_for_update_skip_locked:
            # NO KEY: a delivery being inserted elsewhere (a test send) refers to its event, and the
            # key-share lock of that reference must not make this fan-out skip the event.
            waiting = waiting.select_for_update(skip_locked=True, no_key=True)
        events = list(waiting.order_by("created_at")[:limit])
        if not events:
            return []
        rows = _delivery_rows(events, now)
        if conflicts:
            for row in rows:
                row.locked_until = None
            Delivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
            created = []
        else:
            created = Delivery.objects.bulk_create(rows, batch_size=1000)
        Event.objects.filter(pk__in=[e.pk for e in events], fanned_out_at__isnull=True).update(fanned_out_at=now)
        if wake_when_full and len(events) >= limit:
            transaction.on_commit(lambda: fan_out_soon(None))
    return created


def _delivery_rows(events: list[Event], now: datetime) -> list[Delivery]:
    lease = lease_until(now)
    endpoints_of: dict[int, list[Endpoint]] = {}
    rows = []
    for event in events:
        if event.tenant_id not in endpoints_of:
            endpoints_of[event.tenant_id] = list(_live_endpoints(event.tenant_id).order_by())
        for endpoint in endpoints_of[event.tenant_id]:
            # An endpoint subscribed after the event happened does not get it (a late sweep would do that).
            if not subscribes(endpoint.events, event.type) or endpoint.created_at > event.created_at:
                continue
            if event.type in QUIET_TYPES and event.data.get("endpoint_id") == endpoint.pk:
                continue  # news of an endpoint's own health goes to the tenant's other endpoints
            rows.append(Delivery(tenant_id=event.tenant_id, event=event, endpoint=endpoint, next_attempt_at=now,
                                 locked_until=lease))
    return rows


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
