"""The DJ stream assistant's three endpoints and RealCast's endpoint, end to end through HTTP."""

import hashlib
import hmac
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from streams.handlers import realcast
from streams.models import ChatInteraction, ChatMessage, StreamError, StreamSession, TrackPlay
from webhooks.inbound.models import InboundMessage
from webhooks.inbound.services import message_process, source_create
from webhooks.models import Event

# The assistant guide's examples, verbatim (comments included; see `guide_json`).
GUIDE_TRACK = """{
  "timestamp": "2025-09-28T20:30:00Z",
  "dj_stream": {
    "twitch_username": "djunohoo",
    "stream_title": "Deep House Vibes",
    "viewer_count": 127,
    "platform": "twitch"
  },
  "track_data": {
    "artist": "LTJ Bukem",
    "title": "Music",
    "bpm": 174,
    "key": "A minor",
    "classification": {
      "main_genre": "drum and bass",
      "subgenre": "liquid dnb", 
      "confidence": 0.96,
      "characteristics": ["atmospheric", "jazzy", "melodic"]
    }
  },
  "session_id": "stream-session-uuid",
  "event_type": "track_start"
}"""  # noqa: W291 - the guide's trailing spaces, kept
GUIDE_CHAT = """{
  "timestamp": "2025-09-28T20:30:15Z",
  "dj_stream": { /* same as above */ },
  "chat_interaction": {
    "message_sent": "🌊 Liquid DnB detected! Notice those smooth jazz influences...",
    "engagement_type": "educational",
    "audience_reaction": "positive",
    "response_count": 8,
    "emoji_reactions": {"🌊": 5, "🔥": 3}
  },
  "session_id": "stream-session-uuid",
  "event_type": "chat_message"
}"""
GUIDE_STATS = """{
  "timestamp": "2025-09-28T20:45:00Z",
  "dj_stream": { /* updated viewer counts, etc */ },
  "session_id": "stream-session-uuid", 
  "event_type": "stream_update"  // or "stream_start", "stream_end"
}"""  # noqa: W291 - the guide's trailing spaces, kept
DJ_STREAM = json.loads(GUIDE_TRACK)["dj_stream"]


def guide_json(text: str, dj_stream: dict | None = None) -> bytes:
    """The guide's example as a sender posts it: the `// or ...` comment dropped, and a `{ /* ... */ }`
    placeholder filled with `dj_stream` (or left an empty object when None)."""
    text = re.sub(r"\s*//[^\n]*", "", text)
    text = re.sub(r"\{ /\*[^*]*\*/ \}", json.dumps(dj_stream) if dj_stream is not None else "{}", text)
    return text.encode()


@pytest.fixture
def assistant(tenant):
    _, key = source_create(tenant=tenant, name="stream assistant", kind="stream-assistant")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def other_assistant(other_tenant):
    _, key = source_create(tenant=other_tenant, name="their assistant", kind="stream-assistant")
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key)
    return client


def post(client, path: str, body: bytes):
    return client.generic("POST", path, body, content_type="application/json")


def _types(tenant) -> list[str]:
    return sorted(Event.objects.filter(tenant=tenant).exclude(type="user.created").values_list("type", flat=True))


# --- the DJ stream assistant ---------------------------------------------------------------------


