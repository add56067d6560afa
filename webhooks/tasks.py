"""Celery entry points of the webhooks app: thin, they take ids and call services.

Every task is idempotent and re-checks row state (a claim only succeeds on a pending, due,
unleased row), so a message delivered twice (acks_late after a worker died) sends nothing twice
that the database says was already sent. Sending tasks return as soon as their deliveries are
handed to the process's sender: no task waits for a receiver.
"""

import logging
from datetime import timedelta

from celery import shared_task
from celery.signals import worker_process_shutdown
from django.utils import timezone

from webhooks import conf
from webhooks.delivery import deliveries_dispatch, deliveries_dispatch_due, deliveries_dispatch_ids, engine_shutdown
from webhooks.ephemeral import ephemeral_deliver, parse_created_at
from webhooks.fanout import events_fan_out, fan_out_wake_release
from webhooks.jobs import job_tenant
from webhooks.models import Delivery, Event

logger = logging.getLogger(__name__)

TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(name="webhooks.fan_out_event", **TASK_OPTIONS)
def fan_out_event(event_id: str | None, second_look: bool = False) -> None:
    """Fan out waiting events, oldest first, and hand their deliveries to the sender.

    `event_id` is the event whose commit sent this message (its tenant hears of a failure, see
    `_fan_out_tenant`); it is among the oldest waiting, or a full batch wakes another task for it.
    `second_look` is accepted for messages queued by an older release, which scheduled one."""
    # Before looking: an event committed from here on sends its own wake-up.
    fan_out_wake_release()
    deliveries_dispatch(deliveries=events_fan_out(wake_when_full=True))


@shared_task(name="webhooks.deliver", **TASK_OPTIONS)
def deliver(delivery_ids: list[int]) -> None:
    deliveries_dispatch_ids(delivery_ids=delivery_ids)


@shared_task(name="webhooks.deliver_ephemeral", ignore_result=True)
def deliver_ephemeral(tenant_id: int, event_id: str, type: str, data: dict, created_at: str) -> None:
    # Best effort by design: no acks_late, a lost message is a dropped level reading.
    ephemeral_deliver(tenant_id=tenant_id, event_id=event_id, type=type, data=data,
                      created_at=parse_created_at(created_at))


@shared_task(name="webhooks.sweep", **TASK_OPTIONS)
def sweep() -> None:
    """Beat: fan out events whose fan-out message was lost, probe open circuits, send due or abandoned
    deliveries (as many as this process has room for)."""
    cutoff = timezone.now() - timedelta(seconds=conf.get("WEBHOOKS_SWEEP_GRACE"))
    waiting = Event.objects.filter(fanned_out_at__isnull=True, created_at__lte=cutoff)
    for _ in range(20):  # bounded: a larger backlog waits for the next sweep (or another worker's)
        if not waiting.exists():
            break
        # Events without subscribers create no deliveries, so the loop asks the table, not the result.
        deliveries_dispatch(deliveries=events_fan_out(older_than=cutoff))
    deliveries_dispatch_due()


@worker_process_shutdown.connect(dispatch_uid="webhooks.tasks.worker_process_shutdown")
def _finish_sends(**kwargs) -> None:
    """A pool process is stopping: what it has in flight is finished and recorded, not sent again later."""
    try:
        engine_shutdown()
    except Exception:
        logger.exception("webhook sender shutdown failed; leases will lapse and the sweep resends")


@job_tenant("webhooks.fan_out_event")
def _fan_out_tenant(args: tuple, kwargs: dict) -> int | None:
    event_id = kwargs.get("event_id", args[0] if args else None)
    return Event.objects.filter(pk=event_id).values_list("tenant_id", flat=True).first()


@job_tenant("webhooks.deliver")
def _deliver_tenant(args: tuple, kwargs: dict) -> int | None:
    ids = kwargs.get("delivery_ids", args[0] if args else [])
    return Delivery.objects.filter(pk__in=ids[:1]).values_list("tenant_id", flat=True).first()


@job_tenant("webhooks.deliver_ephemeral")
def _ephemeral_tenant(args: tuple, kwargs: dict) -> int | None:
    return kwargs.get("tenant_id", args[0] if args else None)
