"""Known streams and webhooks rows built in code, so tests can assert exact figures."""

import hashlib
from datetime import UTC, datetime

from streams.models import ChatInteraction, ChatMessage, StreamSession, TrackPlay, ViewerSample
from webhooks.models import Attempt, Delivery, Endpoint, Event


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment in January 2026, UTC."""
    return datetime(2026, 1, day, hour, minute, second, tzinfo=UTC)


def session(tenant, session_id: str, *, started_at, ended_at=None, platform="twitch", dj="djunohoo",
            title="Deep House Vibes", peak_viewers=0) -> StreamSession:
    duration = int((ended_at - started_at).total_seconds()) if ended_at else None
    return StreamSession.objects.create(
        tenant=tenant, session_id=session_id, platform=platform, dj_username=dj, title=title,
        started_at=started_at, ended_at=ended_at, last_event_at=ended_at or started_at, duration_seconds=duration,
        peak_viewers=peak_viewers, status="offline" if ended_at else "live",
    )


def play(stream: StreamSession, played_at, genre: str, subgenre: str, *, confidence=None, characteristics=(),
         artist="Artist", title=None, viewers=None) -> TrackPlay:
    return TrackPlay.objects.create(
        tenant_id=stream.tenant_id, session=stream, played_at=played_at, artist=artist,
        title=title or f"{subgenre} at {played_at:%H:%M}", main_genre=genre, subgenre=subgenre,
        confidence=confidence, characteristics=list(characteristics), viewers_at_play=viewers,
    )


def interaction(stream: StreamSession, moment, track: TrackPlay | None, *, kind="hype", responses=0,
                message=None) -> ChatInteraction:
    text = message or f"{kind} at {moment.isoformat()}"
    return ChatInteraction.objects.create(
        tenant_id=stream.tenant_id, session=stream, at=moment, message_sent=text,
        message_hash=hashlib.sha256(text.encode()).hexdigest(), engagement_type=kind, response_count=responses,
        track=track,
    )


def viewers(stream: StreamSession, moment, count: int) -> ViewerSample:
    return ViewerSample.objects.create(tenant_id=stream.tenant_id, session=stream, at=moment, viewer_count=count)


def chat(stream: StreamSession, moment, user: str, text="hi") -> ChatMessage:
    return ChatMessage.objects.create(
        tenant_id=stream.tenant_id, session=stream, message_id=f"{stream.session_id}-{moment.isoformat()}-{user}",
        user_id=user, user_name=user.upper(), message=text, created_at=moment,
    )


def endpoint(tenant, url: str) -> Endpoint:
    return Endpoint.objects.create(tenant=tenant, url=url, secret="whsec_dGVzdA==")


def delivery(target: Endpoint, *, status: str, created_at, attempts=()) -> Delivery:
    """`attempts`: (started_at, duration_ms, status_code or None, succeeded) tuples."""
    event = Event.objects.create(tenant_id=target.tenant_id, type="stream.live", data={}, created_at=created_at)
    row = Delivery.objects.create(tenant_id=target.tenant_id, event=event, endpoint=target, status=status)
    Delivery.objects.filter(pk=row.pk).update(created_at=created_at)
    for number, (started, duration, code, ok) in enumerate(attempts, start=1):
        Attempt.objects.create(delivery=row, number=number, started_at=started, duration_ms=duration,
                               url=target.url, status_code=code, succeeded=ok)
    return row