@pytest.mark.django_db
def test_stream_assistant_examples_posted_as_they_are_create_session_plays_and_interactions(assistant, tenant):
    start = guide_json(GUIDE_STATS, DJ_STREAM).replace(b'"stream_update"', b'"stream_start"').replace(
        b"20:45:00", b"20:00:00")
    response = post(assistant, "/api/webhook/stream-stats", start)
    assert response.status_code == 201, response.content
    assert response.json()["session_id"] == "stream-session-uuid"

    response = post(assistant, "/api/webhook/track-classified", guide_json(GUIDE_TRACK))
    assert response.status_code == 201, response.content
    play = TrackPlay.objects.get(pk=response.json()["track_play_id"])
    assert (play.artist, play.title, play.bpm, play.key) == ("LTJ Bukem", "Music", 174, "A minor")
    assert (play.main_genre, play.subgenre, play.confidence) == ("drum and bass", "liquid dnb", 0.96)
    assert play.characteristics == ["atmospheric", "jazzy", "melodic"] and play.viewers_at_play == 127

    response = post(assistant, "/api/webhook/chat-interaction", guide_json(GUIDE_CHAT, DJ_STREAM))
    assert response.status_code == 201, response.content
    interaction = ChatInteraction.objects.get(pk=response.json()["chat_interaction_id"])
    assert interaction.emoji_reactions == {"🌊": 5, "🔥": 3} and interaction.response_count == 8
    assert interaction.track == play and response.json()["track_play_id"] == play.pk

    updated = {**DJ_STREAM, "viewer_count": 189}
    assert post(assistant, "/api/webhook/stream-stats", guide_json(GUIDE_STATS, updated)).status_code == 201
    end = guide_json(GUIDE_STATS, {"viewer_count": 40}).replace(b'"stream_update"', b'"stream_end"').replace(
        b"20:45:00", b"21:00:00")
    assert post(assistant, "/api/webhook/stream-stats", end).status_code == 201

    session = StreamSession.objects.get(tenant=tenant, session_id="stream-session-uuid")
    assert (session.dj_username, session.title, session.platform) == ("djunohoo", "Deep House Vibes", "twitch")
    assert (session.status, session.duration_seconds, session.peak_viewers) == ("offline", 3600, 189)
    assert _types(tenant) == ["chat.interaction", "stream.live", "stream.offline", "stream.updated",
                              "track.classified"]


@pytest.mark.django_db
def test_stream_assistant_placeholders_as_empty_objects_are_accepted(assistant, tenant):
    assert post(assistant, "/api/webhook/chat-interaction", guide_json(GUIDE_CHAT)).status_code == 201
    assert post(assistant, "/api/webhook/stream-stats", guide_json(GUIDE_STATS)).status_code == 201
    assert StreamSession.objects.get(tenant=tenant).chat_interactions.count() == 1


@pytest.mark.django_db
def test_a_resent_track_is_stored_once_and_announced_once(assistant, tenant):
    first = post(assistant, "/api/webhook/track-classified", guide_json(GUIDE_TRACK))
    again = post(assistant, "/api/webhook/track-classified", guide_json(GUIDE_TRACK))
    assert first.status_code == again.status_code == 201
    assert first.json()["track_play_id"] == again.json()["track_play_id"]
    assert TrackPlay.objects.count() == 1 and _types(tenant) == ["track.classified"]


@pytest.mark.django_db
def test_a_characteristic_sent_twice_is_kept_once_in_the_senders_order(assistant):
    payload = json.loads(guide_json(GUIDE_TRACK))
    payload["track_data"]["classification"]["characteristics"] = ["rolling", "dark", "rolling", "dark", "deep"]
    assert post(assistant, "/api/webhook/track-classified", json.dumps(payload).encode()).status_code == 201
    assert TrackPlay.objects.get().characteristics == ["rolling", "dark", "deep"]


