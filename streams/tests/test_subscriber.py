"""A tenant's subscriber gets the stream.*, track.classified and chat.* events."""

import json
import time

import pytest
from pytest_httpserver import HTTPServer
from rest_framework.test import APIClient
from standardwebhooks import Webhook

from streams.tests.test_ingest import (
    DJ_STREAM,
    GUIDE_CHAT,
    GUIDE_STATS,
    GUIDE_TRACK,
    RC_EVENTS,
    SECRET,
    guide_json,
    sign,
)
from webhooks.fanout import events_fan_out
from webhooks.inbound.models import InboundMessage
from webhooks.inbound.services import message_process, source_create
from webhooks.models import Delivery, Event
from webhooks.services import endpoint_create

STREAM_TYPES = {"stream.live", "stream.updated", "stream.offline", "stream.error", "viewer.joined",
                "viewer.count.update", "chat.message.new", "chat.interaction", "track.classified"}


def _post_everything(client, assistant_key: str, rc_source_id: int) -> None:
    assistant = APIClient()
    assistant.credentials(HTTP_AUTHORIZATION=f"Bearer {assistant_key}")
    start = guide_json(GUIDE_STATS, DJ_STREAM).replace(b'"stream_update"', b'"stream_start"').replace(
        b"20:45:00", b"20:00:00")
    bodies = [
        ("/api/webhook/stream-stats", start),
        ("/api/webhook/track-classified", guide_json(GUIDE_TRACK)),
        ("/api/webhook/chat-interaction", guide_json(GUIDE_CHAT, DJ_STREAM)),
        ("/api/webhook/stream-stats", guide_json(GUIDE_STATS, {**DJ_STREAM, "viewer_count": 150})),
    ]
    for path, body in bodies:
        assert assistant.generic("POST", path, body, content_type="application/json").status_code == 201
    for n, event in enumerate(RC_EVENTS):
        body = json.dumps(event).encode()
        response = client.generic("POST", f"/webhooks/realcast/{rc_source_id}", body,
                                  content_type="application/json", HTTP_X_REALCAST_SIGNATURE=sign(body),
                                  HTTP_X_REALCAST_WEBHOOK_ID=f"wh_{n}")
        assert response.status_code == 200


@pytest.mark.django_db
def test_subscriber_gets_a_delivery_for_every_stream_event(client, tenant, other_tenant):
    endpoint = endpoint_create(tenant=tenant, url="http://127.0.0.1:9/streams", events=[])
    other = endpoint_create(tenant=other_tenant, url="http://127.0.0.1:9/other", events=[])
    _, key = source_create(tenant=tenant, name="assistant", kind="stream-assistant")
    rc, _ = source_create(tenant=tenant, name="RealCast", kind="realcast", signing_secret=SECRET)
    _post_everything(client, key, rc.pk)
    for pk in InboundMessage.objects.filter(status="received").order_by("pk").values_list("pk", flat=True):
        message_process(message_pk=pk)  # what the Celery task does

    events = Event.objects.filter(tenant=tenant, type__in=STREAM_TYPES)
    assert set(events.values_list("type", flat=True)) == STREAM_TYPES
    events_fan_out()
    deliveries = Delivery.objects.filter(endpoint=endpoint)
    assert set(deliveries.values_list("event__type", flat=True)) == STREAM_TYPES
    assert deliveries.count() == events.count()
    assert not Delivery.objects.filter(endpoint=other).exists()


def _session(**fields) -> dict:
    return {"session_id": "stream-session-uuid", "platform": "twitch", "dj_username": "djunohoo",
            "title": "Deep House Vibes", "status": "live", "started_at": "2025-09-28T20:00:00.000Z", "ended_at": None,
            "duration_seconds": None, "current_viewers": 127, "peak_viewers": 127, **fields}


_RC_SESSION = {"session_id": "stream_abc123", "platform": "realcast", "dj_username": "user_123",
               "title": "Epic Gaming Session", "started_at": "2024-12-09T10:00:00.000Z"}


