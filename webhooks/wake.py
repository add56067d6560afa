"""Wake-up flags: one Celery task for a burst of work items, instead of a task message per item.

A Celery publish costs more CPU than the rest of an ingest request (docs/benchmarks.md, "The
ingest path"). When one task can take every item waiting (events to fan out, RealCast messages to
process), a flag per queue on Redis says "a task for this work is queued and has not started";
while it stands, producers send nothing. The task clears the flag *before* it looks for waiting
items, so an item committed before the clearing is found by that look, and one committed after it
sends a task of its own. The flag expires after `seconds` in case its task is lost; each kind of
work keeps a beat sweep as the backstop.

Every producer asks Redis (one SET NX round trip); nothing is remembered in the process.
Off Redis (the embedded broker of `make run`) every claim succeeds: a task per item.
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.cache import BaseCache, caches

from webhooks.shared_cache import on_redis

logger = logging.getLogger(__name__)


def _flag(work: str) -> tuple[BaseCache | None, str]:
    return caches["default"] if on_redis() else None, f"webhooks:{work}-wake:{settings.CELERY_TASK_DEFAULT_QUEUE}"


def wake_claim(work: str, *, seconds: int) -> bool:
    """Whether the caller should send a task for `work` (none is queued yet). Always, off Redis."""
    backend, key = _flag(work)
    if backend is None:
        return True
    return bool(backend.add(key, 1, timeout=seconds))  # SET NX: one round trip


def wake(work: str, send: Callable[[], object], *, seconds: int) -> None:
    """`send()` the work's task unless one is queued (`wake_claim`). Never raises: with the broker
    or Redis down, the work's beat sweep finds what this would have woken a task for."""
    try:
        if wake_claim(work, seconds=seconds):
            send()
    except Exception:
        logger.warning("could not wake a %s worker; the sweep will pick the work up", work, exc_info=True)


def wake_release(work: str) -> bool:
    """Called by the task as it starts, before it looks for waiting items. Whether there was a flag
    to clear (False off Redis, where every item sends its own task).

    Never raises: with Redis down the task still does its work, which needs only the database, and
    the flag expires on its own (a producer meanwhile sends nothing, and the sweep is the backstop).
    """
    backend, key = _flag(work)
    if backend is None:
        return False
    try:
        backend.delete(key)
    except Exception:
        logger.warning("could not clear the %s wake-up flag; it expires on its own", work, exc_info=True)
        return False
    return True