HUGE = "1e999"  # posted as the bare number, which Python's json reads as infinity


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "mutate", "named"), [
    ("/api/webhook/track-classified", lambda p: p.update(event_type="track_end"), "event_type"),
    ("/api/webhook/track-classified", lambda p: p["track_data"].pop("artist"), "track_data"),
    ("/api/webhook/track-classified", lambda p: p.pop("session_id"), "session_id"),
    ("/api/webhook/track-classified", lambda p: p.update(timestamp="yesterday"), "timestamp"),
    ("/api/webhook/track-classified", lambda p: p["track_data"].update(bpm="fast"), "track_data"),
    ("/api/webhook/track-classified", lambda p: p["dj_stream"].update(viewer_count="many"), "dj_stream"),
    ("/api/webhook/track-classified", lambda p: p["track_data"].update(title=42), "track_data"),
    ("/api/webhook/track-classified", lambda p: p["dj_stream"].update(viewer_count=HUGE), "dj_stream"),
    ("/api/webhook/track-classified", lambda p: p["track_data"].update(bpm=HUGE), "track_data"),
    ("/api/webhook/track-classified", lambda p: p["dj_stream"].update(viewer_count=2**31), "dj_stream"),
    ("/api/webhook/chat-interaction", lambda p: p["chat_interaction"].update(response_count=2**40),
     "chat_interaction"),
    ("/api/webhook/stream-stats", lambda p: p.update(event_type="stream_pause"), "event_type"),
    ("/api/webhook/chat-interaction", lambda p: p.update(chat_interaction=None), "chat_interaction"),
    ("/api/webhook/chat-interaction", lambda p: p.update(event_type="track_start"), "event_type"),
    # Emoji are JSON keys, stored as JSON: PostgreSQL's jsonb refuses a lone surrogate.
    ("/api/webhook/chat-interaction", lambda p: p["chat_interaction"].update(emoji_reactions={"\ud800": 1}),
     "chat_interaction"),
    ("/api/webhook/chat-interaction", lambda p: p["chat_interaction"].update(emoji_reactions={"x" * 65: 1}),
     "chat_interaction"),
    ("/api/webhook/chat-interaction", lambda p: p["chat_interaction"].update(emoji_reactions={"": 1}),
     "chat_interaction"),
    ("/api/webhook/chat-interaction",
     lambda p: p["chat_interaction"].update(emoji_reactions={str(n): 1 for n in range(201)}), "chat_interaction"),
    ("/api/webhook/chat-interaction", lambda p: p["chat_interaction"].update(emoji_reactions={"🔥": -1}),
     "chat_interaction"),
    ("/api/webhook/chat-interaction", lambda p: p["chat_interaction"].update(emoji_reactions=["🔥"]),
     "chat_interaction"),
])
def test_bad_payloads_get_400_naming_the_field(assistant, path, mutate, named):
    payload = json.loads(guide_json(GUIDE_TRACK))
    if "chat" in path:
        payload = json.loads(guide_json(GUIDE_CHAT, DJ_STREAM))
    elif "stats" in path:
        payload = json.loads(guide_json(GUIDE_STATS, DJ_STREAM))
    mutate(payload)
    response = post(assistant, path, json.dumps(payload).encode().replace(b'"1e999"', b"1e999"))
    assert response.status_code == 400, response.content
    assert named in response.json()["errors"]
    assert named in response.json()["message"]
    assert StreamSession.objects.count() == 0


