"""Retention: events, deliveries with their attempts, and inbound messages older than their tenant's
retention are deleted, a bounded batch per statement, so a purge never holds locks long enough to
stall ingest or delivery.

What is never deleted, whatever its age: a pending delivery (it may still be sent), an event that
still has deliveries or was never fanned out, an inbound message not yet processed (`received`).
Completed deliveries are folded into the daily rollups (rollups.py) in the transaction that
deletes them, so `/stats` and the dashboard keep their totals.

Retention is per tenant: `Tenant.retention_days`, else `STREAMHOOK_RETENTION_DAYS`. A positive
`STREAMHOOK_RETENTION_SECONDS` replaces the default in seconds (benchmarks and tests, which can't wait
days); per-tenant overrides stay in days.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from accounts.models import Tenant
from core.ids import first_message_id_at
from webhooks.inbound.models import InboundMessage
from webhooks.models import Attempt, Delivery, Event
from webhooks.retention.rollups import rollups_fold


@dataclass
class PurgeCount:
    deliveries: int = 0
    attempts: int = 0
    events: int = 0
    inbound_messages: int = 0

    def add(self, other: "PurgeCount") -> None:
        for name in ("deliveries", "attempts", "events", "inbound_messages"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def __bool__(self) -> bool:
        return bool(self.deliveries or self.attempts or self.events or self.inbound_messages)


def default_retention() -> timedelta:
    seconds = settings.STREAMHOOK_RETENTION_SECONDS
    return timedelta(seconds=seconds) if seconds > 0 else timedelta(days=settings.STREAMHOOK_RETENTION_DAYS)


def retention_groups(*, now: datetime) -> list[tuple[QuerySet, datetime]]:
    """(tenant ids, cutoff) pairs: the tenants on the default, and one pair per distinct override."""
    groups = [(Tenant.objects.filter(retention_days__isnull=True).values("id"), now - default_retention())]
    overrides = Tenant.objects.filter(retention_days__isnull=False).values_list("retention_days", flat=True)
    for days in sorted(set(overrides)):
        groups.append((Tenant.objects.filter(retention_days=days).values("id"), now - timedelta(days=days)))
    return groups


def expired_pk_bound(model, time_field: str, cutoff: datetime) -> int | None:
    """A primary key below which the expired rows are, found by bisecting the primary key index.

    Ids grow with insertion time, so the rows older than `cutoff` sit at the start of the index. With
    this bound a batch's query stops where the young rows begin instead of walking the whole table to
    learn that nothing more is expired (there is no index on the time columns: every insert would pay
    for it). None: the oldest row is young, nothing to purge.
    """
    rows = model.objects.order_by("pk").values_list("pk", time_field)
    first = rows.first()
    if first is None or first[1] >= cutoff:
        return None
    low, high = first[0], model.objects.order_by("-pk").values_list("pk", flat=True).first() + 1
    while high - low > 1:  # the first row at or after `low` is old; none at or after `high` is
        middle = (low + high) // 2
        found = rows.filter(pk__gte=middle).first()
        if found is None or found[1] >= cutoff:
            high = middle
        else:
            low = middle
    return high


def _deliveries_batch(*, tenants: QuerySet, cutoff: datetime, batch_size: int) -> PurgeCount:
    bound = expired_pk_bound(Delivery, "created_at", cutoff)
    if bound is None:
        return PurgeCount()
    with transaction.atomic():
        # Oldest first by primary key, so each statement walks the start of the index. Rows a worker
        # holds are skipped (they are being redelivered), never waited for.
        ids = list(
            Delivery.objects.filter(tenant_id__in=tenants, created_at__lt=cutoff, pk__lt=bound)
            .exclude(status=Delivery.Status.PENDING)
            .order_by("pk").select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return PurgeCount()
        attempts = rollups_fold(delivery_ids=ids)
        Attempt.objects.filter(delivery_id__in=ids).delete()
        Delivery.objects.filter(pk__in=ids).delete()
    return PurgeCount(deliveries=len(ids), attempts=attempts)


def _events_batch(*, tenants: QuerySet, cutoff: datetime, batch_size: int) -> PurgeCount:
    has_deliveries = Exists(Delivery.objects.filter(event_id=OuterRef("pk")))
    # Event ids sort by creation time: the ids below the cutoff's first possible id bound the walk.
    bound = first_message_id_at(int(cutoff.timestamp() * 1000))
    expired = Event.objects.filter(tenant_id__in=tenants, created_at__lt=cutoff, fanned_out_at__isnull=False,
                                   pk__lt=bound)
    with transaction.atomic():
        ids = list(expired.exclude(has_deliveries).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return PurgeCount()
        # Checked again in the DELETE itself: a redelivery may have given one of them a delivery since.
        deleted = Event.objects.filter(pk__in=ids).exclude(has_deliveries).delete()[1].get(Event._meta.label, 0)
    return PurgeCount(events=deleted)


def _inbound_batch(*, tenants: QuerySet, cutoff: datetime, batch_size: int) -> PurgeCount:
    done = [InboundMessage.Status.PROCESSED, InboundMessage.Status.FAILED, InboundMessage.Status.DUPLICATE]
    bound = expired_pk_bound(InboundMessage, "received_at", cutoff)
    if bound is None:
        return PurgeCount()
    with transaction.atomic():
        ids = list(
            InboundMessage.objects.filter(tenant_id__in=tenants, received_at__lt=cutoff, status__in=done,
                                          pk__lt=bound)
            .order_by("pk").values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return PurgeCount()
        # Deleting an original also deletes the duplicates that point at it (they count it).
        deleted = InboundMessage.objects.filter(pk__in=ids, status__in=done).delete()[0]
    return PurgeCount(inbound_messages=deleted)


def expired_purge(*, now: datetime | None = None, batch_size: int | None = None,
                  progress: Callable[[str, PurgeCount], None] | None = None,
                  should_stop: Callable[[], bool] = lambda: False) -> PurgeCount:
    """Delete everything past its tenant's retention, one short transaction per batch; returns the counts.

    Deliveries go before events (an event is deleted once none of its deliveries is left). `should_stop`
    is asked between batches, so a command can end cleanly on SIGTERM.
    """
    now = now or timezone.now()
    batch_size = batch_size or settings.STREAMHOOK_RETENTION_BATCH_SIZE
    total = PurgeCount()
    for what, batch in (("deliveries", _deliveries_batch), ("events", _events_batch),
                        ("inbound messages", _inbound_batch)):
        for tenants, cutoff in retention_groups(now=now):
            while not should_stop():
                count = batch(tenants=tenants, cutoff=cutoff, batch_size=batch_size)
                if not count:
                    break
                total.add(count)
                if progress is not None:
                    progress(what, total)
    return total
