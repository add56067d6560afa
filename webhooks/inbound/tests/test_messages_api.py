"""`/api/v1/inbound-messages`: a tenant sees what its senders posted and the answers, and replays failures."""

import json

import pytest

from recordings.models import Recording
from recordings.tests.factories import RECORDER_CURL_EXAMPLE, add_member
from webhooks.inbound.models import InboundMessage
from webhooks.inbound.tests.factories import make_source

pytestmark = pytest.mark.django_db
URL = "/api/v1/inbound-messages"


@pytest.fixture
def posted(client, tenant, other_tenant):
    """A 404 (unknown user), a 400 (junk), and its duplicate in acme; one message in globex."""
    source, key = make_source(tenant, kind="recorder")
    _, other_key = make_source(other_tenant, kind="recorder")

    def post(body, key=key, **headers):
        return client.generic("POST", "/recordings/webhook/", body, content_type="application/json",
                              HTTP_AUTHORIZATION=f"Bearer {key}", **headers)

    assert post(json.dumps(RECORDER_CURL_EXAMPLE), HTTP_WEBHOOK_ID="upload-1").status_code == 404
    assert post(b"{junk", HTTP_WEBHOOK_ID="upload-2").status_code == 400
    assert post(b"{junk", HTTP_WEBHOOK_ID="upload-2").status_code == 200  # the duplicate
    assert post(json.dumps(RECORDER_CURL_EXAMPLE), key=other_key).status_code == 404
    return source


def test_list_is_the_tenants_own_newest_first_without_bodies(api_client, posted):
    body = api_client.get(URL).json()
    assert body["count"] == 3
    assert [m["message_id"] for m in body["results"]] == ["upload-2", "upload-2", "upload-1"]
    assert [m["status"] for m in body["results"]] == ["duplicate", "failed", "failed"]
    assert {m["source"] for m in body["results"]} == {posted.pk}
    assert "body" not in body["results"][0] and "headers" not in body["results"][0]
    failed = body["results"][1]
    assert failed["duplicate_count"] == 1 and failed["response_status"] == 400
    assert body["results"][0]["duplicate_of"] == failed["id"]


def test_filters(api_client, posted):
    assert api_client.get(URL, {"status": "failed"}).json()["count"] == 2
    assert api_client.get(URL, {"message_id": "upload-1"}).json()["count"] == 1
    assert api_client.get(URL, {"source": posted.pk, "handler": "recordings.webhook"}).json()["count"] == 3
    assert api_client.get(URL, {"since": "2999-01-01T00:00:00Z"}).json()["count"] == 0


@pytest.mark.parametrize("params", [{"status": "lost"}, {"since": "soon"}, {"source": "abc"}, {"source": 0},
                                    {"message_id": "a\x00"}])
def test_bad_filter_values_are_400(api_client, posted, params):
    response = api_client.get(URL, params)
    assert response.status_code == 400 and list(response.json()) == list(params)


def test_another_tenants_source_id_filters_to_nothing_without_telling(api_client, other_api_client, posted):
    theirs = other_api_client.get(URL).json()["results"][0]["source"]
    assert api_client.get(URL, {"source": theirs}).json()["count"] == 0
    assert api_client.get(URL, {"source": 999999}).json()["count"] == 0


def test_detail_has_headers_body_and_answer_but_no_credentials_or_traceback(api_client, posted):
    message = InboundMessage.objects.get(message_id="upload-1")
    body = api_client.get(f"{URL}/{message.pk}").json()
    assert json.loads(body["body"]) == RECORDER_CURL_EXAMPLE and body["body_size"] == len(bytes(message.body))
    assert body["response_body"] == {"status": "error", "message": "No user found with email: souvik@fyelabs.com"}
    assert body["headers"]["Webhook-Id"] == "upload-1"
    assert "traceback" not in body
    assert not any("authorization" in name.lower() for name in body["headers"])


def test_other_tenant_gets_404_for_detail_and_replay(other_api_client, posted):
    message = InboundMessage.objects.get(message_id="upload-1")
    assert other_api_client.get(f"{URL}/{message.pk}").status_code == 404
    assert other_api_client.post(f"{URL}/{message.pk}/replay").status_code == 404
    message.refresh_from_db()
    assert message.attempts == 1


def test_replay_runs_the_stored_body_again(api_client, tenant, posted):
    message = InboundMessage.objects.get(message_id="upload-1")
    add_member(tenant, "souvik@fyelabs.com")  # the reason it failed is fixed
    body = api_client.post(f"{URL}/{message.pk}/replay").json()
    assert (body["status"], body["response_status"], body["attempts"]) == ("processed", 201, 2)
    assert body["response_body"]["action"] == "created"
    assert Recording.objects.get(tenant=tenant).recording_id == "999"
    again = api_client.post(f"{URL}/{message.pk}/replay").json()  # idempotent: the same recording, updated
    assert (again["status"], again["response_body"]["action"]) == ("processed", "updated")
    assert Recording.objects.filter(tenant=tenant).count() == 1


def test_replaying_a_duplicate_is_409_naming_the_original(api_client, posted):
    duplicate = InboundMessage.objects.get(status="duplicate")
    response = api_client.post(f"{URL}/{duplicate.pk}/replay")
    assert response.status_code == 409 and f"({duplicate.duplicate_of_id})" in response.json()["detail"]


def test_read_only_and_authenticated(client, api_client, posted):
    message = InboundMessage.objects.get(message_id="upload-1")
    assert api_client.delete(f"{URL}/{message.pk}").status_code == 405
    assert api_client.post(URL, {}, format="json").status_code == 405
    assert client.get(URL).status_code == 401
