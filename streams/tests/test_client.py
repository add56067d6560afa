"""The sender client on its own: payload shapes, retries, never raising."""

import json
import socket
import subprocess
import sys

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from streams.client import StreamAssistantWebhookClient

TRACK = {"artist": "LTJ Bukem", "title": "Music", "bpm": 174, "key": "A minor",
         "classification": {"main_genre": "drum and bass", "subgenre": "liquid dnb", "confidence": 0.96,
                            "characteristics": ["atmospheric", "jazzy", "melodic"]}}
INFO = {"twitch_username": "djunohoo", "stream_title": "Deep House Vibes", "viewer_count": 127}


def test_track_classification_is_shaped_like_seed_000(httpserver: HTTPServer):
    httpserver.expect_oneshot_request("/api/webhook/track-classified", method="POST",
                                      headers={"Authorization": "Bearer k-123"}).respond_with_json(
        {"status": "success"}, status=201)
    client = StreamAssistantWebhookClient(httpserver.url_for(""), api_key="k-123", session_id="stream-session-uuid")
    result = client.send_track_classification(TRACK, INFO, timestamp="2025-09-28T20:30:00Z")
    assert result.ok and result.status_code == 201 and result.body == {"status": "success"}
    sent = json.loads(httpserver.log[0][0].get_data())
    assert sent == {
        "timestamp": "2025-09-28T20:30:00Z",
        "dj_stream": {"twitch_username": "djunohoo", "stream_title": "Deep House Vibes", "viewer_count": 127,
                      "platform": "twitch"},
        "track_data": TRACK,
        "session_id": "stream-session-uuid",
        "event_type": "track_start",
    }


def test_chat_and_stats_payloads(httpserver: HTTPServer):
    httpserver.expect_request("/api/webhook/chat-interaction").respond_with_json({}, status=201)
    httpserver.expect_request("/api/webhook/stream-stats").respond_with_json({}, status=201)
    client = StreamAssistantWebhookClient(httpserver.url_for("/"), api_key="k")
    chat = {"message_sent": "🌊 Liquid DnB detected!", "engagement_type": "educational",
            "audience_reaction": "positive", "response_count": 8, "emoji_reactions": {"🌊": 5, "🔥": 3}}
    assert client.send_chat_interaction(chat, INFO).ok
    assert client.send_stream_stats(INFO, "stream_end").ok
    chat_body, stats_body = (json.loads(r.get_data()) for r, _ in httpserver.log)
    assert chat_body["event_type"] == "chat_message" and chat_body["chat_interaction"] == chat
    assert chat_body["session_id"] == stats_body["session_id"] == client.session_id
    assert stats_body["event_type"] == "stream_end" and stats_body["timestamp"].endswith("Z")
    assert not client.send_stream_stats(INFO, "stream_paused").ok  # refused locally, nothing sent
    assert len(httpserver.log) == 2


def test_5xx_is_retried_with_backoff_then_succeeds(httpserver: HTTPServer):
    calls = []

    def handler(request: Request) -> Response:
        calls.append(1)
        return Response("busy", status=503) if len(calls) < 3 else Response('{"ok":1}', status=201,
                                                                             content_type="application/json")

    httpserver.expect_request("/api/webhook/stream-stats").respond_with_handler(handler)
    client = StreamAssistantWebhookClient(httpserver.url_for("/"), backoff_factor=0.01)
    result = client.send_stream_stats(INFO, "stream_start")
    assert result.ok and len(calls) == 3


def test_4xx_is_not_retried_and_is_reported(httpserver: HTTPServer):
    httpserver.expect_request("/api/webhook/stream-stats").respond_with_json({"session_id": ["required"]},
                                                                               status=400)
    client = StreamAssistantWebhookClient(httpserver.url_for("/"), backoff_factor=0.01)
    result = client.send_stream_stats(INFO)
    assert not result.ok and result.status_code == 400 and "session_id" in result.error
    assert len(httpserver.log) == 1


def test_persistent_5xx_gives_up_without_raising(httpserver: HTTPServer):
    httpserver.expect_request("/api/webhook/stream-stats").respond_with_data("down", status=500)
    client = StreamAssistantWebhookClient(httpserver.url_for("/"), retries=2, backoff_factor=0.01)
    result = client.send_stream_stats(INFO)
    assert not result.ok and result.status_code == 500
    assert len(httpserver.log) == 3


def test_network_errors_never_raise_into_the_caller():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    client = StreamAssistantWebhookClient(f"http://127.0.0.1:{port}", retries=1, backoff_factor=0.01, timeout=1)
    result = client.send_track_classification(TRACK, INFO)
    assert not result.ok and result.status_code is None and "Connection" in result.error
    assert not StreamAssistantWebhookClient("not a url").send_stream_stats(INFO).ok


def test_disabled_client_sends_nothing(httpserver: HTTPServer):
    result = StreamAssistantWebhookClient(httpserver.url_for("/"), enabled=False).send_stream_stats(INFO)
    assert result.ok and result.skipped and httpserver.log == []


def test_client_module_does_not_import_django():
    code = "import sys; import streams.client; assert not any(m.startswith('django') for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)
