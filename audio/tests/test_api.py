"""Seed 001's listen API: shapes, idempotence, tenant scoping, events, the level endpoint and the page."""

import time

import pytest
from django.core.cache import cache

from audio import services
from audio.meter import Reading
from audio.models import ListeningSession
from webhooks.models import Endpoint, Event
from webhooks.tests.engine import endpoint_make

pytestmark = pytest.mark.django_db

START, STOP, STATUS, LEVEL = "/api/listen/start", "/api/listen/stop", "/api/listen/status", "/api/listen/level"


@pytest.fixture
def emitted(monkeypatch):
    calls = []
    real = services.emit

    def record(type, data, *, tenant):
        calls.append((type, data, tenant))
        return real(type, data, tenant=tenant)

    monkeypatch.setattr(services, "emit", record)
    return calls


def test_start_answers_seed_001_shape_and_emits_listening_status(api_client, tenant, emitted):
    r = api_client.post(START, {"timestamp": "2026-11-22T10:00:00.000Z"}, format="json")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"success", "message", "sessionId", "webhookUrl"}
    assert body["success"] is True and body["message"] == "Listening started successfully"
    assert body["webhookUrl"] is None
    session = ListeningSession.objects.get(session_id=body["sessionId"])
    assert session.tenant == tenant and session.status == "active" and session.started_by == "api"
    assert emitted == [("listening.status", {"isListening": True, "sessionId": body["sessionId"], "status": "active"},
                        tenant)]
    event = Event.objects.get(type="listening.status")
    assert event.tenant == tenant and event.data["isListening"] is True


def test_start_twice_returns_the_same_session(api_client):
    first = api_client.post(START, {}, format="json").json()
    second = api_client.post(START, format="json").json()
    assert second["sessionId"] == first["sessionId"]
    assert second["message"] == "Already listening"
    assert ListeningSession.objects.count() == 1


def test_status_follows_start_and_stop(api_client, emitted, tenant):
    assert api_client.get(STATUS).json() == {"isListening": False, "sessionId": None}
    sid = api_client.post(START, format="json").json()["sessionId"]
    assert api_client.get(STATUS).json() == {"isListening": True, "sessionId": sid}
    r = api_client.post(STOP, {"timestamp": "x"}, format="json")
    assert r.status_code == 200
    assert r.json() == {"success": True, "message": "Listening stopped successfully", "sessionId": sid}
    assert api_client.get(STATUS).json() == {"isListening": False, "sessionId": None}
    assert emitted[-1] == ("listening.status", {"isListening": False, "sessionId": sid, "status": "stopped"}, tenant)
    session = ListeningSession.objects.get(session_id=sid)
    assert session.status == "stopped" and session.stopped_at is not None


def test_stop_when_not_listening_is_harmless(api_client):
    assert api_client.post(STOP, format="json").json() == {"success": True, "message": "Not listening",
                                                           "sessionId": None}


def test_sessions_are_tenant_scoped(api_client, other_api_client):
    sid = api_client.post(START, format="json").json()["sessionId"]
    assert other_api_client.get(STATUS).json() == {"isListening": False, "sessionId": None}
    assert other_api_client.post(STOP, format="json").json()["sessionId"] is None
    assert api_client.get(STATUS).json()["sessionId"] == sid
    other = other_api_client.post(START, format="json").json()["sessionId"]
    assert other != sid


@pytest.mark.parametrize(("method", "path"), [("post", START), ("post", STOP), ("get", STATUS), ("get", LEVEL)])
def test_anonymous_callers_get_401(client, method, path):
    assert getattr(client, method)(path).status_code == 401


@pytest.mark.parametrize("path", [START, STOP])
@pytest.mark.parametrize(("body", "field"), [
    (b"[1,2", "detail"),  # not JSON
    (b"[1, 2]", "non_field_errors"), (b'"go"', "non_field_errors"), (b"null", "non_field_errors"),
    (b'{"timestamp": {"at": 1}}', "timestamp"), (b'{"timestamp": ["x"]}', "timestamp"),
    (b'{"timestamp": 0}', "timestamp"),  # the audio frontend sends a string; the schema says so
    (b'{"timestamp": "' + b"9" * 65 + b'"}', "timestamp"),
])
def test_a_bad_body_is_a_400_naming_what_is_wrong_and_changes_nothing(api_client, tenant, path, body, field):
    sid = services.listening_start(tenant=tenant).session.session_id if path == STOP else None
    r = api_client.post(path, data=body, content_type="application/json")
    assert r.status_code == 400 and field in r.json(), r.content
    assert api_client.get(STATUS).json() == {"isListening": path == STOP, "sessionId": sid}


