"""Ephemeral events (`audio.level`, ten a second): sent once, best effort, latest value wins.

No Delivery or Attempt rows and no retries. An event older than WEBHOOKS_EPHEMERAL_TTL is
dropped. Two rules keep a slow endpoint from building a backlog:
- a task whose event is no longer the latest of its (tenant, type) skips it (`webhooks.coalesce`);
- while a send to an endpoint is in flight, a newer value is parked (overwriting any older parked
  one) and sent when the slow send ends.

Two ways out, with those rules each:
- `ephemeral_deliver`, in a worker's task: sends go through the process's sender, so a slow endpoint
  never holds the task that emitted them. Parking is per worker process, where the send runs.
- `EphemeralStream`, in a producer that runs on its own (the audio sampler): no task message per value,
  and no queue that could be the wrong one. Each subscriber has a thread of its own with a kept-alive
  connection, and its one-value mailbox is the parking place.
"""

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.ids import new_message_id
from webhooks import conf, http, payloads, sender
from webhooks.coalesce import ephemeral_mark_latest, ephemeral_superseded, ephemeral_ttl
from webhooks.fanout import endpoints_subscribed
from webhooks.models import Endpoint, Event
from webhooks.ssrf import UnsafeTargetURL

logger = logging.getLogger(__name__)

__all__ = ["EphemeralStream", "ephemeral_deliver", "ephemeral_mark_latest", "parse_created_at"]

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


class EphemeralStream:
    """One producer's events of one ephemeral type, sent from its own process (the audio sampler's levels).

    `send()` only puts the event in each subscriber's mailbox, replacing one still waiting there, and
    wakes that subscriber's thread: a slow or dead subscriber holds its own thread, never the producer's
    tick or the other subscribers, and when it is free it gets the newest value, never a backlog. Each
    subscriber's values go out in the order they were sent. After `close()` nothing more goes out.
    Used from the producer's thread only.
    """

    def __init__(self, *, tenant_id: int, type: str) -> None:
        self.tenant_id = tenant_id
        self.type = type
        self.closed = False
        self.subscribers: dict[int, Subscriber] = {}

    def subscribe(self, endpoints: list[Endpoint]) -> None:
        """Send to `endpoints` from now on (the producer reads them about once a second): a new one gets
        a thread, a gone one loses it, an edited one is sent to as edited from its next value."""
        if self.closed:
            return
        wanted = {endpoint.pk: endpoint for endpoint in endpoints}
        for pk in self.subscribers.keys() - wanted.keys():
            self.subscribers.pop(pk).close()
        for pk, endpoint in wanted.items():
            if pk in self.subscribers:
                self.subscribers[pk].endpoint = endpoint
            else:
                self.subscribers[pk] = Subscriber(endpoint)

    def send(self, data: dict) -> Event | None:
        """Hand `data` to every subscriber as a new event; None (nothing sent) once closed."""
        if self.closed:
            return None
        event = Event(id=new_message_id(), tenant_id=self.tenant_id, type=self.type, data=data,
                      created_at=timezone.now())
        bodies: dict[tuple, bytes | None] = {}  # subscribers that get the same bytes share one encoding
        for subscriber in self.subscribers.values():
            endpoint = subscriber.endpoint
            key = payloads.body_key(endpoint)
            if key not in bodies:
                try:
                    bodies[key] = payloads.body_for(event=event, endpoint=endpoint)
                except Exception:  # a bug of ours (a template?): that subscriber misses this value, the tick goes on
                    logger.exception("encoding ephemeral %s for endpoint %s failed", self.type, endpoint.pk)
                    bodies[key] = None
            if bodies[key] is not None:
                subscriber.hand(Parcel(event, endpoint, bodies[key]))
        return event

    def close(self, timeout: float = 1.0) -> None:
        """Send nothing more. Values still waiting are dropped; a send in flight gets up to `timeout` to
        end, so that it arrives before what the producer announces next (a session's "stopped")."""
        self.closed = True
        subscribers, self.subscribers = list(self.subscribers.values()), {}
        for subscriber in subscribers:
            subscriber.close()
        deadline = time.monotonic() + timeout
        for subscriber in subscribers:
            subscriber.join(max(0.0, deadline - time.monotonic()))


@dataclass(frozen=True)
class Parcel:
    """One value for one subscriber: the event, the endpoint as read when it was sent, and its body."""

    event: Event
    endpoint: Endpoint
    body: bytes


