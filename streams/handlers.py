"""Inbound handlers: the DJ stream assistant's three endpoints and RealCast's events.

Each validates the payload with its serializer (a DRF `ValidationError` is answered 400 naming
the bad fields) and calls one service. The services are idempotent, so replays and the sweep may
re-run these.
"""

import logging
from datetime import datetime

from rest_framework import serializers

from core.eventtime import event_times_problems
from streams import inbound, services
from streams.inbound import stream_info
from webhooks.inbound.handlers import HandlerResult, event_processor, get_event_processor, inbound_handler
from webhooks.inbound.models import InboundSource

logger = logging.getLogger(__name__)

REALCAST = InboundSource.Kind.REALCAST


def _valid(serializer_class: type[serializers.Serializer], payload) -> dict:
    serializer = serializer_class(data=payload)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _check_times(message, **times) -> None:
    """Refuse (400 naming the field) event times outside the window around the message's arrival."""
    problems = event_times_problems(times, received_at=message.received_at)
    if problems:
        raise serializers.ValidationError(problems)


def _created(session_id: str, **ids) -> HandlerResult:
    return HandlerResult(201, {"status": "success", "session_id": session_id, **ids})


@inbound_handler("streams.track_classified")
def track_classified(message, payload) -> HandlerResult:
    data = _valid(inbound.TrackClassified, payload)
    _check_times(message, timestamp=data["timestamp"])
    track = data["track_data"]
    cls = track.get("classification") or {}
    play = services.track_play_record(
        tenant=message.tenant, session_id=data["session_id"], at=data["timestamp"], info=stream_info(data),
        artist=track["artist"], title=track["title"], bpm=track.get("bpm"), key=track.get("key") or "",
        main_genre=cls.get("main_genre") or "", subgenre=cls.get("subgenre") or "",
        confidence=cls.get("confidence"), characteristics=cls.get("characteristics") or [],
    )
    return _created(data["session_id"], track_play_id=play.pk)


@inbound_handler("streams.chat_interaction")
def chat_interaction(message, payload) -> HandlerResult:
    data = _valid(inbound.ChatInteractionIn, payload)
    _check_times(message, timestamp=data["timestamp"])
    chat = data["chat_interaction"]
    interaction = services.chat_interaction_record(
        tenant=message.tenant, session_id=data["session_id"], at=data["timestamp"], info=stream_info(data),
        message_sent=chat["message_sent"], engagement_type=chat.get("engagement_type") or "",
        audience_reaction=chat.get("audience_reaction") or "", response_count=chat.get("response_count") or 0,
        emoji_reactions=chat.get("emoji_reactions") or {},
    )
    return _created(data["session_id"], chat_interaction_id=interaction.pk, track_play_id=interaction.track_id)


@inbound_handler("streams.stream_stats")
def stream_stats(message, payload) -> HandlerResult:
    data = _valid(inbound.StreamStats, payload)
    _check_times(message, timestamp=data["timestamp"])
    kwargs = {"tenant": message.tenant, "session_id": data["session_id"], "at": data["timestamp"],
              "info": stream_info(data)}
    action = {"stream_start": services.session_start, "stream_update": services.session_update,
              "stream_end": services.session_end}[data["event_type"]]
    session = action(**kwargs)
    return HandlerResult(201, {"status": "success", "session_id": session.session_id,
                               "stream_session_id": session.pk, "session_status": session.status})


# --- RealCast ------------------------------------------------------------------------------
# Each gets the tenant, the validated event and the payload as sent.


@event_processor(REALCAST, "stream.live")
def _rc_stream_live(tenant, event: dict, payload: dict) -> None:
    d = event["data"]
    info = services.StreamInfo(platform="realcast", title=d.get("title"), dj_username=d.get("streamer_id"))
    services.session_start(tenant=tenant, session_id=d["stream_id"], at=event["timestamp"],
                           started_at=d.get("started_at"), info=info)