@pytest.mark.integration
def test_subscriber_receives_every_stream_event_signed_and_with_its_data(worker_factory, client, tenant,
                                                                         httpserver: HTTPServer):
    worker_factory(concurrency=1)  # RealCast's events processed in the order sent, so the data below is fixed
    httpserver.expect_request("/hooks", method="POST").respond_with_data("ok")
    endpoint = endpoint_create(tenant=tenant, url=httpserver.url_for("/hooks"), events=sorted(STREAM_TYPES))
    _, key = source_create(tenant=tenant, name="assistant", kind="stream-assistant")
    rc, _ = source_create(tenant=tenant, name="RealCast", kind="realcast", signing_secret=SECRET)
    _post_everything(client, key, rc.pk)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(httpserver.log) < 10:
        time.sleep(0.2)
    received: dict[str, list] = {}
    verifier = Webhook(endpoint.secret)
    for request, _response in httpserver.log:
        payload = verifier.verify(request.get_data(), dict(request.headers))  # raises if the signature is bad
        received.setdefault(payload["type"], []).append(payload["data"])
    assert {t: len(v) for t, v in received.items()} == {t: 2 if t == "stream.live" else 1 for t in STREAM_TYPES}

    track_id = received["track.classified"][0]["id"]
    assert sorted(received["stream.live"], key=lambda d: d["platform"]) == [
        {**_RC_SESSION, "status": "live", "ended_at": None, "duration_seconds": None, "current_viewers": 0,
         "peak_viewers": 0},
        _session(),
    ]
    assert received["stream.updated"] == [_session(current_viewers=150, peak_viewers=150)]
    assert received["track.classified"] == [{
        "id": track_id, "session_id": "stream-session-uuid", "played_at": "2025-09-28T20:30:00.000Z",
        "artist": "LTJ Bukem", "title": "Music", "bpm": 174.0, "key": "A minor", "main_genre": "drum and bass",
        "subgenre": "liquid dnb", "confidence": 0.96, "characteristics": ["atmospheric", "jazzy", "melodic"],
        "viewers_at_play": 127,
    }]
    [interaction] = received["chat.interaction"]
    assert interaction == {
        "id": interaction["id"], "session_id": "stream-session-uuid", "at": "2025-09-28T20:30:15.000Z",
        "message_sent": "🌊 Liquid DnB detected! Notice those smooth jazz influences...",
        "engagement_type": "educational", "audience_reaction": "positive", "response_count": 8,
        "emoji_reactions": {"🌊": 5, "🔥": 3}, "track_id": track_id,
    }
    assert received["viewer.joined"] == [{"session_id": "stream_abc123", "viewer_id": "viewer_def456",
                                          "viewer_count": 125, "at": "2024-12-09T10:05:00.000Z"}]
    assert received["viewer.count.update"] == [{"session_id": "stream_abc123", "viewer_count": 128, "change": 3,
                                                "peak_viewers": 128, "at": "2024-12-09T10:05:30.000Z"}]
    assert received["chat.message.new"] == [{"session_id": "stream_abc123", "message_id": "msg_jkl012",
                                             "user_id": "user_456", "user_name": "GamerPro",
                                             "message": "Great stream!", "created_at": "2024-12-09T10:10:00.000Z"}]
    assert received["stream.error"] == [{"session_id": "stream_abc123", "error_code": "ENCODER_ERROR",
                                         "error_message": "Encoder disconnected unexpectedly",
                                         "at": "2024-12-09T10:30:00.000Z"}]
    assert received["stream.offline"] == [{**_RC_SESSION, "status": "offline", "ended_at": "2024-12-09T11:00:00.000Z",
                                           "duration_seconds": 3600, "current_viewers": 128, "peak_viewers": 1234}]


@pytest.mark.django_db
def test_every_emitted_payload_has_the_keys_of_its_registered_example(client, tenant):
    from webhooks.registry import get_event_type

    _, key = source_create(tenant=tenant, name="assistant", kind="stream-assistant")
    rc, _ = source_create(tenant=tenant, name="RealCast", kind="realcast", signing_secret=SECRET)
    _post_everything(client, key, rc.pk)
    for pk in InboundMessage.objects.filter(status="received").order_by("pk").values_list("pk", flat=True):
        message_process(message_pk=pk)
    for event in Event.objects.filter(tenant=tenant, type__in=STREAM_TYPES):
        assert set(event.data) == set(get_event_type(event.type).example), event.type
