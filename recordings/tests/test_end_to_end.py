"""End to end: the recorder document's curl twice, a real Celery worker, a `recording.*` subscriber that
verifies signatures."""

import json
import time

import pytest
from django.test import Client
from standardwebhooks import Webhook

from recordings.models import Recording
from recordings.tests.factories import RECORDER_CURL_EXAMPLE, add_member, recorder_source
from webhooks.tests.engine import endpoint_make

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_recorder_posts_reach_a_recording_wildcard_subscriber(celery_worker, tenant, httpserver):
    httpserver.expect_request("/hooks/recordings", method="POST").respond_with_data("ok")
    endpoint = endpoint_make(tenant, httpserver.url_for("/hooks/recordings"), events=["recording.*"])
    add_member(tenant, "souvik@fyelabs.com", "souvik")
    _, key = recorder_source(tenant)
    recorder = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    first = recorder.post("/recordings/webhook/", RECORDER_CURL_EXAMPLE, content_type="application/json")
    again = recorder.post("/recordings/webhook/", {**RECORDER_CURL_EXAMPLE, "duration_seconds": 121},
                          content_type="application/json")
    assert (first.status_code, first.json()["action"]) == (201, "created")
    assert (again.status_code, again.json()["action"]) == (200, "updated")

    deadline = time.monotonic() + 60
    while len(httpserver.log) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    verifier = Webhook(endpoint.secret)
    received = []
    for request, _ in httpserver.log:
        # Raises unless the signature, id and timestamp are what a Standard Webhooks receiver expects.
        received.append(verifier.verify(request.get_data(), dict(request.headers)))
    by_type = {body["type"]: body["data"] for body in received}
    assert sorted(by_type) == ["recording.ready", "recording.updated"], received
    pk = Recording.objects.get().pk
    assert by_type["recording.ready"]["id"] == by_type["recording.updated"]["id"] == pk
    assert by_type["recording.ready"]["duration_seconds"] == 120
    assert by_type["recording.updated"]["duration_seconds"] == 121
    assert by_type["recording.updated"]["files"] == {"video": RECORDER_CURL_EXAMPLE["uploaded_files"]["video"]}
    assert json.loads(httpserver.log[0][0].get_data())["data"]["user_email"] == "souvik@fyelabs.com"
