"""The recorder, unmodified, against a live Streamhook: only `self.webhook_url` changes (the source URL).

The recorder's `BackgroundUploader` posts its metadata with requests (`json=`, a 30 s timeout) and no
credentials; its document's payload and manual curl are sent as they are, with the times it stamps
at run time.
"""

from datetime import datetime

import pytest
import requests

from core.crypto import reveal
from recordings.models import Recording
from recordings.tests.factories import RECORDER_CURL_EXAMPLE, RECORDER_FULL_EXAMPLE, add_member, payload
from webhooks.inbound.services import source_create


@pytest.fixture(autouse=True)
def default_window(settings):
    settings.STREAMHOOK_EVENT_TIME_WINDOW = "7d,1d"


@pytest.fixture
def webhook_url(live_server, transactional_db, tenant) -> str:
    add_member(tenant, "souvik@fyelabs.com")
    source = source_create(tenant=tenant, name="recorder", kind="recorder")[0]
    return f"{live_server.url}/s/{reveal(source.url_secret)}/recordings/webhook/"


class BackgroundUploader:
    """The part of the recorder's uploader that posts (its document's "Configuration" and flow)."""

    def __init__(self, webhook_url: str):
        self.webhook_url = webhook_url

    def send_webhook(self, metadata: dict) -> requests.Response:
        return requests.post(self.webhook_url, json=metadata, timeout=30)


def test_the_recorders_post_creates_then_updates(webhook_url, tenant):
    uploader = BackgroundUploader(webhook_url)
    metadata = payload(
        RECORDER_FULL_EXAMPLE, created_at=str(datetime.now()), upload_timestamp=datetime.now().isoformat()
    )
    created = uploader.send_webhook(metadata)
    assert created.status_code == 201, created.text
    assert created.json() == {"status": "success", "message": "Recording created successfully", "recording_id": 3,
                              "pk": created.json()["pk"], "action": "created"}
    updated = uploader.send_webhook(metadata)
    assert updated.status_code == 200 and updated.json()["action"] == "updated"
    recording = Recording.objects.get(tenant=tenant, recording_id="3")
    assert recording.files["video"] == RECORDER_FULL_EXAMPLE["uploaded_files"]["video"]
    assert recording.bucket_name == "fyemeet"


def test_the_documents_manual_curl_and_its_answers(webhook_url, tenant):
    uploader = BackgroundUploader(webhook_url)
    assert uploader.send_webhook(RECORDER_CURL_EXAMPLE).status_code == 201
    unknown = uploader.send_webhook(payload(RECORDER_CURL_EXAMPLE, user_info={"email": "example@example.com"}))
    assert unknown.status_code == 404
    assert unknown.json() == {"status": "error", "message": "No user found with email: example@example.com"}
    missing = uploader.send_webhook({"title": "no id"})
    assert missing.status_code == 400
    assert missing.json()["message"] == "Missing required fields: recording_id or user_info.email"


def test_a_wrong_source_url_is_a_404_for_the_recorder(live_server, transactional_db, tenant):
    uploader = BackgroundUploader(f"{live_server.url}/s/not-the-secret/recordings/webhook/")
    response = uploader.send_webhook(RECORDER_CURL_EXAMPLE)
    assert response.status_code == 404 and not Recording.objects.exists()
