"""The audio frontend, driven as its document drives its backend: `POST /api/listen/start`, levels while a
sampler runs, `POST /api/listen/stop`, `GET /api/listen/status`; its receiver switches on `type`
(`audio_level`, `listening_status`) and reads `data.audioLevel`, `data.sessionId`, `data.isListening`,
`data.status`. Subscribed with `"payload_style": "underscore"`, it gets exactly those shapes."""

import json
import threading
import time

import pytest
from werkzeug import Response

from audio.tests.helpers import read_line, start_command, stop_process
from webhooks.tests.engine import endpoint_make

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


class FrontendReceiver:
    """What the frontend's `/api/webhook/receive` does with a body: switch on `type`, read `data`."""

    def __init__(self) -> None:
        self.levels: list[float] = []
        self.statuses: list[tuple[bool, str, str]] = []
        self.session_ids: set[str] = set()
        self.unknown: list[dict] = []
        self.lock = threading.Lock()

    def __call__(self, request) -> Response:
        body = json.loads(request.get_data())
        with self.lock:
            if body["type"] == "audio_level":
                self.levels.append(body["data"]["audioLevel"])
                self.session_ids.add(body["data"]["sessionId"])
            elif body["type"] == "listening_status":
                data = body["data"]
                self.statuses.append((data["isListening"], data["sessionId"], data["status"]))
            else:
                self.unknown.append(body)
        return Response("ok")


def test_the_audio_frontend_gets_its_level_and_status_shapes(celery_worker, tenant, api_client, httpserver):
    receiver = FrontendReceiver()
    httpserver.expect_request("/api/webhook/receive", method="POST").respond_with_handler(receiver)
    endpoint_make(tenant, httpserver.url_for("/api/webhook/receive"), events=["audio.level", "listening.status"],
                  payload_style="underscore")
    started = api_client.post("/api/listen/start", {"timestamp": "2026-12-06T08:00:00.000Z"}, format="json").json()
    assert started["success"] is True and started["message"] == "Listening started successfully"
    session_id = started["sessionId"]
    assert started["webhookUrl"] == httpserver.url_for("/api/webhook/receive")
    assert api_client.get("/api/listen/status").json() == {"isListening": True, "sessionId": session_id}
    sampler = start_command("--follow", "--source", "synth", "--quiet", "--tenant", tenant.slug)
    try:
        read_line(sampler, r"session \S+ active", timeout=60)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(receiver.levels) < 10:
            time.sleep(0.1)
        stopped = api_client.post("/api/listen/stop", {"timestamp": "2026-12-06T08:00:05.000Z"}, format="json")
        assert stopped.json() == {"success": True, "message": "Listening stopped successfully", "sessionId": session_id}
        read_line(sampler, r"ended; waiting", timeout=30)
    finally:
        stop_process(sampler)
    assert api_client.get("/api/listen/status").json() == {"isListening": False, "sessionId": None}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(receiver.statuses) < 2:
        time.sleep(0.1)
    assert receiver.unknown == []
    assert receiver.statuses == [(True, session_id, "active"), (False, session_id, "stopped")]
    assert len(receiver.levels) >= 10 and receiver.session_ids == {session_id}
    assert all(level == pytest.approx(61.6, abs=0.1) for level in receiver.levels)  # a -20 dBFS sine
