"""Any order, any replay: the same events leave the same rows (Hypothesis permutes them).

The events go through the inbound handlers (validation, then services), so what is permuted
is exactly what senders post: the DJ stream assistant's three payloads and RealCast's envelopes.
"""

import json
from collections import Counter
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams import handlers
from streams.models import ChatInteraction, ChatMessage, StreamError, StreamSession, TrackPlay, ViewerSample
from webhooks.inbound.models import InboundMessage
from webhooks.models import Event

SID = "set-42"
RC = "stream_abc123"


def _dj(**fields) -> dict:
    return fields


def _assistant(kind: str, ts: str, dj: dict | None, **body) -> tuple:
    event_type = {"track": "track_start", "chat": "chat_message"}.get(kind, kind)
    payload = {"timestamp": ts, "session_id": SID, "event_type": event_type, **body}
    if dj is not None:
        payload["dj_stream"] = dj
    handler = {"track": handlers.track_classified, "chat": handlers.chat_interaction}.get(kind, handlers.stream_stats)
    return handler, payload


def _track(ts: str, artist: str, title: str, genre: str, sub: str, viewers: int,
           stream_title: str = "Deep House Vibes", dj: str = "djunohoo") -> tuple:
    return _assistant("track", ts, _dj(twitch_username=dj, stream_title=stream_title,
                                        viewer_count=viewers, platform="twitch"),
                      track_data={"artist": artist, "title": title, "bpm": 174, "key": "A minor",
                                  "classification": {"main_genre": genre, "subgenre": sub, "confidence": 0.9,
                                                     "characteristics": ["melodic"]}})


def _chat(ts: str, text: str, responses: int) -> tuple:
    return _assistant("chat", ts, {}, chat_interaction={"message_sent": text, "engagement_type": "hype",
                                                         "audience_reaction": "positive",
                                                         "response_count": responses, "emoji_reactions": {"🔥": 2}})


def _rc(event: str, ts: str, **data) -> tuple:
    return handlers.realcast, {"event": event, "timestamp": ts, "data": {"stream_id": RC, **data}}


# One DJ stream assistant set and one RealCast stream, with everything that arrives out of order in real life:
# updates carrying only part of dj_stream (a guest DJ opened the set, the title changed twice),
# two viewer readings of one second, chat before its track, viewer counts that cross, a chat
# message delivered twice (a sender retry under a new webhook id), offline with its duration.
EVENTS = [
    _assistant("stream_start", "2026-11-22T20:00:00Z", _dj(twitch_username="guest_dj",
               stream_title="Deep House Vibes", viewer_count=12, platform="twitch")),
    _track("2026-11-22T20:01:00Z", "Kerri Chandler", "Rain", "house", "deep house", 20, dj="guest_dj"),
    _chat("2026-11-22T20:02:00Z", "Deep house! Feel that warmth", 3),
    _track("2026-11-22T20:06:00Z", "LTJ Bukem", "Music", "drum and bass", "liquid dnb", 127),
    _assistant("stream_update", "2026-11-22T20:06:00Z", _dj(viewer_count=131)),
    _chat("2026-11-22T20:07:30Z", "🌊 Liquid DnB detected!", 8),
    _assistant("stream_update", "2026-11-22T20:08:00Z", _dj(viewer_count=189)),
    _assistant("stream_update", "2026-11-22T20:09:00Z", _dj(stream_title="Liquid hour", viewer_count=150)),
    _track("2026-11-22T20:10:00Z", "Noisia", "Stigma", "drum and bass", "neurofunk", 140, "Liquid hour"),
    _assistant("stream_update", "2026-11-22T20:30:00Z", _dj(stream_title="Closing time")),
    _assistant("stream_end", "2026-11-22T21:00:00Z", _dj(viewer_count=0)),
    _rc("stream.live", "2024-12-09T10:00:00Z", app_id="app_xyz789", title="Epic Gaming Session",
        streamer_id="user_123", started_at="2024-12-09T10:00:00Z"),
    _rc("viewer.joined", "2024-12-09T10:05:00Z", viewer_id="viewer_def456", viewer_count=125),
    _rc("viewer.count.update", "2024-12-09T10:05:30Z", viewer_count=128, change=3),
    _rc("viewer.count.update", "2024-12-09T10:06:00Z", viewer_count=90, change=-38),
    _rc("chat.message.new", "2024-12-09T10:10:00Z", message_id="msg_jkl012", user_id="user_456",
        user_name="GamerPro", message="Great stream!", created_at="2024-12-09T10:10:00Z"),
    _rc("chat.message.new", "2024-12-09T10:10:02Z", message_id="msg_jkl012", user_id="user_456",
        user_name="GamerPro", message="Great stream!", created_at="2024-12-09T10:10:00Z"),
    _rc("stream.error", "2024-12-09T10:30:00Z", error_code="ENCODER_ERROR",
        error_message="Encoder disconnected unexpectedly"),
    _rc("stream.offline", "2024-12-09T11:00:00Z", duration=3600, peak_viewers=1234,
        ended_at="2024-12-09T11:00:00Z"),
]

