"""Celery entry point of the purge (scheduled by beat: CELERY_BEAT_SCHEDULE["webhooks-purge-expired"])."""

import logging

from celery import shared_task

from webhooks.retention.services import expired_purge

logger = logging.getLogger(__name__)


@shared_task(name="webhooks_retention.purge_expired")
def purge_expired() -> dict:
    count = expired_purge()
    if count:
        logger.info("purged %s", count)
    return vars(count)
