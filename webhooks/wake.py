"""Wake-up flags: one Celery task for a burst of work items, instead of a task message per item.

A Celery publish costs about a millisecond of CPU (kombu builds a Redis client per message),
more than the rest of an ingest request. When one task can take every item waiting (events to
fan out, RealCast messages to process), a flag per queue on Redis says "a task for this work is
queued and has not started"; while it stands, producers send nothing. The task clears the flag
*before* it looks for waiting items, so an item committed before the clearing is found by that
look, and one committed after it sends a task of its own. The flag expires after `seconds` in
case its task is lost; each kind of work keeps a beat sweep as the backstop.

Off Redis (the embedded broker of `make run`) every claim succeeds: a task per item, as before.
"""

from django.conf import settings
from django.core.cache.backends.redis import RedisCache

from webhooks.shared_cache import redis_backend, redis_client


def _flag(work: str) -> tuple[RedisCache | None, str]:
    return redis_backend(), f"webhooks:{work}-wake:{settings.CELERY_TASK_DEFAULT_QUEUE}"


def wake_claim(work: str, *, seconds: int) -> bool:
    """Whether the caller should send a task for `work` (none is queued yet). Always, off Redis."""
    backend, key = _flag(work)
    if backend is None:
        return True
    # SET NX EX on a kept client: what `backend.add()` sends, without a new client per item.
    return bool(redis_client(backend).set(backend.make_and_validate_key(key), 1, nx=True, ex=seconds))


def wake_release(work: str) -> None:
    """Called by the task as it starts, before it looks for waiting items."""
    backend, key = _flag(work)
    if backend is not None:
        backend.delete(key)
