"""Latest value wins: which ephemeral event of a (tenant, type) is the newest one emitted.

Set at emit time, read when the event's task runs: a task whose event is no longer the latest
skips it, because a newer value is already queued behind it. A shared cache key, so it holds
across worker processes; losing it (cache down) only costs a stale value sent.
"""

import logging
import math

from django.core.cache import cache

from webhooks import conf

logger = logging.getLogger(__name__)


def _latest_key(tenant_id: int, type: str) -> str:
    return f"webhooks:eph:latest:{tenant_id}:{type}"


def ephemeral_ttl() -> float:
    return float(conf.get("WEBHOOKS_EPHEMERAL_TTL"))


def ephemeral_mark_latest(*, tenant_id: int, type: str, event_id: str) -> None:
    """Make `event_id` the newest of its kind: anything of the type emitted before it is skipped."""
    try:
        cache.set(_latest_key(tenant_id, type), event_id, timeout=math.ceil(ephemeral_ttl()) + 1)
    except Exception:
        logger.debug("ephemeral coalescing unavailable", exc_info=True)


def ephemeral_superseded(*, tenant_id: int, type: str, event_id: str) -> bool:
    """Whether a newer event of the type was emitted after `event_id` (ids sort by time)."""
    try:
        latest = cache.get(_latest_key(tenant_id, type))
    except Exception:
        return False
    return bool(latest) and latest > event_id
