"""The audio frontend's view of a listening session, end to end with a real Celery worker: ten levels a
second on whichever broker is configured (the embedded filesystem one included), and no level after
the session's "stopped", whether the sampler ends the session or the API stops it."""

import io
import json
import re
import threading
import time

import pytest
from django.core.management import call_command
from werkzeug import Response

from audio.tests.helpers import read_line, start_command, stop_process
from webhooks.tests.engine import endpoint_make

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

RECEIVE = "/api/webhook/receive"


class Frontend:
    """A receiver on 127.0.0.1 keeping each body in the order the requests arrived."""

    def __init__(self, httpserver) -> None:
        self.bodies: list[dict] = []
        self.lock = threading.Lock()
        httpserver.expect_request(RECEIVE, method="POST").respond_with_handler(self._receive)
        self.url = httpserver.url_for(RECEIVE)

    def _receive(self, request) -> Response:
        with self.lock:
            self.bodies.append(json.loads(request.get_data()))
        return Response("ok")

    def received(self) -> list[dict]:
        with self.lock:
            return list(self.bodies)

    def wait_for(self, predicate, timeout: float = 30) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not predicate(self.received()):
            time.sleep(0.1)
        return self.received()

    def settle(self, quiet: float = 1.5, timeout: float = 30) -> list[dict]:
        """Wait until nothing has arrived for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        seen, since = len(self.received()), time.monotonic()
        while time.monotonic() < deadline and time.monotonic() - since < quiet:
            time.sleep(0.1)
            if len(self.received()) != seen:
                seen, since = len(self.received()), time.monotonic()
        return self.received()


def _levels_after_stopped(bodies: list[dict], session_id: str) -> list[dict]:
    stopped = [i for i, b in enumerate(bodies) if b["type"] == "listening.status"
               and b["data"]["sessionId"] == session_id and b["data"]["status"] != "active"]
    assert stopped, bodies
    return [b for b in bodies[stopped[0]:] if b["type"] == "audio.level" and b["data"]["sessionId"] == session_id]


def _sample(tenant, seconds: float) -> tuple[str, int]:
    out = io.StringIO()
    call_command("sample_audio", "--source", "synth", "--duration", str(seconds), "--quiet", "--tenant", tenant.slug,
                 stdout=out, stderr=io.StringIO())
    text = out.getvalue()
    session_id = re.search(r"listening: session (\S+)", text).group(1)
    ticks = int(re.search(r"done: (\d+) ticks", text).group(1))
    return session_id, ticks


def test_ten_levels_a_second_reach_a_subscriber(celery_worker, tenant, httpserver):
    """On the embedded broker a worker polled its folder once a second, and a level superseded while it
    waited was dropped: 60 of 601 arrived. Every level a fast frontend is sent must now get there."""
    frontend = Frontend(httpserver)
    endpoint_make(tenant, frontend.url, events=["audio.level"])
    session_id, ticks = _sample(tenant, 4.0)
    levels = [b for b in frontend.settle() if b["data"]["sessionId"] == session_id]
    assert ticks >= 35
    # A loaded machine may coalesce a few (latest value wins); a once-a-second poll would pass ~4.
    assert len(levels) >= 0.8 * ticks, (len(levels), ticks)
    stamps = [b["data"]["timestamp"] for b in levels]
    assert stamps == sorted(stamps)


def test_no_level_arrives_after_the_sampler_ends_its_session(celery_worker, tenant, httpserver):
    frontend = Frontend(httpserver)
    endpoint_make(tenant, frontend.url, events=["audio.level", "listening.status"])
    sessions = [_sample(tenant, 1.0)[0] for _ in range(3)]
    bodies = frontend.wait_for(lambda got: sum(b["type"] == "listening.status" for b in got) >= 6)
    bodies = frontend.settle()
    for session_id in sessions:
        assert any(b["type"] == "audio.level" and b["data"]["sessionId"] == session_id for b in bodies)
        assert _levels_after_stopped(bodies, session_id) == []


def test_no_level_arrives_after_the_api_stops_the_session(celery_worker, tenant, api_client, httpserver):
    """The sampler runs in its own process and learns of the stop later; its levels must end first."""
    frontend = Frontend(httpserver)
    endpoint_make(tenant, frontend.url, events=["audio.level", "listening.status"])
    proc = start_command("--source", "synth", "--quiet", "--tenant", tenant.slug)
    try:
        line, _ = read_line(proc, r"listening: session", timeout=60)
        session_id = line.split()[2]
        frontend.wait_for(lambda got: sum(b["type"] == "audio.level" for b in got) >= 10)
        assert api_client.post("/api/listen/stop", {}, format="json").json()["sessionId"] == session_id
        proc.wait(30)  # it notices the stop and ends by itself
    finally:
        stop_process(proc)
    bodies = frontend.settle()
    assert [b["data"]["status"] for b in bodies if b["type"] == "listening.status"][-1] == "stopped"
    assert _levels_after_stopped(bodies, session_id) == []