class Subscriber:
    """One endpoint of an `EphemeralStream`: its thread, its one-value mailbox, its kept-alive connection."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint  # replaced by the producer's thread when the endpoint is read again
        # The mailbox and its flags, under a plain lock; the thread sleeps on `_wake`, which gets a token
        # each time a value finds the mailbox empty (and one for `close()`). Both are C calls, ten times a
        # second per subscriber, where a Condition runs its wait and notify in Python.
        self._lock = threading.Lock()
        self._wake: queue.SimpleQueue[None] = queue.SimpleQueue()
        self._waiting: Parcel | None = None
        self._parked = False  # the waiting value came while a send was in flight
        self._busy = False
        self._closed = False
        self._connection: http.VettedConnection | None = None
        self._secrets_of: Endpoint | None = None
        self._secrets: list[str] = []
        self._refused = ""
        self._thread = threading.Thread(target=self._run, name=f"ephemeral-endpoint-{endpoint.pk}", daemon=True)
        self._thread.start()

    def hand(self, parcel: Parcel) -> None:
        with self._lock:
            empty = self._waiting is None
            self._waiting = parcel  # the newest arrival replaces whatever was waiting
            self._parked = self._busy
        if empty:  # a value already waiting has its token in `_wake` still
            self._wake.put(None)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._waiting = None
        self._wake.put(None)

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            self._wake.get()
            with self._lock:
                if self._closed:
                    break
                parcel, parked = self._waiting, self._parked
                self._waiting, self._busy = None, parcel is not None
            if parcel is None:  # not expected (a token per value that found the mailbox empty); wait again
                continue
            try:
                self._deliver(parcel, parked)
            except Exception:  # a bug of ours: this value is lost, the next one is sent
                logger.exception("sending ephemeral %s to endpoint %s failed inside Streamhook", parcel.event.type,
                                 parcel.endpoint.pk)
            with self._lock:
                self._busy = False
        if self._connection is not None:
            self._connection.close()

    def _deliver(self, parcel: Parcel, parked: bool) -> None:
        event, endpoint = parcel.event, parcel.endpoint
        now = timezone.now()
        if _stale(event.created_at, now):
            return
        if parked and ephemeral_superseded(tenant_id=event.tenant_id, type=event.type, event_id=event.id):
            return  # e.g. the listening session stopped while this value waited
        try:
            target = http.vetted(endpoint.url)  # DNS, in this thread: never the producer's
        except UnsafeTargetURL as exc:
            if str(exc) != self._refused:  # once, not ten times a second
                logger.info("ephemeral %s to endpoint %s refused: %s", event.type, endpoint.pk, exc)
            self._refused = str(exc)
            return
        self._refused = ""
        body, headers = payloads.build_request(event=event, endpoint=endpoint, now=now, body=parcel.body,
                                               secrets=self._signing_secrets(endpoint, now))
        response = self._connection_to(target).post(body, headers)
        if response.status is None or not 200 <= response.status < 300:
            logger.debug("ephemeral %s %s to endpoint %s: %s", event.type, event.id, endpoint.pk,
                         response.error or response.status)

    def _signing_secrets(self, endpoint: Endpoint, now: datetime) -> list[str]:
        """Decrypted once per read of the endpoint (about once a second), not for every value."""
        expires = endpoint.previous_secret_expires_at
        if self._secrets_of is not endpoint or (len(self._secrets) > 1 and expires is not None and expires <= now):
            self._secrets_of, self._secrets = endpoint, endpoint.signing_secrets(now)
        return self._secrets

    def _connection_to(self, target: http.VettedTarget) -> http.VettedConnection:
        """The kept-alive connection, or a new one when the vetted target changed (a new URL or address)
        or the HTTP settings were reset."""
        connection = self._connection
        if connection is None or connection.target != target or connection.generation != http.generation():
            if connection is not None:
                connection.close()
            ttl = ephemeral_ttl()
            connection = self._connection = http.VettedConnection(
                target, connect_timeout=min(ttl, conf.get("WEBHOOKS_CONNECT_TIMEOUT")), timeout=ttl)
        return connection


def parse_created_at(value: str) -> datetime:
    moment = parse_datetime(value)
    if moment is None:
        raise ValueError(f"bad created_at {value!r}")
    return moment
