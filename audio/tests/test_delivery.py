"""End to end: `sample_audio` emits, a real Celery worker delivers `{type, timestamp, data}` bodies
(the `standard` payload style the audio frontend reads) to a subscribed endpoint."""

import json
import threading
import time

import pytest
from django.core.management import call_command
from werkzeug import Response

from audio import services
from webhooks.tests.engine import endpoint_make

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_levels_and_status_reach_a_standard_style_endpoint(celery_worker, tenant, httpserver):
    httpserver.expect_request("/api/webhook/receive", method="POST").respond_with_data("ok")
    endpoint_make(tenant, httpserver.url_for("/api/webhook/receive"), events=["audio.level", "listening.status"],
                  payload_style="standard")
    call_command("sample_audio", "--source", "synth", "--level", "-20", "--duration", "0.5", "--quiet")

    def bodies():
        return [json.loads(request.get_data()) for request, _ in httpserver.log]

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        types = [b["type"] for b in bodies()]
        if types.count("listening.status") >= 2 and "audio.level" in types:
            break
        time.sleep(0.2)
    received = bodies()
    statuses = [b["data"] for b in received if b["type"] == "listening.status"]
    assert sorted(s["status"] for s in statuses) == ["active", "stopped"], received
    levels = [b for b in received if b["type"] == "audio.level"]
    assert levels, received
    level = levels[-1]
    assert set(level) >= {"type", "timestamp", "data"}
    assert set(level["data"]) == {"audioLevel", "timestamp", "sessionId", "rmsDbfs", "peakDbfs", "clip"}
    assert level["data"]["audioLevel"] == 61.6 and level["data"]["rmsDbfs"] == -23.01
    assert level["data"]["sessionId"] == statuses[0]["sessionId"]


def test_a_slow_frontend_gets_the_latest_levels_in_order_not_a_backlog(celery_worker, tenant, httpserver,
                                                                       monkeypatch):
    """The audio frontend answering in 0.4 s while levels come ten a second: it receives fewer levels
    than were emitted, never an older one after a newer one, and levels up to the last second of the run
    (what was still waiting when the session stopped is superseded: no level follows "stopped")."""
    def slow(request):
        threading.Event().wait(0.4)
        return Response("ok")

    httpserver.expect_request("/api/webhook/receive", method="POST").respond_with_handler(slow)
    endpoint_make(tenant, httpserver.url_for("/api/webhook/receive"), events=["audio.level"])
    published = []
    real = services.level_publish
    monkeypatch.setattr(services, "level_publish", lambda **kw: published.append(real(**kw)) or published[-1])
    call_command("sample_audio", "--source", "synth", "--synth", "noise", "--duration", "2", "--quiet")
    assert len(published) >= 15

    def received():
        return [json.loads(request.get_data())["data"] for request, _ in httpserver.log]

    deadline, seen, quiet_since = time.monotonic() + 30, 0, time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - quiet_since < 2.0:  # until nothing more arrives
        time.sleep(0.2)
        if len(received()) != seen:
            seen, quiet_since = len(received()), time.monotonic()
    got = received()
    stamps = [d["timestamp"] for d in got]
    assert stamps[-1] >= published[-10]["timestamp"], (stamps, published[-10])  # the latest values kept coming
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)  # in order, each once
    assert len(got) < len(published) / 2, (len(got), len(published))  # coalesced, not a backlog
    assert all(d in published for d in got)