# Emitted once per row or first transition, whatever the order. (`stream.updated` depends on what
# the session looked like when the update arrived, `viewer.joined` has no natural key, and
# `stream.live` is not sent for a start that arrives after a newer end or error: see below.)
ORDER_FREE_EVENTS = {"stream.offline", "stream.error", "track.classified", "chat.interaction", "chat.message.new"}


def _index(event: str, **data) -> int:
    return next(i for i, (_, p) in enumerate(EVENTS) if p.get("event", p.get("event_type")) == event
                and all(p.get("data", {}).get(k) == v for k, v in data.items()))


def _expected_live(order) -> dict:
    """Announced when the start came before every newer status (the assistant's end; RealCast's error and end)."""
    first = {i: n for n, i in enumerate(order)}
    announced = {SID: first[_index("stream_start")] < first[_index("stream_end")],
                 RC: first[_index("stream.live")] < min(first[_index("stream.error")], first[_index("stream.offline")])}
    return {sid: 1 for sid, yes in announced.items() if yes}


def _live_announced(tenant) -> dict:
    return dict(Counter(Event.objects.filter(tenant=tenant, type="stream.live")
                        .values_list("data__session_id", flat=True)))


def _apply(tenant, order, replays) -> None:
    message = InboundMessage(tenant=tenant, handler="streams")
    for i in [*order, *replays]:
        handler, payload = EVENTS[i]
        handler(message, json.loads(json.dumps(payload)))  # a fresh copy, as parsed from the body


def _state(tenant) -> dict:
    sessions = {
        s.session_id: {f: getattr(s, f) for f in (
            "platform", "dj_username", "title", "status", "started_at", "ended_at", "duration_seconds",
            "current_viewers", "viewers_at", "peak_viewers", "last_event_at")}
        for s in StreamSession.objects.filter(tenant=tenant)
    }
    return {
        "sessions": sessions,
        "tracks": sorted(TrackPlay.objects.values_list("session__session_id", "played_at", "artist", "title",
                                                       "main_genre", "subgenre", "viewers_at_play")),
        "interactions": sorted(ChatInteraction.objects.values_list("at", "message_sent", "response_count",
                                                                   "track__title")),
        "messages": sorted(ChatMessage.objects.values_list("session__session_id", "message_id", "created_at")),
        "errors": sorted(StreamError.objects.values_list("at", "error_code")),
        "samples": sorted(ViewerSample.objects.values_list("session__session_id", "at", "viewer_count")),
        "events": Counter(Event.objects.filter(tenant=tenant, type__in=ORDER_FREE_EVENTS)
                          .values_list("type", flat=True)),
    }


def _reset() -> None:
    StreamSession.objects.all().delete()  # cascades to plays, chat, samples, errors
    Event.objects.all().delete()


@pytest.fixture
def in_order_state(tenant) -> dict:
    _apply(tenant, range(len(EVENTS)), [])
    state = _state(tenant)
    _reset()
    return state


@pytest.mark.django_db
def test_the_events_in_order_give_the_expected_rows(tenant, in_order_state):
    state = in_order_state
    mine = state["sessions"][SID]
    assert (mine["status"], mine["title"], mine["dj_username"], mine["platform"]) == (
        "offline", "Closing time", "djunohoo", "twitch")
    assert (mine["duration_seconds"], mine["peak_viewers"], mine["current_viewers"]) == (3600, 189, 0)
    assert (SID, datetime(2026, 11, 22, 20, 6, tzinfo=UTC), 131) in state["samples"]  # the larger reading
    rc = state["sessions"][RC]
    assert (rc["status"], rc["duration_seconds"], rc["peak_viewers"], rc["current_viewers"]) == (
        "offline", 3600, 1234, 90)
    assert [row[-1] for row in state["interactions"]] == ["Rain", "Music"]
    assert len(state["messages"]) == 1 and len(state["tracks"]) == 3
    assert state["events"] == Counter({"track.classified": 3, "chat.interaction": 2, "stream.offline": 2,
                                       "stream.error": 1, "chat.message.new": 1})


@pytest.mark.django_db
def test_stream_live_is_sent_once_and_not_for_a_start_that_arrives_after_the_end(tenant):
    _apply(tenant, range(len(EVENTS)), [_index("stream_start"), _index("stream.live")])
    assert _live_announced(tenant) == {SID: 1, RC: 1}
    _reset()
    late = [_index("stream_start"), _index("stream.live")]
    _apply(tenant, [i for i in range(len(EVENTS)) if i not in late] + late, [])
    assert _live_announced(tenant) == {}
    assert StreamSession.objects.get(session_id=RC).started_at.isoformat() == "2024-12-09T10:00:00+00:00"


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(range(len(EVENTS))),
       replays=st.lists(st.integers(0, len(EVENTS) - 1), max_size=6))
def test_any_order_with_replays_leaves_the_same_state(tenant, in_order_state, order, replays):
    _reset()
    _apply(tenant, order, replays)
    assert _state(tenant) == in_order_state
    assert _live_announced(tenant) == _expected_live(order)
