"""`recording_upsert_from_realcast`: RealCast's recording events, idempotent and order-tolerant."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.exceptions import ValidationError

from recordings.models import Recording
from recordings.services import recording_upsert_from_realcast
from recordings.tests.factories import RECORDER_CURL_EXAMPLE, add_member, recorder_source
from webhooks.models import Event

pytestmark = pytest.mark.django_db

T0 = datetime(2024, 12, 9, 10, 0, tzinfo=UTC)
STARTED = {"recording_id": "rec_ghi789", "stream_id": "stream_abc123"}
READY = {"recording_id": "rec_ghi789", "stream_id": "stream_abc123",
         "cdn_url": "https://cdn.telegram.org/file/BAACAgIAAxkBAAI...", "duration": 3600, "file_size": 524288000}


def types():
    events = Event.objects.filter(type__startswith="recording.").order_by("created_at")
    return list(events.values_list("type", flat=True))


def test_started_then_ready(tenant):
    started = recording_upsert_from_realcast(tenant=tenant, data=STARTED, event_time=T0)
    assert started.status == "started" and started.user is None and started.origin == "realcast"
    ready = recording_upsert_from_realcast(tenant=tenant, data=READY, event_time=T0 + timedelta(hours=1))
    assert ready.pk == started.pk and ready.status == "ready"
    assert ready.files == {"cdn": READY["cdn_url"]} and ready.file_size_bytes == 524288000
    assert ready.duration_seconds == 3600 and ready.recorded_at == T0
    assert types() == ["recording.started", "recording.ready"]


def test_replays_change_nothing_and_emit_nothing(tenant):
    recording_upsert_from_realcast(tenant=tenant, data=STARTED, event_time=T0)
    recording_upsert_from_realcast(tenant=tenant, data=READY, event_time=T0 + timedelta(hours=1))
    recording_upsert_from_realcast(tenant=tenant, data=READY, event_time=T0 + timedelta(hours=1))
    recording_upsert_from_realcast(tenant=tenant, data=STARTED, event_time=T0)
    assert Recording.objects.count() == 1
    assert Recording.objects.get().status == "ready"
    assert types() == ["recording.started", "recording.ready"]


def test_ready_before_started_stays_ready(tenant):
    recording_upsert_from_realcast(tenant=tenant, data=READY, event_time=T0 + timedelta(hours=1))
    recording = recording_upsert_from_realcast(tenant=tenant, data=STARTED, event_time=T0)
    assert recording.status == "ready"
    assert types() == ["recording.ready"]


def test_explicit_event_name_wins(tenant):
    no_url = {"recording_id": "rec_1", "duration": 10}
    recording = recording_upsert_from_realcast(tenant=tenant, data=no_url, event_time=T0, event="recording.ready")
    assert recording.status == "ready"


def test_string_and_integer_ids_coexist(client, tenant):
    add_member(tenant, "souvik@fyelabs.com")
    _, key = recorder_source(tenant)
    recording_upsert_from_realcast(tenant=tenant, data=STARTED, event_time=T0)
    response = client.generic("POST", "/recordings/webhook/", json.dumps(RECORDER_CURL_EXAMPLE),
                              content_type="application/json", HTTP_X_API_KEY=key)
    assert response.status_code == 201
    assert sorted(Recording.objects.values_list("recording_id", flat=True)) == ["999", "rec_ghi789"]


def test_same_id_in_two_tenants_are_two_recordings(tenant, other_tenant):
    a = recording_upsert_from_realcast(tenant=tenant, data=STARTED, event_time=T0)
    b = recording_upsert_from_realcast(tenant=other_tenant, data=STARTED, event_time=T0)
    assert a.pk != b.pk


@pytest.mark.parametrize("data", [{}, {"recording_id": ""}, {"recording_id": None}, {"recording_id": True},
                                  {"recording_id": ["x"]}, {"recording_id": "x" * 101},
                                  {"recording_id": "r", "duration": "long"}, {"recording_id": "r", "file_size": -1},
                                  {"recording_id": "r", "cdn_url": 5}])
def test_bad_data_is_a_validation_error(tenant, data):
    with pytest.raises(ValidationError):
        recording_upsert_from_realcast(tenant=tenant, data=data, event_time=T0)
    assert not Recording.objects.exists()


def test_recorder_claims_a_realcast_recording_keeping_its_stream(client, tenant):
    user = add_member(tenant, "souvik@fyelabs.com")
    _, key = recorder_source(tenant)
    recording_upsert_from_realcast(tenant=tenant, data=READY, event_time=T0)
    data = {**RECORDER_CURL_EXAMPLE, "recording_id": "rec_ghi789"}
    response = client.generic("POST", "/recordings/webhook/", json.dumps(data), content_type="application/json",
                              HTTP_X_API_KEY=key)
    assert response.status_code == 200 and response.json()["action"] == "updated"
    recording = Recording.objects.get()
    assert recording.user == user and recording.origin == "realcast"
    assert recording.stream_id == "stream_abc123" and recording.file_size_bytes == 524288000
    assert recording.title == "Test Recording"
    updated = Event.objects.filter(type="recording.updated").get()
    assert updated.data["stream_id"] == "stream_abc123" and updated.data["user_email"] == "souvik@fyelabs.com"
