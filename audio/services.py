"""Listening sessions: start/stop (the API and the sampler command), level publishing, statistics."""

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, FloatField, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from accounts.models import Tenant
from audio.meter import Reading, dbfs_to_amplitude
from audio.models import ListeningSession
from core.ids import new_message_id
from webhooks.ephemeral import EphemeralStream, ephemeral_mark_latest
from webhooks.events import emit
from webhooks.fanout import endpoints_subscribed

logger = logging.getLogger(__name__)

LEVEL_CACHE_TTL_S = 5  # a level older than this is not "current" any more
AUDIENCE_RECHECK_S = 1.0  # how long a sampler trusts "does an endpoint receive audio.level, is a meter open?"
METER_WATCH_S = 5  # a meter page that polled within this long is still watching
LEVEL_CLOSED_TTL_S = 3600  # how long a stopped session's "no more levels" mark outlives the stop


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _status_data(session: ListeningSession) -> dict:
    return {"isListening": session.is_listening, "sessionId": session.session_id, "status": session.status}


# --- Selectors -----------------------------------------------------------------


def listening_active(*, tenant: Tenant) -> ListeningSession | None:
    return ListeningSession.objects.filter(tenant=tenant, status=ListeningSession.Status.ACTIVE).first()


def listening_is_active(*, session_pk: int) -> bool:
    return ListeningSession.objects.filter(pk=session_pk, status=ListeningSession.Status.ACTIVE).exists()


def _level_key(tenant_id: int) -> str:
    return f"audio:level:{tenant_id}"


def _watch_key(tenant_id: int) -> str:
    return f"audio:meter-watched:{tenant_id}"


def _closed_key(session_id: str) -> str:
    return f"audio:level-closed:{session_id}"


def level_stream_closed(*, session_id: str) -> bool:
    """Whether the session was stopped: its sampler must emit no further level (see `level_stream_close`)."""
    try:
        return bool(cache.get(_closed_key(session_id)))
    except Exception:  # no cache: the sampler learns of the stop from the database instead
        return False


def meter_watched(*, tenant_id: int) -> bool:
    """Whether a meter page asked for this tenant's level lately (see `level_latest`)."""
    return bool(cache.get(_watch_key(tenant_id)))


def level_latest(*, tenant: Tenant) -> dict:
    """The latest tick of the tenant's active session (what the meter page shows).

    Asking marks the meter as watched for METER_WATCH_S: a sampler writes the level for the page only
    while one is (`cache.add` writes the mark once per period, not on every poll).
    """
    cache.add(_watch_key(tenant.pk), 1, METER_WATCH_S)
    session = listening_active(tenant=tenant)
    latest = cache.get(_level_key(tenant.pk)) if session else None
    if latest and latest.get("sessionId") != session.session_id:
        latest = None  # a stale value from an earlier session
    return {"isListening": session is not None, "sessionId": session.session_id if session else None,
            "level": latest}


# --- Services --------------------------------------------------------------------


@dataclass
class StartResult:
    session: ListeningSession
    created: bool


def listening_start(*, tenant: Tenant, started_by: str = "api", source: str = "") -> StartResult:
    """Start listening for `tenant`, or return its session if it is already listening.

    Race-safe: the partial unique constraint allows one active session per tenant; a
    concurrent start loses the insert and gets the winner's session.
    """
    existing = listening_active(tenant=tenant)
    if existing is not None:
        return StartResult(existing, False)
    try:
        with transaction.atomic():
            session = ListeningSession.objects.create(
                tenant=tenant, session_id=str(uuid.uuid4()), started_by=started_by, source=source[:300],
                started_at=timezone.now(),
            )
            emit("listening.status", _status_data(session), tenant=tenant)
    except IntegrityError:
        return StartResult(listening_active(tenant=tenant), False)
    return StartResult(session, True)


def level_stream_close(*, tenant_id: int, session_id: str) -> None:
    """End a session's level stream before its "stopped" status goes out.

    A level may still be queued (or, when the API stops a session, be emitted by a sampler in another
    process that has not noticed yet) when "stopped" is announced; the audio frontend would then show a
    level after "stopped". Marking a newer id as the latest `audio.level` makes every queued level
    superseded, and the mark in the cache tells the session's sampler to emit no more.
    """
    try:
        cache.set(_closed_key(session_id), 1, LEVEL_CLOSED_TTL_S)
    except Exception:
        logger.warning("could not mark the level stream of a stopped session closed", exc_info=True)
    # An id one millisecond ahead sorts after every level emitted until now, whatever its random part.
    ahead = new_message_id(now_ms=int(time.time() * 1000) + 1)
    ephemeral_mark_latest(tenant_id=tenant_id, type="audio.level", event_id=ahead)


def listening_stop(*, tenant: Tenant, session_id: str | None = None, error: str = "") -> ListeningSession | None:
    """Stop the tenant's active session (status `error` when `error` is given); None if none was active.

    The session's levels end before "stopped" is sent: on commit, the level stream is closed first
    (callbacks run in the order they were registered), then the status event's fan-out is scheduled.
    """
    with transaction.atomic():
        qs = ListeningSession.objects.select_for_update().filter(tenant=tenant, status=ListeningSession.Status.ACTIVE)
        if session_id:
            qs = qs.filter(session_id=session_id)
        session = qs.first()
        if session is None:
            return None
        session.status = ListeningSession.Status.ERROR if error else ListeningSession.Status.STOPPED
        session.error = error[:500]
        session.stopped_at = timezone.now()
        session.save(update_fields=["status", "error", "stopped_at"])
        transaction.on_commit(lambda: level_stream_close(tenant_id=tenant.pk, session_id=session.session_id))
        emit("listening.status", _status_data(session), tenant=tenant)
    cache.delete(_level_key(tenant.pk))
    return session


