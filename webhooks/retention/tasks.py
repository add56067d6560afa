"""Celery entry point of the purge (scheduled by beat: CELERY_BEAT_SCHEDULE["webhooks-purge-expired"])."""

import logging
import time

from celery import shared_task
from django.conf import settings

from webhooks.retention.services import expired_purge

logger = logging.getLogger(__name__)


@shared_task(name="webhooks_retention.purge_expired")
def purge_expired() -> dict:
    """Purge until done or until most of the task's soft time limit is spent: a large backlog (the first
    purge of an old install) is worked off by the next runs, each batch committed, none interrupted."""
    deadline = time.monotonic() + settings.CELERY_TASK_SOFT_TIME_LIMIT * 0.75
    count = expired_purge(should_stop=lambda: time.monotonic() > deadline)
    if count:
        logger.info("purged %s", count)
    return vars(count)
