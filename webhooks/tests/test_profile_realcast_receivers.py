"""Done when: RealCast's own receivers, as its webhook guide writes them (Node/Express run with `node`, and the
Python one), get a `"profile": "realcast"` endpoint's deliveries and read every field they use.

The endpoints are created through the API with only url, events and profile; the events come from our
own domain services (a stream going live, viewers, its end, a recording) and a real Celery worker
delivers them.
"""

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.crypto import reveal
from recordings.services import recording_upsert_from_realcast
from streams import services as streams
from webhooks.models import Delivery, Endpoint
from webhooks.tests.receivers import PythonReceiver
from webhooks.tests.receivers.realcast_python import verify_webhook_signature

pytestmark = pytest.mark.django_db(transaction=True)

EXPRESS_DIR = Path(__file__).resolve().parent / "receivers" / "express_receiver"
EVENTS = ["stream.live", "stream.offline", "viewer.joined", "viewer.count.update", "recording.ready"]
# The data fields RealCast's guide documents for each event: what a receiver written from it may read.
DOCUMENTED = {
    "stream.live": ["stream_id", "app_id", "title", "streamer_id", "started_at"],
    "stream.offline": ["stream_id", "duration", "peak_viewers", "ended_at"],
    "viewer.joined": ["stream_id", "viewer_id", "viewer_count"],
    "viewer.count.update": ["stream_id", "viewer_count", "change"],
    "recording.ready": ["recording_id", "stream_id", "cdn_url", "duration", "file_size"],
}
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def express():
    """express, pinned in the receiver's package.json, installed beside it once (npm's registry is reachable)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are needed: the test runs RealCast's Express receiver as written")
    if not (EXPRESS_DIR / "node_modules" / "express").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=EXPRESS_DIR, check=True, capture_output=True,
                       timeout=300)
    return EXPRESS_DIR


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ExpressReceiver:
    """`node server.js` on `port`; every line it prints is kept in `lines`."""

    def __init__(self, directory: Path, *, port: int, secret: str):
        self.directory, self.port, self.secret = directory, port, secret
        self.lines: list[str] = []

    def __enter__(self) -> "ExpressReceiver":
        self.proc = subprocess.Popen(
            ["node", "server.js"], cwd=self.directory, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env={**os.environ, "PORT": str(self.port), "WEBHOOK_SECRET": reveal(self.secret),
                 "DISCORD_WEBHOOK_URL": "https://discord.example.com/api/webhooks/1"},
        )
        first = self.proc.stdout.readline()
        if not first.startswith("listening "):
            self.proc.kill()
            raise RuntimeError(f"the Express receiver did not start: {first}{self.proc.stdout.read()}")
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        return self

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self.reader.join(5)
        self.proc.stdout.close()


def python_receiver_view(secret_of: dict):
    """The guide's Python usage block (verify the raw body with X-RealCast-Signature), then the documented
    fields read the way Python code reads them: a missing one is a KeyError, which a framework answers 500."""

    def view(request):
        payload = request.get_data(as_text=True)
        signature = request.headers.get('X-RealCast-Signature')
        if not verify_webhook_signature(payload, signature, secret_of["secret"]):
            return 401, 'Invalid signature'
        body = request.get_json()
        data = body["data"]
        return 200, json.dumps({name: data[name] for name in DOCUMENTED[body["event"]]})

    return view


def create_profile_endpoint(api_client, url: str) -> dict:
    response = api_client.post("/api/v1/webhooks", {"url": url, "events": EVENTS, "profile": "realcast"},
                               format="json")
    assert response.status_code == 201, response.content
    return response.json()


def drive_a_stream(tenant) -> None:
    """What RealCast reports about one stream, through our own services, which emit our events."""
    info = streams.StreamInfo(platform="realcast", title="Epic Gaming Session", dj_username="user_123")
    streams.session_start(tenant=tenant, session_id="stream_abc123", at=T0, started_at=T0, info=info)
    streams.viewer_count_record(tenant=tenant, session_id="stream_abc123", at=T0 + timedelta(minutes=5),
                                viewer_count=125, viewer_id="viewer_def456")
    streams.viewer_count_record(tenant=tenant, session_id="stream_abc123", at=T0 + timedelta(minutes=6),
                                viewer_count=128, change=3)
    streams.session_end(tenant=tenant, session_id="stream_abc123", at=T0 + timedelta(hours=1),
                        ended_at=T0 + timedelta(hours=1), duration_seconds=3600, peak_viewers=1234)
    recording_upsert_from_realcast(
        tenant=tenant, event="recording.ready", event_time=T0 + timedelta(minutes=75),
        data={"recording_id": "rec_ghi789", "stream_id": "stream_abc123",
              "cdn_url": "https://cdn.example.com/file/rec_ghi789.mp4", "duration": 3600, "file_size": 524288000},
    )


def wait_delivered(endpoint_ids: list[int], count: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        deliveries = Delivery.objects.filter(endpoint_id__in=endpoint_ids)
        done = deliveries.exclude(status=Delivery.Status.PENDING)
        if done.count() >= count:
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"{done.count()} of {count} deliveries done: "
                                 f"{list(deliveries.values_list('status', 'last_status_code', 'last_error'))}")
        time.sleep(0.2)
    failed = list(deliveries.exclude(status=Delivery.Status.SUCCEEDED).values_list("endpoint__url", "last_error"))
    assert not failed, failed


def test_realcast_receivers_read_every_field_of_a_profile_endpoints_deliveries(
    api_client, tenant, celery_worker, express,
):
    port = free_port()
    base = f"http://127.0.0.1:{port}/webhooks/realcast"
    paths = ["", "/idempotent", "/email", "/discord", "/database"]
    node_endpoints = [create_profile_endpoint(api_client, base + path) for path in paths]
    secret_of: dict = {}
    with PythonReceiver(python_receiver_view(secret_of)) as python, \
            ExpressReceiver(express, port=port, secret=node_endpoints[0]["secret"]) as node:
        python_endpoint = create_profile_endpoint(api_client, python.url)
        secret_of["secret"] = python_endpoint["secret"]
        drive_a_stream(tenant)
        ids = [e["id"] for e in [*node_endpoints, python_endpoint]]
        wait_delivered(ids, count=len(EVENTS) * len(ids))
        time.sleep(0.3)  # the last console.log lines reach the reader thread
        lines = list(node.lines)

    # One field did it: the profile set RealCast's signature, envelope and retries.
    endpoint = Endpoint.objects.get(pk=python_endpoint["id"])
    assert (endpoint.signature_scheme, endpoint.signature_header, endpoint.payload_style, endpoint.retry_schedule) \
        == ("hmac-sha256-hex", "X-RealCast-Signature", "event", [1, 5, 25])

    assert not [line for line in lines if "undefined" in line or "NaN" in line], lines
    # The Quick Start handler: signature verified (else 401, which would have failed a delivery above).
    assert {"Stream stream_abc123 went live", "Stream stream_abc123 ended", "New viewer: viewer_def456",
            "Unhandled event: viewer.count.update", "Unhandled event: recording.ready"} <= set(lines)
    # Idempotency: one "Processing" per delivery, keyed by X-RealCast-Webhook-Id, each an event id of ours.
    processed = [line.split()[-1] for line in lines if line.startswith("Processing webhook ")]
    assert len(processed) == len(set(processed)) == len(EVENTS) and all(p.startswith("msg_") for p in processed)
    # The use cases: the e-mail's duration and peak viewers, Discord's title, the database's fields.
    email = json.loads(next(line for line in lines if line.startswith("EMAIL "))[6:])
    assert "ended after 60 minutes" in email["body"] and "with 1234 peak viewers" in email["body"]
    assert "https://dashboard.realcast.io/streams/stream_abc123" in email["body"]
    discord = json.loads(next(line for line in lines if line.startswith("DISCORD "))[8:])
    assert discord["content"] == ("@everyone Epic Gaming Session is now live! "
                                  "Watch at: https://watch.example.com/stream_abc123")
    rows = [json.loads(line[3:]) for line in lines if line.startswith("DB ")]
    assert {"id": "stream_abc123", "status": "live", "started_at": "2026-11-22T10:00:00.000Z"} in rows
    assert {"id": "stream_abc123", "viewer_count": 128} in rows

    # The Python receiver read every documented field of every event, none of them null.
    read = {json.loads(r["body"])["event"]: json.loads(r["text"]) for r in python.received if r["status"] == 200}
    assert set(read) == set(EVENTS), [(r["status"], r["text"]) for r in python.received]
    for event, fields in read.items():
        assert [name for name, value in fields.items() if value is None] == [], (event, fields)
    assert read["stream.live"] == {"stream_id": "stream_abc123", "app_id": tenant.slug,
                                   "title": "Epic Gaming Session", "streamer_id": "user_123",
                                   "started_at": "2026-11-22T10:00:00.000Z"}
    assert read["stream.offline"]["duration"] == 3600 and read["stream.offline"]["peak_viewers"] == 1234
    assert read["recording.ready"] == {"recording_id": "rec_ghi789", "stream_id": "stream_abc123",
                                       "cdn_url": "https://cdn.example.com/file/rec_ghi789.mp4", "duration": 3600,
                                       "file_size": 524288000}