def listening_set_source(*, session: ListeningSession, source: str) -> None:
    ListeningSession.objects.filter(pk=session.pk).update(source=source[:300])


def level_endpoints(*, tenant: Tenant) -> list:
    """The tenant's live endpoints that receive `audio.level` (wildcards included), oldest first."""
    return sorted(endpoints_subscribed(tenant_id=tenant.pk, event_type="audio.level"), key=lambda e: e.pk)


def level_publish(*, session: ListeningSession, reading: Reading, at: datetime | None = None,
                  emit_event: bool = True, cache_level: bool = True, stream: EphemeralStream | None = None) -> dict:
    """Announce one tick: `audio.level` (ephemeral; unless `emit_event` is False) and the cached latest
    level for the meter page (unless `cache_level` is False).

    With a `stream` (the sampler's) the level is sent from this process to the stream's subscribers, in
    order and without a task message per tick; without, it is emitted for a worker to send."""
    at = at or timezone.now()
    data = {
        "audioLevel": reading.level, "timestamp": _iso(at), "sessionId": session.session_id,
        "rmsDbfs": reading.rms_dbfs, "peakDbfs": reading.peak_dbfs, "clip": reading.clip,
    }
    if cache_level:
        try:
            cache.set(_level_key(session.tenant_id), data, LEVEL_CACHE_TTL_S)
        except Exception:  # the meter page goes stale; the sampler goes on
            logger.warning("could not cache the audio level", exc_info=True)
    if emit_event and stream is not None:
        stream.send(data)
    elif emit_event:
        emit("audio.level", data, tenant=session.tenant)
    return data


class LevelPublisher:
    """Publishes one session's ticks: `audio.level` only while an endpoint receives it, the meter's
    cached level only while a meter page is open.

    Both are asked at most once a second: on a meter nobody subscribes to or watches, the task message
    and the cache write ten times a second were most of the sampler's CPU (on the embedded install a
    file written and renamed per tick). An endpoint created, or a meter opened, while sampling gets
    levels within a second. The levels go out from this process through an `EphemeralStream`; `close()`
    it before the session's "stopped" is announced.
    """

    def __init__(self, session: ListeningSession, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.session = session
        self.clock = clock
        self.closed = False  # the session was stopped: no level may follow its "stopped"
        self.stream = EphemeralStream(tenant_id=session.tenant_id, type="audio.level")
        self._checked_at: float | None = None
        self._subscribed = False
        self._watched = False

    def publish(self, reading: Reading, at: datetime | None = None) -> dict | None:
        """Publish one tick; None once the session was stopped (checked on every tick: a level emitted
        after "stopped" is one the frontend shows after it, and `closed` is how the command learns of a
        stop through the API without asking the database ten times a second)."""
        now = self.clock()
        if self._checked_at is None or now - self._checked_at >= AUDIENCE_RECHECK_S:
            endpoints = level_endpoints(tenant=self.session.tenant)
            self.stream.subscribe(endpoints)
            self._subscribed = bool(endpoints)
            self._watched = meter_watched(tenant_id=self.session.tenant_id)
            self._checked_at = now
        if self.closed:
            return None
        if level_stream_closed(session_id=self.session.session_id):
            self.closed = True
            self.stream.close(timeout=0)  # "stopped" is on its way already: drop what still waits
            # A level this sampler emitted just after the stop's mark would be the latest: mark again.
            level_stream_close(tenant_id=self.session.tenant_id, session_id=self.session.session_id)
            return None
        return level_publish(session=self.session, reading=reading, at=at, emit_event=self._subscribed,
                             cache_level=self._watched, stream=self.stream)

    def close(self, timeout: float = 1.0) -> None:
        """No level from now on; a level in flight gets up to `timeout` to arrive (before "stopped" does)."""
        self.stream.close(timeout)


class SessionStats:
    """Level statistics gathered tick by tick and written every few seconds (not ten times a second)."""

    def __init__(self, session: ListeningSession) -> None:
        self.session = session
        self._reset()

    def _reset(self) -> None:
        self.ticks = 0
        self.power_sum = 0.0
        self.max_rms: float | None = None
        self.max_peak: float | None = None
        self.clips = 0
        self.last_at: datetime | None = None

    def add(self, reading: Reading, at: datetime) -> None:
        self.ticks += 1
        self.power_sum += dbfs_to_amplitude(reading.rms_dbfs) ** 2
        self.max_rms = reading.rms_dbfs if self.max_rms is None else max(self.max_rms, reading.rms_dbfs)
        self.max_peak = reading.peak_dbfs if self.max_peak is None else max(self.max_peak, reading.peak_dbfs)
        self.clips += reading.clip
        self.last_at = at

    def flush(self) -> None:
        if not self.ticks:
            return

        def greatest(field: str, value: float):
            v = Value(value, output_field=FloatField())
            return Greatest(Coalesce(F(field), v), v)

        # F() expressions: the API may be stopping the session concurrently; never overwrite it.
        ListeningSession.objects.filter(pk=self.session.pk).update(
            tick_count=F("tick_count") + self.ticks, rms_power_sum=F("rms_power_sum") + self.power_sum,
            max_rms_dbfs=greatest("max_rms_dbfs", self.max_rms), max_peak_dbfs=greatest("max_peak_dbfs", self.max_peak),
            clip_count=F("clip_count") + self.clips, last_tick_at=self.last_at,
        )
        self._reset()
