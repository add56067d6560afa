"""Nothing the recorder sends can damage what is stored: re-posts merge, bad times and bad text are 400s."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from core.crypto import reveal
from recordings.models import Recording
from recordings.tests.factories import RECORDER_FULL_EXAMPLE, add_member, payload
from webhooks.events import Event
from webhooks.inbound.models import InboundMessage
from webhooks.inbound.services import source_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def default_window(settings):
    settings.STREAMHOOK_EVENT_TIME_WINDOW = "7d,1d"


@pytest.fixture
def url(tenant):
    add_member(tenant, "souvik@fyelabs.com")
    source = source_create(tenant=tenant, name="recorder", kind="recorder")[0]
    return f"/s/{reveal(source.url_secret)}/recordings/webhook/"


def _now(**delta) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _full(**changes) -> dict:
    """The recorder document's full payload, stamped now."""
    stamps = {"created_at": _now(minutes=-3), "upload_timestamp": _now(minutes=-1)}
    return payload(RECORDER_FULL_EXAMPLE, **{**stamps, **changes})


def _post(client, url, data):
    body = data if isinstance(data, bytes) else json.dumps(data)
    return client.generic("POST", url, body, content_type="application/json")


def test_a_repost_that_omits_fields_keeps_the_stored_ones(client, url, tenant):
    assert _post(client, url, _full()).status_code == 201
    before = Recording.objects.get(tenant=tenant, recording_id="3")
    # The recorder re-posts only what changed: a new title and the thumbnail it uploaded again.
    update = {"recording_id": 3, "title": "Renamed", "user_info": {"email": "souvik@fyelabs.com"},
              "uploaded_files": {"thumbnail": "https://s3.us-west-1.idrivee2.com/fyemeet/3/thumb-v2.jpg"}}
    response = _post(client, url, update)
    assert response.status_code == 200 and response.json()["action"] == "updated"
    after = Recording.objects.get(pk=before.pk)
    assert after.title == "Renamed"
    for field in ("recorded_at", "duration_seconds", "duration_database", "total_size_mb", "file_sizes_mb",
                  "uploaded_at", "upload_source", "bucket_name", "region", "username"):
        assert getattr(after, field) == getattr(before, field), field
    assert after.files == {**before.files, "thumbnail": "https://s3.us-west-1.idrivee2.com/fyemeet/3/thumb-v2.jpg"}
    assert after.raw_payload["region"] == "us-west-1" and after.raw_payload["title"] == "Renamed"
    # The event tells subscribers what is stored, not only what this post said.
    updated = Event.objects.filter(tenant=tenant, type="recording.updated").get()
    assert updated.data["bucket_name"] == "fyemeet" and updated.data["duration_seconds"] == 77
    assert set(updated.data["files"]) == {"video", "thumbnail", "transcript", "metadata"}


def test_null_keeps_the_stored_value_and_a_sent_value_replaces_it(client, url, tenant):
    assert _post(client, url, _full()).status_code == 201
    response = _post(client, url, {"recording_id": 3, "user_info": {"email": "souvik@fyelabs.com"},
                                   "duration_seconds": None, "region": "eu-central-1",
                                   "file_info": {"individual_sizes_mb": {"video.mkv": 0.75}}})
    assert response.status_code == 200
    stored = Recording.objects.get(tenant=tenant, recording_id="3")
    assert stored.duration_seconds == 77 and stored.region == "eu-central-1"
    assert stored.file_sizes_mb == {"video.mkv": 0.75, "thumbnail.jpg": 0.01, "transcript.txt": 0.0}
    assert stored.total_size_mb == 0.51


@pytest.mark.parametrize(("field", "value"), [
    ("upload_timestamp", "0001-01-01T00:00:00"), ("upload_timestamp", "2020-01-01T00:00:00"),
    ("upload_timestamp", "9999-12-31T23:59:59"), ("created_at", "0001-01-01 00:00:00"),
    ("created_at", "1970-01-01 00:00:00"), ("created_at", "9999-12-31 23:59:59"),
])
def test_times_out_of_bounds_are_a_400_naming_the_field(client, url, tenant, field, value):
    response = _post(client, url, _full(**{field: value}))
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"] and field in response.json()["message"]
    assert not Recording.objects.exists()


def test_an_old_recording_may_still_be_described(client, url, tenant):
    """`created_at` is when the recording was made; a re-post about last year's recording is fine."""
    response = _post(client, url, _full(created_at="2025-10-25 01:55:59.374860"))
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("body", [
    b'{"recording_id": 3, "title": "\\ud800", "user_info": {"email": "souvik@fyelabs.com"}}',
    b'{"recording_id": 3, "user_info": {"email": "souvik@fyelabs.com", "username": "a\\udfffb"}}',
    b'{"recording_id": 3, "user_info": {"email": "souvik@fyelabs.com"}, "uploaded_files": {"\\udc00": "x"}}',
    b'{"recording_id": 3, "user_info": {"email": "souvik@fyelabs.com"}, "region": "a\\u0000"}',
])
def test_text_postgresql_cannot_store_is_a_400_without_a_traceback(client, url, body, caplog):
    response = _post(client, url, body)
    assert response.status_code == 400, response.content
    assert "\\u" in response.json()["message"]
    message = InboundMessage.objects.get()
    assert message.status == "failed" and message.traceback == ""
    assert not [record for record in caplog.records if record.exc_info]
    assert not Recording.objects.exists()


def test_the_surrogate_400_names_the_field(client, url):
    body = b'{"recording_id": 3, "user_info": {"email": "souvik@fyelabs.com", "username": "\\ud800"}}'
    answer = _post(client, url, body).json()
    assert "user_info.username" in answer["message"] and "username" in answer["errors"]["user_info"]
