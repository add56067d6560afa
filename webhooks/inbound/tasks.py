"""Celery entry points for inbound messages: they take ids, re-fetch, and call services."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from webhooks.inbound import conf
from webhooks.inbound.services import message_process, stale_received

logger = logging.getLogger(__name__)


@shared_task(
    name="webhooks_inbound.process_message",
    autoretry_for=(OperationalError, InterfaceError), retry_backoff=2, max_retries=5,
)
def process_inbound_message(message_pk: int) -> None:
    """Run the handler of an asynchronously received message (no-op if it was already handled)."""
    message_process(message_pk=message_pk)


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
