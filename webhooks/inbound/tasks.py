"""Celery entry points for inbound messages: they take ids, re-fetch, and call services."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from webhooks.inbound import conf
from webhooks.inbound.services import message_process, messages_process_received, stale_received
from webhooks.wake import wake, wake_release

logger = logging.getLogger(__name__)


@shared_task(
    name="webhooks_inbound.process_message",
    autoretry_for=(OperationalError, InterfaceError), retry_backoff=2, max_retries=5,
)
def process_inbound_message(message_pk: int) -> None:
    """Run the handler of an asynchronously received message (no-op if it was already handled)."""
    message_process(message_pk=message_pk)


RECEIVED = "inbound-received"  # the wake-up flag's name (webhooks/wake.py)


def received_wake() -> None:
    """After an asynchronous message is stored: make sure a processing task will look for it soon.

    One task message for a burst of RealCast events, not one each (webhooks/wake.py). If the broker
    is down, the sweep finds the message.
    """
    wake(RECEIVED, process_received_messages.delay, seconds=conf.get("WEBHOOKS_INBOUND_WAKE_SECONDS"))


@shared_task(
    name="webhooks_inbound.process_received", acks_late=True, reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError), retry_backoff=2, max_retries=5,
)
def process_received_messages(second_look: bool = False) -> int:
    """Process a batch of the messages waiting in `received` (woken by `received_wake`).
    `second_look` is accepted for messages queued by an older release, which scheduled one."""
    # Before looking: a message stored from here on wakes a task of its own.
    wake_release(RECEIVED)
    limit = max(1, conf.get("WEBHOOKS_INBOUND_BATCH_SIZE"))
    seen = messages_process_received(limit=limit)
    if seen >= limit:
        # A full batch may have left messages waiting: another task (on any worker) takes the rest,
        # unless a message stored meanwhile has already queued one.
        received_wake()
    return seen


@shared_task(name="webhooks_inbound.sweep_received")
def sweep_received_messages() -> int:
    """Re-enqueue async messages whose task was lost (broker down when they arrived)."""
    count = 0
    for pk in stale_received(conf.get("WEBHOOKS_INBOUND_STALE_AFTER")):
        process_inbound_message.delay(pk)
        count += 1
    if count:
        logger.info("re-enqueued %d inbound message(s) left in 'received'", count)
    return count
