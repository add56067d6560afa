"""Per-source rate limit: a fixed window counted in the shared cache (Redis in production).

Only the first request over the limit in a window emits `api_limit.reached`: the cache's
atomic increment hands out the count `limit + 1` exactly once per window.
"""

import logging
import math
import time

from django.core.cache import cache

from webhooks.events import emit
from webhooks.inbound import conf
from webhooks.inbound.models import InboundSource
from webhooks.shared_cache import redis_backend, redis_client
from webhooks.signing import format_timestamp

logger = logging.getLogger(__name__)


def _increment(key: str, timeout: int) -> int:
    backend = redis_backend()
    if backend is not None:
        # One round trip (Django's incr() asks EXISTS first). Each window has its own key,
        # so refreshing the expiry on every hit only keeps a finished window a little longer.
        full_key = backend.make_and_validate_key(key)
        pipe = redis_client(backend).pipeline(transaction=False)
        pipe.incr(full_key)
        pipe.expire(full_key, timeout)
        return int(pipe.execute()[0])
    try:
        return cache.incr(key)
    except ValueError:  # first hit of the window
        if cache.add(key, 1, timeout):
            return 1
        return cache.incr(key)


def throttle_check(source: InboundSource, now: float | None = None) -> int | None:
    """Count one request of `source`; the seconds to wait (for `Retry-After`) when over its limit, else None."""
    limit = source.rate_limit or conf.get("WEBHOOKS_INBOUND_RATE_LIMIT")
    window = max(1, int(conf.get("WEBHOOKS_INBOUND_RATE_WINDOW")))
    now = time.time() if now is None else now
    window_start = int(now // window) * window
    try:
        # The key hash keeps counters of a re-created source (same pk in a fresh database) apart.
        count = _increment(f"inbound:rl:{source.pk}:{source.key_hash[:8]}:{window_start}", timeout=window + 5)
    except Exception:  # the cache is down: let senders through rather than refuse everything
        logger.warning("inbound throttle unavailable; not limiting source %s", source.pk, exc_info=True)
        return None
    if count <= limit:
        return None
    reset_at = window_start + window
    if count == limit + 1:
        from datetime import UTC, datetime

        emit(
            "api_limit.reached",
            {"limit_type": "inbound_requests", "source_id": source.pk, "limit_value": limit,
             "window_seconds": window, "reset_at": format_timestamp(datetime.fromtimestamp(reset_at, UTC))},
            tenant=source.tenant,
        )
    return max(1, math.ceil(reset_at - now))
