"""Per-source rate limit: a fixed window counted in the shared cache (Redis in production).

Each request takes a number from its window's counter, and a number above the limit is refused
(429). Under load a process takes several numbers in one round trip (`INCRBY n`) and hands them
out itself: the numbers stay unique across processes, so no window lets more than `limit`
requests through, and Redis is asked once per `n` requests instead of every time (a round trip
per request on the ingest path; docs/benchmarks.md, "The ingest path"). The price is some
precision at the limit: numbers a process took and didn't hand out by the window's end are lost,
so a source right at its limit may be refused a little early. `n` is 1 at the start of every
window and grows with the requests this process has seen in it, to at most 16 and never above
limit // 50: each process loses at most 2 % of the limit per window, and small limits are
counted exactly.

`api_limit.reached` is emitted once per window, by the first refused request: it claims a
per-window flag with the cache's atomic add (SET NX on Redis).
"""

import logging
import math
import threading
import time

from django.core.cache import cache

from core.eventtime import format_timestamp
from webhooks.events import emit
from webhooks.inbound import conf
from webhooks.inbound.models import InboundSource

logger = logging.getLogger(__name__)

MAX_LEASE = 16


class _Window:
    """This process's share of one source's current window."""

    __slots__ = ("handed_out", "last", "next", "reached_claimed", "start")

    def __init__(self, start: int):
        self.start, self.next, self.last, self.handed_out, self.reached_claimed = start, 1, 0, 0, False


_windows: dict[str, _Window] = {}  # counter key (without the window) → the window this process is in
_lock = threading.Lock()


def _increment(key: str, timeout: int, by: int) -> int:
    # On Redis, django-redis' incr is one atomic round trip. Each window has its own key, so the
    # expiry it gets when created is all it needs.
    try:
        return cache.incr(key, by)
    except ValueError:  # first hit of the window
        if cache.add(key, by, timeout):
            return by
        return cache.incr(key, by)


def _window(source_key: str, start: int) -> _Window:
    window = _windows.get(source_key)
    if window is None or window.start != start:
        window = _windows[source_key] = _Window(start)
    return window


def _take_number(source_key: str, window_start: int, limit: int, timeout: int) -> int:
    """This request's number in the window: from this process's lease, or from a new one."""
    with _lock:
        window = _window(source_key, window_start)
        if window.next <= window.last:
            window.next += 1
            window.handed_out += 1
            return window.next - 1
        lease = max(1, min(MAX_LEASE, limit // 50, window.handed_out // 8 + 1))
    top = _increment(f"{source_key}:{window_start}", timeout=timeout, by=lease)  # outside the lock: I/O
    with _lock:
        window = _window(source_key, window_start)
        if lease > 1 and window.next > window.last:  # (a thread that raced here keeps its own lease)
            window.next, window.last = top - lease + 2, top
        window.handed_out += 1
    return top - lease + 1


def _claim_reached(source_key: str, window_start: int, timeout: int) -> bool:
    """Whether this refused request is the window's first (across processes): it emits."""
    with _lock:
        window = _window(source_key, window_start)
        if window.reached_claimed:
            return False
        window.reached_claimed = True  # this process asks once per window
    return bool(cache.add(f"{source_key}:{window_start}:reached", 1, timeout))


def throttle_check(source: InboundSource, now: float | None = None) -> int | None:
    """Count one request of `source`; the seconds to wait (for `Retry-After`) when over its limit, else None."""
    limit = source.rate_limit or conf.get("WEBHOOKS_INBOUND_RATE_LIMIT")
    window = max(1, int(conf.get("WEBHOOKS_INBOUND_RATE_WINDOW")))
    now = time.time() if now is None else now
    window_start = int(now // window) * window
    # The key hash keeps counters of a re-created source (same pk in a fresh database) apart.
    source_key = f"inbound:rl:{source.pk}:{source.key_hash[:8]}"
    try:
        number = _take_number(source_key, window_start, limit, timeout=window + 5)
        if number <= limit:
            return None
        reached = _claim_reached(source_key, window_start, timeout=window + 5)
    except Exception:  # the cache is down: let senders through rather than refuse everything
        logger.warning("inbound throttle unavailable; not limiting source %s", source.pk, exc_info=True)
        return None
    reset_at = window_start + window
    if reached:
        from datetime import UTC, datetime

        emit(
            "api_limit.reached",
            {"limit_type": "inbound_requests", "source_id": source.pk, "limit_value": limit,
             "window_seconds": window, "reset_at": format_timestamp(datetime.fromtimestamp(reset_at, UTC))},
            tenant=source.tenant,
        )
    return max(1, math.ceil(reset_at - now))