@pytest.mark.django_db
def test_the_400_message_names_nested_fields_by_their_dotted_path(assistant):
    payload = json.loads(guide_json(GUIDE_TRACK))
    payload["track_data"]["classification"]["confidence"] = 3
    payload["track_data"]["classification"]["characteristics"][1] = 5
    del payload["track_data"]["artist"]
    response = post(assistant, "/api/webhook/track-classified", json.dumps(payload).encode())
    assert response.status_code == 400
    assert response.json()["message"] == (
        "Invalid payload: track_data.artist, track_data.classification.confidence, "
        "track_data.classification.characteristics.1"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("body", [
    b"", b"null", b"[]", b'"text"', b"{", b"\xff\xfe", b'{"session_id": {"$gt": ""}}', b"1e999999",
    b'{"timestamp": "2025-09-28T20:30:00Z", "session_id": "x", "event_type": "track_start", "track_data": []}',
    b'{"timestamp": "2025-09-28T20:30:00Z", "session_id": "x", "event_type": "track_start", "dj_stream": 5,'
    b' "track_data": {"artist": "a", "title": "b", "classification": {"characteristics": "abc"}}}',
    b'{"timestamp": "2025-09-28T20:30:00Z", "session_id": "' + b"x" * 5000 + b'", "event_type": "track_start",'
    b' "track_data": {"artist": "a", "title": "b"}}',
    b'{"timestamp": "99999-01-01T00:00:00Z", "session_id": "x", "event_type": "track_start",'
    b' "track_data": {"artist": "a", "title": "b"}}',
    # NUL can't be stored by PostgreSQL (text or jsonb): refused, never a database error.
    b'{"timestamp": "2025-09-28T20:30:15Z", "session_id": "x", "event_type": "chat_message",'
    b' "chat_interaction": {"message_sent": "hi", "emoji_reactions": {"\\u0000": 1}}}',
])
def test_junk_never_gets_a_500(assistant, body):
    for path in ("/api/webhook/track-classified", "/api/webhook/chat-interaction", "/api/webhook/stream-stats"):
        response = post(assistant, path, body)
        assert 400 <= response.status_code < 500, (path, body[:40], response.content[:200])


@pytest.mark.django_db
def test_missing_or_wrong_key_is_401_and_another_kinds_key_is_403(client, tenant):
    assert post(client, "/api/webhook/track-classified", guide_json(GUIDE_TRACK)).status_code == 401
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Bearer shin_nope")
    assert post(wrong, "/api/webhook/track-classified", guide_json(GUIDE_TRACK)).status_code == 401
    _, key = source_create(tenant=tenant, name="recorder", kind="recorder")
    recorder_key = APIClient()
    recorder_key.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert post(recorder_key, "/api/webhook/track-classified", guide_json(GUIDE_TRACK)).status_code == 403
    assert StreamSession.objects.count() == 0


@pytest.mark.django_db
def test_another_tenants_key_never_touches_this_tenants_session(assistant, other_assistant, api_client,
                                                               other_api_client, tenant, other_tenant):
    assert post(assistant, "/api/webhook/track-classified", guide_json(GUIDE_TRACK)).status_code == 201
    end = guide_json(GUIDE_STATS, {"stream_title": "hijacked"}).replace(b'"stream_update"', b'"stream_end"')
    assert post(other_assistant, "/api/webhook/stream-stats", end).status_code == 201

    mine = StreamSession.objects.get(tenant=tenant, session_id="stream-session-uuid")
    assert (mine.status, mine.title, mine.tracks.count()) == ("live", "Deep House Vibes", 1)
    theirs = StreamSession.objects.get(tenant=other_tenant, session_id="stream-session-uuid")
    assert (theirs.status, theirs.title, theirs.tracks.count()) == ("offline", "hijacked", 0)
    assert api_client.get("/api/v1/streams/stream-session-uuid").json()["title"] == "Deep House Vibes"
    assert other_api_client.get(f"/api/v1/tracks/{mine.tracks.get().pk}").status_code == 404


# --- RealCast ------------------------------------------------------------------------------------

SECRET = "whsec_realcast_dashboard_secret"
RC_EVENTS = [
    {"event": "stream.live", "timestamp": "2024-12-09T10:00:00Z",
     "data": {"stream_id": "stream_abc123", "app_id": "app_xyz789", "title": "Epic Gaming Session",
              "streamer_id": "user_123", "started_at": "2024-12-09T10:00:00Z"}},
    {"event": "viewer.joined", "timestamp": "2024-12-09T10:05:00Z",
     "data": {"stream_id": "stream_abc123", "viewer_id": "viewer_def456", "viewer_count": 125}},
    {"event": "viewer.count.update", "timestamp": "2024-12-09T10:05:30Z",
     "data": {"stream_id": "stream_abc123", "viewer_count": 128, "change": 3}},
    {"event": "chat.message.new", "timestamp": "2024-12-09T10:10:00Z",
     "data": {"stream_id": "stream_abc123", "message_id": "msg_jkl012", "user_id": "user_456",
              "user_name": "GamerPro", "message": "Great stream!", "created_at": "2024-12-09T10:10:00Z"}},
    {"event": "stream.error", "timestamp": "2024-12-09T10:30:00Z",
     "data": {"stream_id": "stream_abc123", "error_code": "ENCODER_ERROR",
              "error_message": "Encoder disconnected unexpectedly"}},
    {"event": "stream.offline", "timestamp": "2024-12-09T11:00:00Z",
     "data": {"stream_id": "stream_abc123", "duration": 3600, "peak_viewers": 1234,
              "ended_at": "2024-12-09T11:00:00Z"}},
]


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def rc_source(tenant):
    source, _ = source_create(tenant=tenant, name="RealCast", kind="realcast", signing_secret=SECRET)
    return source


def rc_post(client, source, event: dict, *, webhook_id: str, signature: str | None = None, body: bytes | None = None):
    body = body if body is not None else json.dumps(event).encode()
    headers = {"HTTP_X_REALCAST_WEBHOOK_ID": webhook_id}
    if signature is not False:
        headers["HTTP_X_REALCAST_SIGNATURE"] = sign(body) if signature is None else signature
    return client.generic("POST", f"/webhooks/realcast/{source.pk}", body, content_type="application/json",
                          **headers)


def _process_received() -> None:
    """What the Celery task does, run here (the end-to-end worker test is in test_realcast_worker.py)."""
    for pk in InboundMessage.objects.filter(status="received").order_by("pk").values_list("pk", flat=True):
        message_process(message_pk=pk)


@pytest.mark.django_db
def test_realcast_events_signed_like_realcasts_guide_are_acknowledged_then_processed(client, rc_source, tenant):
    for n, event in enumerate(RC_EVENTS):
        response = rc_post(client, rc_source, event, webhook_id=f"wh_{n}")
        assert response.status_code == 200 and response.json()["status"] == "accepted"
    assert StreamSession.objects.count() == 0  # acknowledged only: processing is the task's
    _process_received()

    session = StreamSession.objects.get(tenant=tenant, session_id="stream_abc123")
    assert (session.platform, session.title, session.dj_username) == ("realcast", "Epic Gaming Session", "user_123")
    assert (session.status, session.duration_seconds, session.peak_viewers) == ("offline", 3600, 1234)
    assert session.current_viewers == 128
    assert ChatMessage.objects.get().user_name == "GamerPro"
    assert StreamError.objects.get().error_code == "ENCODER_ERROR"
    assert _types(tenant) == ["chat.message.new", "stream.error", "stream.live", "stream.offline",
                              "viewer.count.update", "viewer.joined"]
    assert set(InboundMessage.objects.values_list("status", flat=True)) == {"processed"}


@pytest.mark.django_db
def test_realcast_duplicate_webhook_id_is_acknowledged_and_not_processed_twice(client, rc_source, tenant):
    event = RC_EVENTS[3]
    assert rc_post(client, rc_source, event, webhook_id="wh_dup").status_code == 200
    _process_received()
    assert rc_post(client, rc_source, event, webhook_id="wh_dup").status_code == 200
    _process_received()
    assert InboundMessage.objects.filter(status="processed").count() == 1
    assert ChatMessage.objects.count() == 1 and _types(tenant) == ["chat.message.new"]


@pytest.mark.django_db
def test_realcast_offline_before_live_and_replays_give_the_same_state(client, rc_source, tenant):
    for n, event in enumerate(reversed(RC_EVENTS)):
        rc_post(client, rc_source, event, webhook_id=f"wh_{n}")
    _process_received()
    first = StreamSession.objects.values("status", "started_at", "ended_at", "duration_seconds",
                                         "peak_viewers", "current_viewers", "title").get()
    for message in InboundMessage.objects.all():  # an operator replays everything
        message_process(message_pk=message.pk, force=True)
    assert StreamSession.objects.values(*first).get() == first
    assert first["status"] == "offline" and first["duration_seconds"] == 3600
    assert ChatMessage.objects.count() == 1 and StreamError.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("signature", [False, "", "sha256=", "sha256=" + "0" * 64, "nonsense",
                                       "sha256=" + hmac.new(b"other", b"x", hashlib.sha256).hexdigest()])
def test_realcast_bad_or_missing_signature_is_401(client, rc_source, signature):
    response = rc_post(client, rc_source, RC_EVENTS[0], webhook_id="wh_bad", signature=signature)
    assert response.status_code == 401
    assert InboundMessage.objects.count() == 0


@pytest.mark.django_db
def test_realcast_signature_is_over_the_raw_body(client, rc_source):
    body = json.dumps(RC_EVENTS[0], indent=4).encode()  # not the compact form: the bytes count
    assert rc_post(client, rc_source, RC_EVENTS[0], webhook_id="wh_raw", body=body).status_code == 200
    reserialised = sign(json.dumps(json.loads(body)).encode())
    assert rc_post(client, rc_source, RC_EVENTS[0], webhook_id="wh_raw2", body=body,
                   signature=reserialised).status_code == 401


@pytest.mark.django_db
def test_realcast_another_sources_id_or_secret_is_401(client, rc_source, other_tenant):
    theirs, _ = source_create(tenant=other_tenant, name="RC", kind="realcast", signing_secret="their-secret")
    body = json.dumps(RC_EVENTS[0]).encode()
    # Signed with our secret but posted to their URL, and the other way round.
    assert rc_post(client, theirs, RC_EVENTS[0], webhook_id="a", body=body).status_code == 401
    assert rc_post(client, rc_source, RC_EVENTS[0], webhook_id="b", body=body,
                   signature=sign(body, "their-secret")).status_code == 401
    assert client.post("/webhooks/realcast/999999", body, content_type="application/json",
                       HTTP_X_REALCAST_SIGNATURE=sign(body)).status_code == 401
    assert client.post("/webhooks/realcast/abc", body, content_type="application/json",
                       HTTP_X_REALCAST_SIGNATURE=sign(body)).status_code == 401


@pytest.mark.django_db
def test_realcast_unknown_event_is_acknowledged_and_ignored(client, rc_source, tenant):
    event = {"event": "stream.thumbnail", "timestamp": "2024-12-09T10:00:00Z", "data": {"stream_id": "x"}}
    assert rc_post(client, rc_source, event, webhook_id="wh_unknown").status_code == 200
    _process_received()
    assert InboundMessage.objects.get().status == "processed"
    assert StreamSession.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("payload", [
    {"event": "stream.live", "timestamp": "2024-12-09T10:00:00Z", "data": {}},
    {"event": "viewer.count.update", "timestamp": "2024-12-09T10:00:00Z",
     "data": {"stream_id": "s", "viewer_count": "lots"}},
    {"event": "chat.message.new", "timestamp": "2024-12-09T10:00:00Z", "data": {"stream_id": "s"}},
    {"event": "stream.live", "data": {"stream_id": "s"}},
    {"event": 5, "timestamp": "2024-12-09T10:00:00Z", "data": {"stream_id": "s"}},
    {"event": "stream.live", "timestamp": "2024-12-09T10:00:00Z", "data": ["stream_id"]},
    {"event": "recording.ready", "timestamp": "2024-12-09T10:00:00Z", "data": {"stream_id": "s"}},
    {"event": "stream.offline", "timestamp": "2024-12-09T10:00:00Z", "data": {"stream_id": "s", "duration": 1e300}},
    {"event": "viewer.count.update", "timestamp": "2024-12-09T10:00:00Z",
     "data": {"stream_id": "s", "viewer_count": 2**31}},
])
def test_realcast_invalid_event_is_acknowledged_and_fails_without_a_500(client, rc_source, payload):
    assert rc_post(client, rc_source, payload, webhook_id="wh_invalid").status_code == 200
    _process_received()
    message = InboundMessage.objects.get()
    assert message.status == "failed" and message.response_status == 400
    assert StreamSession.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(("payload", "named"), [
    ({"event": "viewer.count.update", "timestamp": "2024-12-09T10:00:00Z",
      "data": {"stream_id": "s", "viewer_count": "lots"}}, "data.viewer_count"),
    ({"event": "stream.live", "timestamp": "2024-12-09T10:00:00Z", "data": ["stream_id"]}, "data"),
    ({"event": "recording.ready", "timestamp": "2024-12-09T10:00:00Z", "data": {"recording_id": "  "}},
     "data.recording_id"),
    ({"event": 5, "timestamp": "2024-12-09T10:00:00Z", "data": {}}, "event"),
])
def test_realcast_invalid_event_names_the_field_its_event_type_checks(client, rc_source, payload, named):
    assert rc_post(client, rc_source, payload, webhook_id="wh_named").status_code == 200
    _process_received()
    assert InboundMessage.objects.get().response_body["message"] == f"Invalid payload: {named}"


@pytest.mark.django_db
def test_realcast_handler_called_directly_is_idempotent(rc_source, tenant):
    message = InboundMessage(tenant=tenant, source=rc_source, handler="streams.realcast")
    for _ in range(2):
        for event in RC_EVENTS:
            realcast(message, json.loads(json.dumps(event)))
    assert StreamSession.objects.count() == 1 and ChatMessage.objects.count() == 1
    assert _types(tenant).count("stream.live") == 1 and _types(tenant).count("stream.offline") == 1


@pytest.mark.django_db
def test_realcast_recording_events_land_in_recordings(client, rc_source, tenant):
    from recordings.models import Recording

    ready = {"event": "recording.ready", "timestamp": "2024-12-09T11:15:00Z",
             "data": {"recording_id": "rec_ghi789", "stream_id": "stream_abc123",
                      "cdn_url": "https://cdn.telegram.org/file/BAACAgIAAxkBAAI...", "duration": 3600,
                      "file_size": 524288000}}
    started = {"event": "recording.started", "timestamp": "2024-12-09T10:00:00Z",
               "data": {"recording_id": "rec_ghi789", "stream_id": "stream_abc123"}}
    assert rc_post(client, rc_source, ready, webhook_id="wh_rec_ready").status_code == 200
    assert rc_post(client, rc_source, started, webhook_id="wh_rec_started").status_code == 200  # late
    _process_received()
    recording = Recording.objects.get(tenant=tenant, recording_id="rec_ghi789")
    assert (recording.status, recording.stream_id, recording.file_size_bytes) == ("ready", "stream_abc123",
                                                                                  524288000)
    assert set(InboundMessage.objects.values_list("status", flat=True)) == {"processed"}


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
_fields = st.fixed_dictionaries({}, optional={
    "timestamp": st.sampled_from(["2025-09-28T20:30:00Z", "2025-09-28", "", "x"]) | _json_values,
    "session_id": st.text(max_size=30) | _json_values,
    "event_type": st.sampled_from(["track_start", "chat_message", "stream_start", "stream_update", "stream_end"])
    | _json_values,
    "dj_stream": _json_values,
    "track_data": st.fixed_dictionaries({}, optional={"artist": _json_values, "title": _json_values,
                                                      "bpm": _json_values, "classification": _json_values}),
    "chat_interaction": _json_values,
})


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=_fields)
def test_fuzzed_payloads_never_get_a_500(assistant, payload):
    for path in ("/api/webhook/track-classified", "/api/webhook/chat-interaction", "/api/webhook/stream-stats"):
        response = post(assistant, path, json.dumps(payload).encode())
        assert response.status_code in (201, 400), (path, payload, response.content[:300])


