"""Ephemeral events (`audio.level`, ten a second): sent once, best effort, latest value wins.

No Delivery or Attempt rows and no retries. An event older than WEBHOOKS_EPHEMERAL_TTL is
dropped. Two rules keep a slow endpoint from building a backlog:
- a task whose event is no longer the latest of its (tenant, type) skips it (`webhooks.coalesce`);
- while a send to an endpoint is in flight, a newer value is parked (overwriting any older parked
  one) and sent when the slow send ends. Parking is per worker process, where the send runs.
Sends go through the process's sender, so a slow endpoint never holds the task that emitted them.
"""

import logging
import threading
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.ids import new_message_id
from webhooks import conf, http, sender
from webhooks.coalesce import ephemeral_mark_latest, ephemeral_superseded, ephemeral_ttl
from webhooks.fanout import endpoints_subscribed
from webhooks.models import Endpoint, Event
from webhooks.ssrf import UnsafeTargetURL

logger = logging.getLogger(__name__)

__all__ = ["ephemeral_deliver", "ephemeral_mark_latest", "ephemeral_send", "parse_created_at"]

# (endpoint id, type) → None while a send is in flight, or the newer event parked behind it.
_in_flight: dict[tuple[int, str], Event | None] = {}
_lock = threading.Lock()


def ephemeral_deliver(*, tenant_id: int, event_id: str, type: str, data: dict, created_at: datetime,
                      now: datetime | None = None) -> int:
    """Hand one ephemeral event to the sender for each subscriber; returns how many sends were started."""
    now = now or timezone.now()
    if _stale(created_at, now) or ephemeral_superseded(tenant_id=tenant_id, type=type, event_id=event_id):
        return 0
    event = Event(id=event_id, tenant_id=tenant_id, type=type, data=data, created_at=created_at)
    return sum(_send_latest(endpoint, event) for endpoint in endpoints_subscribed(tenant_id=tenant_id, event_type=type))


def ephemeral_send(*, tenant_id: int, type: str, data: dict, endpoints: list[Endpoint] | None = None) -> Event:
    """Send an ephemeral event from this process, without a task: for a producer that runs on its own
    (the audio sampler, ten values a second), where a broker message per value costs more than the
    sends themselves, and the queue it would go through could be the wrong one.

    `endpoints`: the subscribers, when the caller already knows them (it asks about once a second).
    """
    event = Event(id=new_message_id(), tenant_id=tenant_id, type=type, data=data, created_at=timezone.now())
    if endpoints is None:
        endpoints = endpoints_subscribed(tenant_id=tenant_id, event_type=type)
    for endpoint in endpoints:
        _send_latest(endpoint, event)
    return event


def _stale(created_at: datetime, now: datetime) -> bool:
    return now - created_at > timedelta(seconds=ephemeral_ttl())


def _send_latest(endpoint: Endpoint, event: Event) -> int:
    key = (endpoint.pk, event.type)
    with _lock:
        if key in _in_flight:
            _in_flight[key] = event  # the newest arrival replaces whatever was parked
            return 0
        _in_flight[key] = None
    if _submit(endpoint, event):
        return 1
    with _lock:
        _in_flight.pop(key, None)
    return 0


def _submit(endpoint: Endpoint, event: Event) -> bool:
    try:
        target = http.vetted(endpoint.url)
    except UnsafeTargetURL as exc:
        logger.info("ephemeral %s to endpoint %s refused: %s", event.type, endpoint.pk, exc)
        return False
    ttl = ephemeral_ttl()
    sender.get().submit([sender.Job(
        endpoint=endpoint, event=event, target=target, on_done=_sent, timeout=ttl,
        connect_timeout=min(ttl, conf.get("WEBHOOKS_CONNECT_TIMEOUT")),
    )])
    return True


def _sent(job: sender.Job) -> None:
    """On the sender's loop: log a failure, then send what was parked behind this one, if still fresh."""
    response = job.response
    if response is not None and (response.status is None or not 200 <= response.status < 300):
        logger.debug("ephemeral %s %s to endpoint %s: %s", job.event.type, job.event.id, job.endpoint.pk,
                     response.error or response.status)
    key = (job.endpoint.pk, job.event.type)
    with _lock:
        parked = _in_flight.get(key)
        if parked is None or _stale(parked.created_at, timezone.now()):
            _in_flight.pop(key, None)
            return
        _in_flight[key] = None
    if ephemeral_superseded(tenant_id=parked.tenant_id, type=parked.type, event_id=parked.id):
        with _lock:  # e.g. the listening session stopped while this value was parked
            _in_flight.pop(key, None)
        return
    # The target was vetted when the first value was handed in, seconds ago: no DNS on the loop.
    sender.get().submit([sender.Job(endpoint=job.endpoint, event=parked, target=job.target, on_done=_sent,
                                    timeout=job.timeout, connect_timeout=job.connect_timeout)])


def parse_created_at(value: str) -> datetime:
    moment = parse_datetime(value)
    if moment is None:
        raise ValueError(f"bad created_at {value!r}")
    return moment
