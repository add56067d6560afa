"""Turning stream events into rows, and announcing them with `emit()`.

Senders retry, RealCast is processed by several workers at once, and an operator may replay
any inbound message, so every function here is idempotent and order-independent:

- the session row is locked (`select_for_update`) while an event is applied to it, so two
  workers never interleave on one session;
- each field group keeps the event time that set it, and only a newer event overwrites it
  (status ties are broken by a fixed rank, so "offline" and "live" at the same second
  always end offline);
- `started_at` is the earliest time seen, `ended_at` the latest end, peaks are maxima —
  all commutative, so any order of the same events gives the same row;
- plays, interactions, chat messages and errors are found by their domain key before they
  are created, and an event is emitted only when a row or a field really changed.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.models import Tenant
from core.eventtime import format_timestamp
from streams.models import ChatInteraction, ChatMessage, StreamError, StreamSession, TrackPlay, ViewerSample
from webhooks.events import emit

_FOREVER = datetime(9999, 12, 31, tzinfo=UTC)
_DAWN = datetime.min.replace(tzinfo=UTC)
_STATUS_RANK = {StreamSession.Status.LIVE: 0, StreamSession.Status.ERROR: 1, StreamSession.Status.OFFLINE: 2}


@dataclass(frozen=True)
class StreamInfo:
    """What a sender says about the stream alongside an event (the DJ stream assistant's `dj_stream`).
    None = not said."""

    platform: str | None = None
    dj_username: str | None = None
    title: str | None = None
    viewer_count: int | None = None


NO_INFO = StreamInfo()


# --- payloads -------------------------------------------------------------------------


def _ts(moment: datetime | None) -> str | None:
    return format_timestamp(moment) if moment else None


def session_data(session: StreamSession) -> dict:
    return {
        "session_id": session.session_id,
        "platform": session.platform,
        "dj_username": session.dj_username,
        "title": session.title,
        "status": session.status,
        "started_at": _ts(session.started_at),
        "ended_at": _ts(session.ended_at),
        "duration_seconds": session.duration_seconds,
        "current_viewers": session.current_viewers,
        "peak_viewers": session.peak_viewers,
    }


def track_data(play: TrackPlay, session: StreamSession) -> dict:
    return {
        "id": play.pk, "session_id": session.session_id, "played_at": _ts(play.played_at),
        "artist": play.artist, "title": play.title, "bpm": play.bpm, "key": play.key,
        "main_genre": play.main_genre, "subgenre": play.subgenre, "confidence": play.confidence,
        "characteristics": play.characteristics, "viewers_at_play": play.viewers_at_play,
    }


def interaction_data(interaction: ChatInteraction, session: StreamSession) -> dict:
    return {
        "id": interaction.pk, "session_id": session.session_id, "at": _ts(interaction.at),
        "message_sent": interaction.message_sent, "engagement_type": interaction.engagement_type,
        "audience_reaction": interaction.audience_reaction, "response_count": interaction.response_count,
        "emoji_reactions": interaction.emoji_reactions, "track_id": interaction.track_id,
    }


def chat_message_data(message: ChatMessage, session: StreamSession) -> dict:
    return {
        "session_id": session.session_id, "message_id": message.message_id, "user_id": message.user_id,
        "user_name": message.user_name, "message": message.message, "created_at": _ts(message.created_at),
    }


# --- the session row ----------------------------------------------------------------------


def _locked_session(*, tenant: Tenant, session_id: str) -> StreamSession:
    """The session row, created if new, locked until the caller's transaction ends."""
    try:
        return StreamSession.objects.select_for_update().get(tenant=tenant, session_id=session_id)
    except StreamSession.DoesNotExist:
        pass
    try:
        with transaction.atomic():  # a savepoint: losing the creation race leaves the transaction usable
            return StreamSession.objects.create(tenant=tenant, session_id=session_id)
    except IntegrityError:
        return StreamSession.objects.select_for_update().get(tenant=tenant, session_id=session_id)


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return min(x for x in (a, b) if x is not None) if (a or b) else None


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return max(x for x in (a, b) if x is not None) if (a or b) else None


def _apply(session: StreamSession, *, at: datetime, info: StreamInfo) -> None:
    """Fold one event's time and stream info into the session (in memory; `_save` writes it)."""
    session.started_at = _earliest(session.started_at, at)
    session.last_event_at = _latest(session.last_event_at, at)
    for name in _DETAILS:
        value = getattr(info, name)
        if value:  # None or "": the event didn't say
            _apply_detail(session, name, value, at=at)
    if info.viewer_count is not None:
        _apply_viewers(session, at=at, count=info.viewer_count)


def _apply_detail(session: StreamSession, name: str, value: str, *, at: datetime) -> None:
    """The newest event that said this field wins; at the same moment the larger value, so no order matters."""
    said_at = getattr(session, f"{name}_at")
    if said_at is None or (at, value) > (said_at, getattr(session, name)):
        setattr(session, name, value)
        setattr(session, f"{name}_at", at)
        session.details_at = _latest(session.details_at, at)


def _touch(session: StreamSession, *, at: datetime, info: StreamInfo) -> set[str]:
    """Apply an event's time and stream info and save; returns the fields that changed."""
    before = _snapshot(session)
    _apply(session, at=at, info=info)
    return _save(session, before)


def _apply_viewers(session: StreamSession, *, at: datetime, count: int) -> None:
    latest = session.viewers_at  # the latest moment read so far: every reading moves it (below)
    # Two readings of one moment: the larger, as in the sample, so no order matters.
    if latest is None or (at, count) > (latest, session.current_viewers):
        session.current_viewers, session.viewers_at = count, at
    session.peak_viewers = max(session.peak_viewers, count)
    _sample_upsert(session, at=at, count=count, latest=latest)


def _sample_upsert(session: StreamSession, *, at: datetime, count: int, latest: datetime | None) -> None:
    """The sample's key is (session, at): a replayed reading adds nothing, a larger one of the same
    moment replaces it.

    Samples are written under the session's lock, each moving `viewers_at` to the latest moment
    read: a reading newer than that has no sample yet, and its insert is the only statement. An
    older one may meet a stored reading of its moment, and keeps the larger.
    """
    sample = ViewerSample(tenant_id=session.tenant_id, session=session, at=at, viewer_count=count)
    ViewerSample.objects.bulk_create([sample], ignore_conflicts=True)
    if latest is not None and at <= latest:
        ViewerSample.objects.filter(session=session, at=at, viewer_count__lt=count).update(viewer_count=count)


def _apply_status(session: StreamSession, *, at: datetime, status: str) -> None:
    current = (session.status_at, _STATUS_RANK[session.status]) if session.status_at else None
    if current is None or (at, _STATUS_RANK[status]) >= current:
        session.status, session.status_at = status, at


def _recompute_duration(session: StreamSession) -> None:
    if session.started_at and session.ended_at:
        session.duration_seconds = max(0, int((session.ended_at - session.started_at).total_seconds()))


_DETAILS = ("platform", "dj_username", "title")  # StreamInfo's and the session's names alike
_TRACKED = (
    "platform", "dj_username", "title", "details_at", "platform_at", "dj_username_at", "title_at",
    "status", "status_at", "started_at", "ended_at",
    "duration_seconds", "current_viewers", "viewers_at", "peak_viewers", "last_event_at", "live_announced_at",
)
_PUBLIC = {"platform", "dj_username", "title", "status", "started_at", "ended_at", "duration_seconds",
           "current_viewers", "peak_viewers"}


def _snapshot(session: StreamSession) -> dict:
    return {f: getattr(session, f) for f in _TRACKED}


def _save(session: StreamSession, before: dict) -> set[str]:
    """Write the fields that differ from `before` (only those: see STYLE.md on update_fields)."""
    _recompute_duration(session)  # derived: whatever moved started_at or ended_at, it follows
    changed = {f for f in _TRACKED if getattr(session, f) != before[f]}
    if changed:
        session.save(update_fields=[*changed, "updated_at"])
    return changed


# --- session lifecycle ------------------------------------------------------------------


@transaction.atomic(savepoint=False)
def session_start(
    *, tenant: Tenant, session_id: str, at: datetime, started_at: datetime | None = None,
    info: StreamInfo = NO_INFO,
) -> StreamSession:
    """`stream_start` / RealCast `stream.live`. Emits `stream.live` the first time only, and not for a
    start that arrives after a newer end (the stream isn't live: a "now live!" post would be wrong)."""
    session = _locked_session(tenant=tenant, session_id=session_id)
    before = _snapshot(session)
    _apply(session, at=at, info=info)
    session.started_at = _earliest(session.started_at, started_at)
    _apply_status(session, at=started_at or at, status=StreamSession.Status.LIVE)
    announce = session.live_announced_at is None and session.status == StreamSession.Status.LIVE
    if announce:
        session.live_announced_at = at
    _save(session, before)
    if announce:
        emit("stream.live", session_data(session), tenant=tenant)
    return session


@transaction.atomic(savepoint=False)
def session_update(*, tenant: Tenant, session_id: str, at: datetime, info: StreamInfo = NO_INFO) -> StreamSession:
    """`stream_update`: new title, DJ or viewer figures. Emits `stream.updated` when something visible changed."""
    session = _locked_session(tenant=tenant, session_id=session_id)
    if _touch(session, at=at, info=info) & _PUBLIC:
        emit("stream.updated", session_data(session), tenant=tenant)
    return session


@transaction.atomic(savepoint=False)
def session_end(
    *, tenant: Tenant, session_id: str, at: datetime, ended_at: datetime | None = None,
    duration_seconds: int | None = None, peak_viewers: int | None = None, info: StreamInfo = NO_INFO,
) -> StreamSession:
    """`stream_end` / RealCast `stream.offline`. Emits `stream.offline` when the session first ends."""
    session = _locked_session(tenant=tenant, session_id=session_id)
    before = _snapshot(session)
    first_end = session.ended_at is None
    ended_at = ended_at or at
    _apply(session, at=at, info=info)
    session.ended_at = _latest(session.ended_at, ended_at)
    if duration_seconds is not None and ended_at - _DAWN >= timedelta(seconds=duration_seconds):
        # A platform that reports the duration tells us when the stream started, too (unless
        # that would be before year 1, which no datetime can hold).
        session.started_at = _earliest(session.started_at, ended_at - timedelta(seconds=duration_seconds))
    if peak_viewers is not None:
        session.peak_viewers = max(session.peak_viewers, peak_viewers)
    _apply_status(session, at=ended_at, status=StreamSession.Status.OFFLINE)
    _save(session, before)
    if first_end:
        emit("stream.offline", session_data(session), tenant=tenant)
    return session


@transaction.atomic(savepoint=False)
def session_error(
    *, tenant: Tenant, session_id: str, at: datetime, error_code: str, error_message: str,
) -> StreamError:
    """RealCast `stream.error`: an error row, status `error` unless a newer status says otherwise."""
    session = _locked_session(tenant=tenant, session_id=session_id)
    before = _snapshot(session)
    _apply(session, at=at, info=NO_INFO)
    _apply_status(session, at=at, status=StreamSession.Status.ERROR)
    _save(session, before)
    error, created = StreamError.objects.get_or_create(
        session=session, at=at, error_code=error_code,
        defaults={"tenant": tenant, "error_message": error_message},
    )
    if created:
        emit("stream.error", {"session_id": session_id, "error_code": error_code,
                              "error_message": error_message, "at": _ts(at)}, tenant=tenant)
    return error


@transaction.atomic(savepoint=False)
def viewer_count_record(
    *, tenant: Tenant, session_id: str, at: datetime, viewer_count: int, change: int | None = None,
    viewer_id: str | None = None,
) -> StreamSession:
    """RealCast `viewer.count.update` (and `viewer.joined` when `viewer_id` is given)."""
    session = _locked_session(tenant=tenant, session_id=session_id)
    sampled = not ViewerSample.objects.filter(session=session, at=at).exists()
    _touch(session, at=at, info=StreamInfo(viewer_count=viewer_count))
    if viewer_id is not None:
        emit("viewer.joined", {"session_id": session_id, "viewer_id": viewer_id, "viewer_count": viewer_count,
                               "at": _ts(at)}, tenant=tenant)
    elif sampled:
        emit("viewer.count.update", {"session_id": session_id, "viewer_count": viewer_count, "change": change,
                                     "peak_viewers": session.peak_viewers, "at": _ts(at)}, tenant=tenant)
    return session


# --- tracks and chat ------------------------------------------------------------------------


@transaction.atomic(savepoint=False)
def track_play_record(
    *, tenant: Tenant, session_id: str, at: datetime, artist: str, title: str, info: StreamInfo = NO_INFO,
    bpm: float | None = None, key: str = "", main_genre: str = "", subgenre: str = "",
    confidence: float | None = None, characteristics: list | None = None,
) -> TrackPlay:
    """A classified track (`track_start`). Emits `track.classified` once per (session, time, track)."""
    # The session's lock keeps a concurrent twin of this play out until we commit: a stored play is
    # a replay or a retry, and the answer. Plays and chat are written under this lock, each moving
    # `last_event_at` to its moment, so a play newer than every event seen has neither.
    session = _locked_session(tenant=tenant, session_id=session_id)
    newest = session.last_event_at is None or at > session.last_event_at
    _touch(session, at=at, info=info)
    if not newest:
        stored = TrackPlay.objects.filter(session=session, played_at=at, artist=artist, title=title).first()
        if stored is not None:
            return stored
    play = TrackPlay.objects.create(
        tenant=tenant, session=session, played_at=at, artist=artist, title=title, bpm=bpm, key=key,
        main_genre=main_genre, subgenre=subgenre, confidence=confidence,
        # Once each, in the sender's order: a repeated tag would count twice in the genre trends.
        characteristics=list(dict.fromkeys(characteristics or [])),
        viewers_at_play=info.viewer_count,
    )
    if not newest:
        _link_interactions(play)
    emit("track.classified", track_data(play, session), tenant=tenant)
    return play


def _link_interactions(play: TrackPlay) -> None:
    """Chat that happened while this play was on (possibly posted before the play arrived) points at it:
    from this play until the next one, or for ever when there is none yet."""
    next_play = (TrackPlay.objects.filter(session_id=play.session_id, played_at__gt=play.played_at)
                 .order_by("played_at").values("played_at")[:1])
    until = Coalesce(Subquery(next_play), Value(_FOREVER), output_field=DateTimeField())
    ChatInteraction.objects.filter(session_id=play.session_id, at__gte=play.played_at, at__lt=until).update(track=play)


def _track_playing(session: StreamSession, at: datetime) -> TrackPlay | None:
    return TrackPlay.objects.filter(session=session, played_at__lte=at).order_by("-played_at", "-id").first()


@transaction.atomic(savepoint=False)
def chat_interaction_record(
    *, tenant: Tenant, session_id: str, at: datetime, message_sent: str, info: StreamInfo = NO_INFO,
    engagement_type: str = "", audience_reaction: str = "", response_count: int = 0,
    emoji_reactions: dict | None = None,
) -> ChatInteraction:
    """The bot's chat message (`chat_message`). Emits `chat.interaction` once per (session, time, message)."""
    session = _locked_session(tenant=tenant, session_id=session_id)
    _touch(session, at=at, info=info)
    message_hash = hashlib.sha256(message_sent.encode()).hexdigest()
    interaction = ChatInteraction.objects.filter(session=session, at=at, message_hash=message_hash).first()
    if interaction is not None:  # the session lock keeps a twin insert of this key out
        return interaction
    interaction = ChatInteraction.objects.create(
        tenant=tenant, session=session, at=at, message_sent=message_sent, message_hash=message_hash,
        engagement_type=engagement_type, audience_reaction=audience_reaction, response_count=response_count,
        emoji_reactions=emoji_reactions or {}, track=_track_playing(session, at),
    )
    emit("chat.interaction", interaction_data(interaction, session), tenant=tenant)
    return interaction


@transaction.atomic(savepoint=False)
def chat_message_record(
    *, tenant: Tenant, session_id: str, message_id: str, created_at: datetime, user_id: str = "",
    user_name: str = "", message: str = "",
) -> ChatMessage:
    """A viewer's chat message (RealCast `chat.message.new`), once per message id."""
    session = _locked_session(tenant=tenant, session_id=session_id)
    _touch(session, at=created_at, info=NO_INFO)
    chat, created = ChatMessage.objects.get_or_create(
        tenant=tenant, message_id=message_id,
        defaults={"session": session, "user_id": user_id, "user_name": user_name, "message": message,
                  "created_at": created_at},
    )
    if created:
        emit("chat.message.new", chat_message_data(chat, session), tenant=tenant)
    return chat
