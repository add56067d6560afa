"""Wake-up flags: one Celery task for a burst of work items, instead of a task message per item.

A Celery publish costs about a millisecond of CPU (kombu builds a Redis client per message),
more than the rest of an ingest request. When one task can take every item waiting (events to
fan out, RealCast messages to process), a flag per queue on Redis says "a task for this work is
queued and has not started"; while it stands, producers send nothing. The task clears the flag
*before* it looks for waiting items, so an item committed before the clearing is found by that
look, and one committed after it sends a task of its own. The flag expires after `seconds` in
case its task is lost; each kind of work keeps a beat sweep as the backstop.

Under load even asking Redis is a cost per item (a round trip, ~5 % of an ingest request). A
producer may therefore trust a flag it saw standing less than `trust_seen_for` seconds ago and
ask nothing. The flag can have been cleared since, by a task that looked before this item was
committed; so a task whose work has trusting producers looks once more, `trust_seen_for` after
it cleared the flag (`released_with_second_look()`). Every item a trusting producer skipped was
committed before that second look: the producer saw the flag standing (so its task had not yet
cleared it) less than `trust_seen_for` before it decided to skip.

Off Redis (the embedded broker of `make run`) every claim succeeds: a task per item, as before.
"""

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import BaseCache, caches

from webhooks.shared_cache import on_redis

logger = logging.getLogger(__name__)

SECOND_LOOK_MARGIN = 0.01  # seconds past the trust window, for the scheduler's clock

_seen_standing: dict[str, float] = {}  # work → when this process last saw its flag standing (monotonic)


def _flag(work: str) -> tuple[BaseCache | None, str]:
    return caches["default"] if on_redis() else None, f"webhooks:{work}-wake:{settings.CELERY_TASK_DEFAULT_QUEUE}"


def wake_claim(work: str, *, seconds: int, trust_seen_for: float = 0.0) -> bool:
    """Whether the caller should send a task for `work` (none is queued yet). Always, off Redis.

    `trust_seen_for`: False without asking when this process saw the flag standing that recently
    (the work's task must then look again that long after its release, see the module's doc).
    """
    backend, key = _flag(work)
    if backend is None:
        return True
    now = time.monotonic()  # taken before asking: the flag stood at least from here
    if trust_seen_for and now - _seen_standing.get(work, -trust_seen_for) < trust_seen_for:
        return False
    claimed = bool(backend.add(key, 1, timeout=seconds))  # SET NX PX: one round trip
    _seen_standing[work] = now  # set by us or standing already: either way, its task hasn't cleared it
    return claimed


def wake(work: str, send: Callable[[], object], *, seconds: int, trust_seen_for: float = 0.0) -> None:
    """`send()` the work's task unless one is queued (`wake_claim`). Never raises: with the broker
    or Redis down, the work's beat sweep finds what this would have woken a task for."""
    try:
        if wake_claim(work, seconds=seconds, trust_seen_for=trust_seen_for):
            send()
    except Exception:
        logger.warning("could not wake a %s worker; the sweep will pick the work up", work, exc_info=True)


def wake_release(work: str) -> bool:
    """Called by the task as it starts, before it looks for waiting items. Whether there was a flag
    to clear (False off Redis, where every item sends its own task and nobody trusts a flag)."""
    _seen_standing.pop(work, None)
    backend, key = _flag(work)
    if backend is None:
        return False
    backend.delete(key)
    return True


def released_with_second_look(work: str, *, trust_seen_for: float, schedule: Callable[[float], object]) -> None:
    """For a woken task as it starts, before it looks: clear the flag (`wake_release`) and
    `schedule(countdown)` its second look, `trust_seen_for` from now, for items whose producers
    trusted the flag. Never raises: with the broker down, the work's sweep finds what the second
    look would have."""
    if not wake_release(work):
        return
    try:
        schedule(trust_seen_for + SECOND_LOOK_MARGIN)
    except Exception:
        logger.warning("could not schedule the %s task's second look; the sweep will find its work", work,
                       exc_info=True)
