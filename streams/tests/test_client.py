"""The sender client on its own: payload shapes, retries, never raising."""

import json
import os
import shutil
import socket
import subprocess
import sys
import threading

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from streams import client as client_module
from streams.client import StreamAssistantWebhookClient

TRACK = {"artist": "LTJ Bukem", "title": "Music", "bpm": 174, "key": "A minor",
         "classification": {"main_genre": "drum and bass", "subgenre": "liquid dnb", "confidence": 0.96,
                            "characteristics": ["atmospheric", "jazzy", "melodic"]}}
INFO = {"twitch_username": "djunohoo", "stream_title": "Deep House Vibes", "viewer_count": 127}


def test_track_classification_is_shaped_like_the_assistant_guide(httpserver: HTTPServer):
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


def test_client_module_does_not_import_django(tmp_path):
    # A stream tool copies the one file: it must work there, with no Django settings and no Django import.
    shutil.copy(client_module.__file__, tmp_path / "stream_webhook_client.py")
    code = ("import sys; from stream_webhook_client import StreamAssistantWebhookClient as C; "
            "r = C('http://127.0.0.1:9', enabled=False).send_stream_stats({}); "
            "assert r.skipped; assert not [m for m in sys.modules if m.split('.')[0] == 'django'], 'django imported'")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO")}
    env["PYTHONPATH"] = str(tmp_path)
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path, env=env)


class _DropFirstConnections:
    """A real TCP server that closes the first `drop` connections without answering (a network
    error mid-request), then answers 201; counts the connections it saw."""

    def __init__(self, drop: int):
        self.drop, self.seen = drop, 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                self.seen += 1
                conn.recv(65536)
                if self.seen > self.drop:
                    body = b'{"ok": true}'
                    conn.sendall(b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nConnection: close\r\n"
                                 b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def close(self) -> None:
        self.sock.close()


def test_a_dropped_connection_is_retried():
    server = _DropFirstConnections(drop=2)
    try:
        client = StreamAssistantWebhookClient(server.url, backoff_factor=0.01)
        result = client.send_track_classification(TRACK, INFO)
    finally:
        server.close()
    assert result.ok and result.status_code == 201 and result.body == {"ok": True}
    assert server.seen == 3


def test_a_dropped_connection_every_time_gives_up_with_an_error():
    server = _DropFirstConnections(drop=99)
    try:
        result = StreamAssistantWebhookClient(server.url, retries=2, backoff_factor=0.01).send_stream_stats(INFO)
    finally:
        server.close()
    assert not result.ok and result.status_code is None and result.error
    assert server.seen == 3  # the first try and two retries


def test_whatever_the_caller_passes_the_client_never_raises(httpserver: HTTPServer):
    httpserver.expect_request("/api/webhook/track-classified").respond_with_json({}, status=201)
    client = StreamAssistantWebhookClient(httpserver.url_for("/"))
    assert client.send_track_classification({"artist": object()}, INFO).error.startswith("TypeError")
    assert client.send_track_classification(TRACK, stream_info=None).ok  # no stream info: nothing said
    assert json.loads(httpserver.log[-1][0].get_data())["dj_stream"] == {"platform": "twitch"}
    assert not client.send_chat_interaction(None, "not a dict").ok


def test_only_the_stream_info_given_is_sent(httpserver: HTTPServer):
    httpserver.expect_request("/api/webhook/stream-stats").respond_with_json({}, status=201)
    StreamAssistantWebhookClient(httpserver.url_for("/")).send_stream_stats({"viewer_count": 150, "mood": "x"})
    # No "0 viewers" or blank title for what the caller didn't say; unknown keys are not the assistant's.
    assert json.loads(httpserver.log[0][0].get_data())["dj_stream"] == {"platform": "twitch", "viewer_count": 150}


def test_a_refusal_is_reported_in_the_servers_words(httpserver: HTTPServer):
    httpserver.expect_request("/api/webhook/stream-stats").respond_with_json(
        {"status": "error", "message": "Invalid source key."}, status=401)
    result = StreamAssistantWebhookClient(httpserver.url_for("/"), api_key="nope").send_stream_stats(INFO)
    assert result.error == "HTTP 401: Invalid source key." and len(httpserver.log) == 1