def test_a_huge_body_is_a_413_in_json(api_client, settings):
    r = api_client.post(START, data=b'{"timestamp": "' + b"9" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + b'"}',
                        content_type="application/json")
    assert r.status_code == 413
    assert r.json() == {"detail": f"Request body too large: the limit is {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."}
    assert api_client.get(STATUS).json()["isListening"] is False


@pytest.mark.parametrize("body", [{}, {"timestamp": ""}, {"timestamp": "x", "extra": 1}])
def test_seed_001_bodies_and_lenient_variants_are_accepted(api_client, body):
    assert api_client.post(START, body, format="json").status_code == 200
    assert api_client.post(STOP, body, format="json").status_code == 200
    assert api_client.post(START, {"timestamp": "2026-11-22T10:00:00Z"}).status_code == 200  # a form post
    assert api_client.post(STOP, data=b"", content_type="application/json").status_code == 200  # empty body


def test_webhook_url_is_the_endpoint_that_receives_levels(api_client, tenant):
    Endpoint.objects.create(tenant=tenant, url="https://hooks.example.com/streams", events=["stream.live"], secret="s")
    Endpoint.objects.create(tenant=tenant, url="https://ui.example.com/api/webhook/receive",
                            events=["audio.level", "listening.status"], secret="s")
    assert api_client.post(START, format="json").json()["webhookUrl"] == "https://ui.example.com/api/webhook/receive"


def test_level_publish_emits_audio_level_and_caches_it_for_the_meter(api_client, tenant, emitted):
    cache.clear()
    session = services.listening_start(tenant=tenant).session
    assert api_client.get(LEVEL).json() == {"isListening": True, "sessionId": session.session_id, "level": None}
    reading = Reading(rms_dbfs=-23.01, peak_dbfs=-20.0, clip=False, level=61.6)
    data = services.level_publish(session=session, reading=reading)
    assert emitted[-1][0] == "audio.level"
    assert set(emitted[-1][1]) == {"audioLevel", "timestamp", "sessionId", "rmsDbfs", "peakDbfs", "clip"}
    assert data["audioLevel"] == 61.6 and data["sessionId"] == session.session_id
    assert data["timestamp"].endswith("Z") and len(data["timestamp"]) == 24
    assert not Event.objects.filter(type="audio.level").exists()  # ephemeral: no outbox row
    assert api_client.get(LEVEL).json()["level"] == data


def test_level_of_a_stopped_session_is_not_shown(api_client, tenant):
    session = services.listening_start(tenant=tenant).session
    services.level_publish(session=session, reading=Reading(-23.0, -20.0, False, 61.7))
    services.listening_stop(tenant=tenant)
    assert api_client.get(LEVEL).json() == {"isListening": False, "sessionId": None, "level": None}
    new = services.listening_start(tenant=tenant).session
    cache.set(f"audio:level:{tenant.pk}", {"sessionId": session.session_id, "audioLevel": 50})  # stale
    assert api_client.get(LEVEL).json() == {"isListening": True, "sessionId": new.session_id, "level": None}


def test_session_statistics_accumulate_with_energy_mean(tenant):
    from django.utils import timezone

    session = services.listening_start(tenant=tenant).session
    stats = services.SessionStats(session)
    stats.add(Reading(-20.0, -17.0, False, 66.7), timezone.now())
    stats.add(Reading(-40.0, -37.0, True, 33.3), timezone.now())
    stats.flush()
    stats.add(Reading(-30.0, -10.0, False, 50.0), timezone.now())
    stats.flush()
    session.refresh_from_db()
    assert session.tick_count == 3 and session.clip_count == 1
    assert session.max_rms_dbfs == -20.0 and session.max_peak_dbfs == -10.0
    assert session.mean_rms_dbfs == pytest.approx(-24.32, abs=0.01)  # 10*log10(mean(1e-2, 1e-4, 1e-3))


def test_error_stop_records_the_reason(tenant, emitted):
    session = services.listening_start(tenant=tenant).session
    services.listening_stop(tenant=tenant, error="audio unavailable: stream died")
    session.refresh_from_db()
    assert session.status == "error" and session.error == "audio unavailable: stream died"
    assert emitted[-1][1] == {"isListening": False, "sessionId": session.session_id, "status": "error"}


