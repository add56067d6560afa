"""The messages the engine sends to wake a worker, sent by task name.

By name (Celery's `send_task`) rather than by importing `webhooks.tasks`, so that the modules the
tasks call (events, fan-out, delivery) never import the tasks back: the engine's imports go one
way, tasks → fan-out → delivery → events → here. Every message only wakes a worker: the rows in
the database are the work, and the beat sweep finds them when a message is lost.
"""

import logging

from celery import current_app
from django.db import transaction

from webhooks import conf
from webhooks.wake import wake

logger = logging.getLogger(__name__)

FAN_OUT = "fan-out"  # the wake-up flag's name (webhooks/wake.py)


def fan_out_soon(event_id: str | None) -> None:
    """Ask for a fan-out task unless one is queued already (it will find this event); never raises."""
    wake(FAN_OUT, lambda: current_app.send_task("webhooks.fan_out_event", args=(event_id,)),
         seconds=conf.get("WEBHOOKS_FAN_OUT_WAKE_SECONDS"))


def deliver_after_commit(delivery_ids: list[int], *, countdown: float | None = None) -> None:
    """Ask a worker to send these deliveries soon (after the current transaction commits)."""
    if not delivery_ids:
        return
    batch = conf.get("WEBHOOKS_BATCH_SIZE")
    chunks = [list(delivery_ids[i:i + batch]) for i in range(0, len(delivery_ids), batch)]

    def send() -> None:
        for chunk in chunks:
            try:
                current_app.send_task("webhooks.deliver", args=(chunk,), countdown=countdown)
            except Exception:
                logger.warning("could not enqueue deliveries %s; the sweep will send them", chunk[:5], exc_info=True)

    transaction.on_commit(send)


def ephemeral_soon(*, tenant_id: int, event_id: str, type: str, data: dict, created_at: str) -> None:
    current_app.send_task("webhooks.deliver_ephemeral", args=(tenant_id, event_id, type, data, created_at))