@pytest.mark.django_db
def test_another_tenants_realcast_source_never_touches_this_tenants_stream(client, rc_source, tenant, other_tenant):
    theirs, _ = source_create(tenant=other_tenant, name="RC", kind="realcast", signing_secret="their-secret")
    assert rc_post(client, rc_source, RC_EVENTS[0], webhook_id="wh_live").status_code == 200
    offline = json.dumps(RC_EVENTS[-1]).encode()  # the same stream_id, from their RealCast account
    response = client.generic("POST", f"/webhooks/realcast/{theirs.pk}", offline, content_type="application/json",
                              HTTP_X_REALCAST_SIGNATURE=sign(offline, "their-secret"),
                              HTTP_X_REALCAST_WEBHOOK_ID="wh_live")  # and the same webhook id: not a duplicate
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    _process_received()
    assert StreamSession.objects.get(tenant=tenant, session_id="stream_abc123").status == "live"
    assert StreamSession.objects.get(tenant=other_tenant, session_id="stream_abc123").status == "offline"


@pytest.mark.django_db
@pytest.mark.parametrize("event", [
    {"event": "stream.offline", "timestamp": "0001-01-01T00:00:00Z",
     "data": {"stream_id": "s", "duration": 3600, "ended_at": "0001-01-01T00:10:00Z"}},
    {"event": "stream.offline", "timestamp": "0001-01-01T00:00:00+01:00", "data": {"stream_id": "s"}},
    {"event": "stream.live", "timestamp": "9999-12-31T23:59:59-01:00", "data": {"stream_id": "s"}},
    {"event": "viewer.count.update", "timestamp": "9999-12-31T23:59:59Z",
     "data": {"stream_id": "s", "viewer_count": 3}},
    {"event": "chat.message.new", "timestamp": "9999-12-31T23:59:59Z",
     "data": {"stream_id": "s", "message_id": "m", "created_at": "0001-01-01T00:00:00Z"}},
])
def test_realcast_events_at_the_edges_of_time_are_processed_or_refused_never_a_handler_error(client, rc_source,
                                                                                            event):
    # Times outside the window around the receipt are refused on receipt (core/eventtime.py).
    assert rc_post(client, rc_source, event, webhook_id="wh_edge").status_code in (200, 400)
    _process_received()
    message = InboundMessage.objects.get()
    assert (message.status, message.response_status) in {("processed", 200), ("failed", 400)}, message.response_body


