"""Per-endpoint delivery rate limit, shared by every worker process through the Django cache.

A fixed window of `max(1 s, 1/rate)` holds `rate * window` sends; the counter is a cache key
per (endpoint, window), so Redis (production, CI) or the file cache (embedded mode) makes
the limit hold across processes. The file cache's increment is not atomic, so there the
limit is approximate under contention; Redis's INCR is exact.
"""

import logging
import math
import time

from django.core.cache import cache

logger = logging.getLogger(__name__)


def acquire(endpoint_id: int, rate: float, *, now: float | None = None) -> float:
    """Take one send from `endpoint_id`'s allowance: 0 when it may go now, else seconds to wait."""
    if not rate or rate <= 0:
        return 0.0
    now = time.time() if now is None else now
    window = max(1.0, 1.0 / rate)
    allowance = max(1, math.floor(rate * window))
    slot = int(now // window)
    key = f"webhooks:rl:{endpoint_id}:{slot}"
    try:
        cache.add(key, 0, timeout=int(window) + 2)
        used = cache.incr(key)
    except Exception:
        # The cache is down (Redis restarting): sending beats stalling every endpoint.
        logger.warning("rate limiter unavailable; endpoint %s not limited", endpoint_id, exc_info=True)
        return 0.0
    if used <= allowance:
        return 0.0
    # Queue behind the ones already over the limit, so they don't all return at once.
    excess = used - allowance - 1
    return (slot + 1) * window - now + excess / rate
