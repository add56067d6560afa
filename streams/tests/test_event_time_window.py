"""Event times outside the window around a message's arrival are refused; a replay is judged as received."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.crypto import reveal
from core.eventtime import Window, parse_window
from streams.models import StreamSession
from webhooks.inbound.models import InboundMessage
from webhooks.inbound.services import message_process, source_create
from webhooks.inbound.tests.factories import REALCAST_SECRET, hmac_hex_header

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def default_window(settings):
    settings.STREAMHOOK_EVENT_TIME_WINDOW = "7d,1d"


@pytest.fixture
def assistant_url(tenant):
    source = source_create(tenant=tenant, name="assistant", kind="stream-assistant")[0]
    return f"/s/{reveal(source.url_secret)}"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _stats(timestamp, event_type="stream_update", session_id="s-1"):
    return {"timestamp": timestamp, "dj_stream": {"twitch_username": "djunohoo", "viewer_count": 12},
            "session_id": session_id, "event_type": event_type}


def _post(client, url, payload, **headers):
    return client.generic("POST", url, json.dumps(payload), content_type="application/json", **headers)


@pytest.mark.parametrize("timestamp", ["0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z", 0, "0", "9999-12-31T23:59:59Z"])
def test_a_placeholder_time_is_a_400_naming_timestamp_and_changes_nothing(client, assistant_url, timestamp):
    now = datetime.now(UTC)
    assert _post(client, f"{assistant_url}/api/webhook/stream-stats", _stats(_iso(now), "stream_start")).status_code \
        == 201
    started = StreamSession.objects.get(session_id="s-1").started_at
    response = _post(client, f"{assistant_url}/api/webhook/stream-stats", _stats(timestamp))
    assert response.status_code == 400, response.content
    assert "timestamp" in response.json()["errors"] and "timestamp" in response.json()["message"]
    assert StreamSession.objects.get(session_id="s-1").started_at == started


def test_times_inside_the_window_are_kept(client, assistant_url):
    six_days_ago = datetime.now(UTC) - timedelta(days=6)
    response = _post(client, f"{assistant_url}/api/webhook/stream-stats", _stats(_iso(six_days_ago), "stream_start"))
    assert response.status_code == 201, response.content
    assert abs(StreamSession.objects.get(session_id="s-1").started_at - six_days_ago) < timedelta(seconds=1)


@pytest.mark.parametrize(("days", "accepted"), [(-8, False), (-6, True), (0.9, True), (1.1, False)])
def test_the_window_is_seven_days_back_and_one_ahead_by_default(client, assistant_url, days, accepted):
    moment = datetime.now(UTC) + timedelta(days=days)
    url = f"{assistant_url}/api/webhook/stream-stats"
    status = _post(client, url, _stats(_iso(moment), "stream_start")).status_code
    assert (status == 201) is accepted, status


def test_the_window_is_a_setting(client, assistant_url, settings):
    settings.STREAMHOOK_EVENT_TIME_WINDOW = "1h,5m"
    two_hours_ago = _iso(datetime.now(UTC) - timedelta(hours=2))
    response = _post(client, f"{assistant_url}/api/webhook/stream-stats", _stats(two_hours_ago, "stream_start"))
    assert response.status_code == 400 and "1 hour before" in response.json()["errors"]["timestamp"][0]


def test_the_window_setting_is_checked():
    assert parse_window("7d,1d") == Window(back=timedelta(days=7), ahead=timedelta(days=1))
    assert parse_window("90m, 30s") == Window(back=timedelta(minutes=90), ahead=timedelta(seconds=30))
    for bad in ("7d", "7d,1d,2d", "7 days,1d", "-1d,1d", ""):
        with pytest.raises(ImproperlyConfigured, match="STREAMHOOK_EVENT_TIME_WINDOW"):
            parse_window(bad)


def test_a_stored_message_replayed_long_after_is_judged_as_received(client, assistant_url, tenant):
    """A message received 30 days ago, stamped then, failed for a reason of ours: replaying it now works."""
    received = datetime.now(UTC) - timedelta(days=30)
    source = tenant.inbound_sources.get()
    body = json.dumps(_stats(_iso(received - timedelta(seconds=2)), "stream_start", session_id="old")).encode()
    message = InboundMessage.objects.create(
        tenant=tenant, source=source, received_at=received, handler="streams.stream_stats", headers={},
        body=body, sha256="0" * 64, status=InboundMessage.Status.FAILED, error="database was down",
    )
    outcome = message_process(message_pk=message.pk, force=True)
    assert outcome.status == 201, outcome.body
    assert StreamSession.objects.get(session_id="old").started_at < datetime.now(UTC) - timedelta(days=29)


def _realcast_post(client, source, event: dict, webhook_id: str):
    body = json.dumps(event).encode()
    return client.generic("POST", f"/s/{reveal(source.url_secret)}/webhooks/realcast", body,
                          content_type="application/json",
                          HTTP_X_REALCAST_SIGNATURE=hmac_hex_header(REALCAST_SECRET, body),
                          HTTP_X_REALCAST_WEBHOOK_ID=webhook_id)


@pytest.mark.parametrize(("field", "event"), [
    ("timestamp", {"event": "stream.live", "timestamp": "0001-01-01T00:00:00Z", "data": {"stream_id": "stream_1"}}),
    ("timestamp", {"event": "stream.live", "timestamp": 0, "data": {"stream_id": "stream_1"}}),
    ("data.started_at", {"event": "stream.live", "timestamp": "now",
                         "data": {"stream_id": "stream_1", "started_at": "0001-01-01T00:00:00Z"}}),
])
def test_realcast_times_are_refused_on_receipt(client, tenant, field, event):
    source = source_create(tenant=tenant, name="rc", kind="realcast", signing_secret=REALCAST_SECRET)[0]
    if event["timestamp"] == "now":
        event = {**event, "timestamp": _iso(datetime.now(UTC))}
    response = _realcast_post(client, source, event, "evt_old")
    assert response.status_code == 400, response.content
    assert field in response.json()["message"]
    assert InboundMessage.objects.get(message_id="evt_old").status == "failed"
    assert not StreamSession.objects.filter(session_id="stream_1").exists()


def test_a_realcast_event_in_the_window_is_acknowledged(client, tenant):
    source = source_create(tenant=tenant, name="rc", kind="realcast", signing_secret=REALCAST_SECRET)[0]
    event = {"event": "stream.live", "timestamp": _iso(datetime.now(UTC)), "data": {"stream_id": "stream_1"}}
    assert _realcast_post(client, source, event, "evt_new").status_code == 200
