"""Per-source rate limit: a fixed window counted in the shared cache (Redis in production).

Each request takes the next number from its window's counter (one atomic INCR), and a number above
the limit is refused (429). Numbers are unique across processes, so no window lets more than
`limit` requests through. `api_limit.reached` is emitted once per window, by the first refused
request: it claims a per-window flag with the cache's atomic add (SET NX on Redis).
"""

import logging
import math
import time
from datetime import UTC, datetime

from django.core.cache import cache

from core.eventtime import format_timestamp
from webhooks.events import emit
from webhooks.inbound import conf
from webhooks.inbound.models import InboundSource

logger = logging.getLogger(__name__)


def _take_number(key: str, timeout: int) -> int:
    """This request's number in the window whose counter is `key`. Each window has its own key, so
    the expiry it gets when created is all it needs."""
    try:
        return cache.incr(key)
    except ValueError:  # the window's first request
        if cache.add(key, 1, timeout):
            return 1
        return cache.incr(key)


def throttle_check(source: InboundSource, now: float | None = None) -> int | None:
    """Count one request of `source`; the seconds to wait (for `Retry-After`) when over its limit, else None."""
    limit = source.rate_limit or conf.get("WEBHOOKS_INBOUND_RATE_LIMIT")
    window = max(1, int(conf.get("WEBHOOKS_INBOUND_RATE_WINDOW")))
    now = time.time() if now is None else now
    window_start = int(now // window) * window
    # The key hash keeps counters of a re-created source (same pk in a fresh database) apart.
    key = f"inbound:rl:{source.pk}:{source.key_hash[:8]}:{window_start}"
    try:
        if _take_number(key, timeout=window + 5) <= limit:
            return None
        reached = bool(cache.add(f"{key}:reached", 1, window + 5))
    except Exception:  # the cache is down: let senders through rather than refuse everything
        logger.warning("inbound throttle unavailable; not limiting source %s", source.pk, exc_info=True)
        return None
    reset_at = window_start + window
    if reached:
        emit(
            "api_limit.reached",
            {"limit_type": "inbound_requests", "source_id": source.pk, "limit_value": limit,
             "window_seconds": window, "reset_at": format_timestamp(datetime.fromtimestamp(reset_at, UTC))},
            tenant=source.tenant,
        )
    return max(1, math.ceil(reset_at - now))