def test_meter_page_needs_a_login(client, tenant_ctx):
    r = client.get("/audio/meter/")
    assert r.status_code == 302 and r["Location"].startswith("/api-auth/login/")
    client.login(username="owner@acme.test", password="pw-acme-123")
    r = client.get("/audio/meter/")
    assert r.status_code == 200 and b"/api/listen/level" in r.content


def test_event_types_are_registered():
    from webhooks.registry import get_event_type

    assert get_event_type("listening.status").durable is True
    assert get_event_type("audio.level").durable is False


def test_admin_lists_sessions(client, tenant, django_user_model):
    services.listening_start(tenant=tenant)
    admin = django_user_model.objects.create_superuser("root", "root@x.test", "pw")
    client.force_login(admin)
    assert client.get("/admin/audio/listeningsession/").status_code == 200


def test_admin_action_stops_active_sessions_through_the_service(client, tenant, other_tenant, django_user_model,
                                                                 emitted):
    mine = services.listening_start(tenant=tenant).session
    theirs = services.listening_start(tenant=other_tenant).session
    admin = django_user_model.objects.create_superuser("root", "root@x.test", "pw")
    client.force_login(admin)
    r = client.post("/admin/audio/listeningsession/", {"action": "stop_listening", "_selected_action": [mine.pk]},
                    follow=True)
    assert b"Stopped 1 listening session(s)." in r.content
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.status == "stopped" and mine.stopped_at is not None and theirs.status == "active"
    assert emitted[-1] == ("listening.status", {"isListening": False, "sessionId": mine.session_id,
                                                "status": "stopped"}, tenant)


def test_level_publisher_sends_only_while_an_endpoint_receives_levels(tenant, httpserver):
    """`audio.level` goes out, from this process, only with a subscriber, asked once a second."""
    cache.clear()
    httpserver.expect_request("/hook").respond_with_data("ok")
    session = services.listening_start(tenant=tenant).session
    now = [100.0]
    publisher = services.LevelPublisher(session, clock=lambda: now[0])
    reading = Reading(rms_dbfs=-23.01, peak_dbfs=-20.0, clip=False, level=61.6)

    def levels_received(count: int) -> int:
        deadline = time.monotonic() + 5
        while len(httpserver.log) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)  # and nothing more arrives just after
        return len(httpserver.log)

    try:
        publisher.publish(reading)
        endpoint_make(tenant, httpserver.url_for("/hook"), events=["audio.*"])
        now[0] += 0.5
        publisher.publish(reading)
        assert levels_received(0) == 0  # not asked again yet
        now[0] += 0.5
        publisher.publish(reading)
        assert levels_received(1) == 1  # a wildcard subscription counts, within a second
        publisher.publish(reading)
        assert levels_received(2) == 2
        Endpoint.objects.update(is_active=False)
        now[0] += 1.0
        publisher.publish(reading)
        assert levels_received(3) == 2
    finally:
        publisher.close()
    assert httpserver.log[0][0].get_json()["data"]["sessionId"] == session.session_id


def test_the_meters_level_is_written_only_while_a_meter_page_polls(api_client, tenant, settings):
    """No page open: no cache write per tick. The page's first poll marks it watched; within a second
    the sampler writes the level; a page gone for METER_WATCH_S stops the writes again."""
    cache.clear()
    session = services.listening_start(tenant=tenant).session
    now = [100.0]
    publisher = services.LevelPublisher(session, clock=lambda: now[0])
    reading = Reading(rms_dbfs=-23.01, peak_dbfs=-20.0, clip=False, level=61.6)
    publisher.publish(reading)
    assert api_client.get(LEVEL).json()["level"] is None  # nothing written; the page's first poll: now watched
    now[0] += 1.0
    publisher.publish(reading)
    assert api_client.get(LEVEL).json()["level"]["audioLevel"] == 61.6
    cache.clear()  # what METER_WATCH_S after the last poll looks like: the mark and the level expired
    now[0] += 1.0
    publisher.publish(reading)
    assert api_client.get(LEVEL).json()["level"] is None


def test_webhook_url_counts_wildcard_subscriptions(api_client, tenant):
    Endpoint.objects.create(tenant=tenant, url="https://hooks.example.com/rec", events=["recording.*"], secret="s")
    Endpoint.objects.create(tenant=tenant, url="https://ui.example.com/all-audio", events=["audio.*"], secret="s")
    assert api_client.post(START, format="json").json()["webhookUrl"] == "https://ui.example.com/all-audio"