def _leaves(payload: dict, prefix: tuple = ()):
    for name, value in payload.items():
        yield (*prefix, name), value
        if isinstance(value, dict) and name != "emoji_reactions":
            yield from _leaves(value, (*prefix, name))


_GUIDE_PAYLOADS = {
    "/api/webhook/track-classified": json.loads(guide_json(GUIDE_TRACK)),
    "/api/webhook/chat-interaction": json.loads(guide_json(GUIDE_CHAT, DJ_STREAM)),
    "/api/webhook/stream-stats": json.loads(guide_json(GUIDE_STATS, DJ_STREAM)),
}
# Wrong for every field of the senders' payloads, whatever its type: each must be a 400 naming the field.
_WRONG_EVERYWHERE = [[1], True, "x" * 100_000]
_WRONG_FOR_NUMBERS = ["127", "fast", -5, 10**20, {}, ""]  # (null is allowed: they are optional)
_NUMBERS = {"viewer_count", "bpm", "confidence", "response_count"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", sorted(_GUIDE_PAYLOADS))
def test_a_wrong_value_in_any_field_of_the_senders_payloads_is_a_400_naming_it(assistant, path):
    base = _GUIDE_PAYLOADS[path]
    checked = 0
    for field_path, _ in _leaves(base):
        name = field_path[-1]
        wrong = list(_WRONG_EVERYWHERE)
        if name in _NUMBERS:
            wrong += _WRONG_FOR_NUMBERS
        if name == "timestamp":
            wrong += ["2025-13-45T99:00:00Z", "yesterday", 1727555400, None]
        for value in wrong:
            payload = json.loads(json.dumps(base))
            target = payload
            for key in field_path[:-1]:
                target = target[key]
            target[name] = value
            response = post(assistant, path, json.dumps(payload).encode())
            assert response.status_code == 400, (path, field_path, repr(value)[:40], response.content[:200])
            assert field_path[0] in response.json()["errors"], (path, field_path, response.json())
            checked += 1
    assert checked > 20 and not StreamSession.objects.exists()