@event_processor(REALCAST, "stream.offline")
def _rc_stream_offline(tenant, event: dict, payload: dict) -> None:
    d = event["data"]
    services.session_end(tenant=tenant, session_id=d["stream_id"], at=event["timestamp"], ended_at=d.get("ended_at"),
                         duration_seconds=d.get("duration"), peak_viewers=d.get("peak_viewers"),
                         info=services.StreamInfo(platform="realcast"))


@event_processor(REALCAST, "stream.error")
def _rc_stream_error(tenant, event: dict, payload: dict) -> None:
    d = event["data"]
    services.session_error(tenant=tenant, session_id=d["stream_id"], at=event["timestamp"],
                           error_code=d.get("error_code", ""), error_message=d.get("error_message", ""))


@event_processor(REALCAST, "viewer.joined")
def _rc_viewer_joined(tenant, event: dict, payload: dict) -> None:
    d = event["data"]
    services.viewer_count_record(tenant=tenant, session_id=d["stream_id"], at=event["timestamp"],
                                 viewer_count=d["viewer_count"], viewer_id=d["viewer_id"])


@event_processor(REALCAST, "viewer.count.update")
def _rc_viewer_count(tenant, event: dict, payload: dict) -> None:
    d = event["data"]
    services.viewer_count_record(tenant=tenant, session_id=d["stream_id"], at=event["timestamp"],
                                 viewer_count=d["viewer_count"], change=d.get("change"))


@event_processor(REALCAST, "chat.message.new")
def _rc_chat_message(tenant, event: dict, payload: dict) -> None:
    d = event["data"]
    services.chat_message_record(tenant=tenant, session_id=d["stream_id"], message_id=d["message_id"],
                                 created_at=d.get("created_at") or event["timestamp"], user_id=d.get("user_id", ""),
                                 user_name=d.get("user_name", ""), message=d.get("message", ""))


_REALCAST_DATA_TIMES = ("started_at", "ended_at", "created_at")


def realcast_times(payload: dict) -> dict:
    """The event's `timestamp` and the times in its `data` that Streamhook keeps, where readable
    (an unreadable one is the event's own validation's to refuse)."""
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    candidates = [("timestamp", payload.get("timestamp")),
                  *((f"data.{name}", data.get(name)) for name in _REALCAST_DATA_TIMES)]
    times = {}
    for field, value in candidates:
        if value is not None:
            try:
                times[field] = serializers.DateTimeField().run_validation(value)
            except serializers.ValidationError:
                pass
    return times


def realcast_check_on_receipt(payload: dict, received_at: datetime) -> None:
    """RealCast is answered before its event is processed: its times are refused (400) on receipt,
    an unreadable `timestamp` (such as `0`) too, so RealCast doesn't retry what can never be processed."""
    times = realcast_times(payload)
    problems = event_times_problems(times, received_at=received_at)
    if payload.get("timestamp") is not None and "timestamp" not in times:
        problems["timestamp"] = ["Not a date-time; expected ISO 8601 such as 2026-11-22T10:00:00Z."]
    if problems:
        raise serializers.ValidationError(problems)


@inbound_handler("streams.realcast")
def realcast(message, payload) -> HandlerResult:
    """One RealCast event (`{"event", "timestamp", "data"}`); unknown events are acknowledged and ignored."""
    name = payload.get("event")
    serializer_class = inbound.REALCAST_EVENTS.get(name, inbound.RealCastEnvelope) if isinstance(
        name, str) else inbound.RealCastEnvelope
    event = _valid(serializer_class, payload)
    data = event["data"]
    _check_times(message, timestamp=event["timestamp"], **{
        f"data.{field}": data[field] for field in _REALCAST_DATA_TIMES if isinstance(data.get(field), datetime)})
    process = get_event_processor(REALCAST, event["event"])
    if process is None:
        logger.info("RealCast event %r ignored (message %s)", event["event"], message.pk)
        return HandlerResult(200, {"status": "ignored", "event": event["event"]})
    process(message.tenant, event, payload)
    return HandlerResult(200, {"status": "processed", "event": event["event"]})
