"""Ephemeral events (`audio.level`, ten a second): sent once, best effort, latest value wins.

No Delivery or Attempt rows and no retries. An event older than WEBHOOKS_EPHEMERAL_TTL is
dropped. Two cache keys keep a slow endpoint from building a backlog:
- `latest` per (tenant, type), set at emit time: a task whose event is no longer the latest
  skips it, because a newer value is already queued behind it;
- `busy` per (endpoint, type) while a send is in flight: a newer value arriving meanwhile is
  parked in `pending` (overwriting any older parked one) and sent when the slow send ends.
"""

import logging
import math
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from webhooks import conf, http
from webhooks.delivery import build_request
from webhooks.fanout import endpoints_subscribed
from webhooks.models import Endpoint, Event
from webhooks.ssrf import UnsafeTargetURL

logger = logging.getLogger(__name__)


def _latest_key(tenant_id: int, type: str) -> str:
    return f"webhooks:eph:latest:{tenant_id}:{type}"


def _ttl() -> float:
    return float(conf.get("WEBHOOKS_EPHEMERAL_TTL"))


def ephemeral_mark_latest(*, tenant_id: int, type: str, event_id: str) -> None:
    try:
        cache.set(_latest_key(tenant_id, type), event_id, timeout=math.ceil(_ttl()) + 1)
    except Exception:
        logger.debug("ephemeral coalescing unavailable", exc_info=True)


def ephemeral_deliver(*, tenant_id: int, event_id: str, type: str, data: dict, created_at: datetime,
                      now: datetime | None = None) -> int:
    """Send one ephemeral event to its subscribers; returns how many sends were made."""
    now = now or timezone.now()
    if _stale(created_at, now):
        return 0
    try:
        latest = cache.get(_latest_key(tenant_id, type))
    except Exception:
        latest = None
    if latest and latest > event_id:  # ids sort by time: a newer value is queued
        return 0
    event = Event(id=event_id, tenant_id=tenant_id, type=type, data=data, created_at=created_at)
    endpoints = endpoints_subscribed(tenant_id=tenant_id, event_type=type)
    if not endpoints:
        return 0
    from webhooks.delivery import _pool

    return sum(_pool().map(lambda endpoint: _send_latest(endpoint, event), endpoints))


def _stale(created_at: datetime, now: datetime) -> bool:
    return now - created_at > timedelta(seconds=_ttl())


def _send_latest(endpoint: Endpoint, event: Event) -> int:
    busy_key = f"webhooks:eph:busy:{endpoint.pk}:{event.type}"
    pending_key = f"webhooks:eph:pending:{endpoint.pk}:{event.type}"
    ttl = _ttl()
    try:
        if not cache.add(busy_key, event.id, timeout=math.ceil(ttl) + 1):
            cache.set(pending_key, {"id": event.id, "data": event.data,
                                    "created_at": event.created_at.isoformat()}, timeout=math.ceil(ttl))
            return 0
    except Exception:
        return _send(endpoint, event, ttl)  # no cache: send without coalescing
    sent = 0
    try:
        while event is not None:
            sent += _send(endpoint, event, ttl)
            event = _pop_pending(pending_key, event)
    finally:
        try:
            cache.delete(busy_key)
        except Exception:
            logger.debug("could not clear %s", busy_key, exc_info=True)
    return sent


def _pop_pending(pending_key: str, sent: Event) -> Event | None:
    try:
        parked = cache.get(pending_key)
        if parked is None:
            return None
        cache.delete(pending_key)
    except Exception:
        return None
    created_at = parse_datetime(parked["created_at"])
    if parked["id"] <= sent.id or _stale(created_at, timezone.now()):
        return None
    return Event(id=parked["id"], tenant_id=sent.tenant_id, type=sent.type, data=parked["data"],
                 created_at=created_at)


def _send(endpoint: Endpoint, event: Event, ttl: float) -> int:
    try:
        target = http.vetted(endpoint.url)
    except UnsafeTargetURL as exc:
        logger.info("ephemeral %s to endpoint %s refused: %s", event.type, endpoint.pk, exc)
        return 0
    body, headers = build_request(event=event, endpoint=endpoint, now=timezone.now())
    response = http.post(target, body, headers, connect_timeout=min(ttl, conf.get("WEBHOOKS_CONNECT_TIMEOUT")),
                         timeout=ttl)
    if response.status is None or not 200 <= response.status < 300:
        logger.debug("ephemeral %s %s to endpoint %s: %s", event.type, event.id, endpoint.pk,
                     response.error or response.status)
    return 1


def parse_created_at(value: str) -> datetime:
    moment = parse_datetime(value)
    if moment is None:
        raise ValueError(f"bad created_at {value!r}")
    return moment

