"""Source URLs: `/s/<secret>/` in front of a sender's own paths, with no key (webhooks/inbound/source_url.py)."""

import json

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from accounts.models import Membership
from accounts.tokens import token_create
from core.crypto import reveal
from recordings.models import Recording
from recordings.tests.factories import add_member
from webhooks.inbound.models import InboundMessage, InboundSource
from webhooks.inbound.services import source_create, source_rotate_url
from webhooks.inbound.tests.factories import REALCAST_SECRET, hmac_hex_header

pytestmark = pytest.mark.django_db

RECORDING = {"recording_id": 7, "title": "Standup", "user_info": {"email": "souvik@fyelabs.com"}}


def _post(client, url: str, payload, **headers):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.generic("POST", url, body, content_type="application/json", **headers)


def _path(source: InboundSource, rest: str = "") -> str:
    return f"/s/{reveal(source.url_secret)}{rest}"


@pytest.fixture
def recorder(tenant):
    add_member(tenant, "souvik@fyelabs.com")
    return source_create(tenant=tenant, name="recorder", kind="recorder")[0]


def test_create_answers_an_absolute_url_the_recorder_posts_under_without_a_key(api_client, client, tenant):
    add_member(tenant, "souvik@fyelabs.com")
    created = api_client.post("/api/v1/inbound-sources", {"name": "recorder", "kind": "recorder"}, format="json")
    assert created.status_code == 201, created.content
    url = created.json()["url"]
    assert url.startswith("http://testserver/s/") and len(url.rsplit("/", 1)[1]) >= 40
    assert api_client.get(f"/api/v1/inbound-sources/{created.json()['id']}").json()["url"] == url

    response = _post(client, url.removeprefix("http://testserver") + "/recordings/webhook/", RECORDING)
    assert response.status_code == 201, response.content
    assert Recording.objects.get(tenant=tenant, recording_id="7").title == "Standup"
    # The path without the slash works too, as it does outside a source URL.
    assert _post(client, url.removeprefix("http://testserver") + "/recordings/webhook", RECORDING).status_code == 200


def test_the_key_still_works_on_the_plain_path(client, tenant):
    add_member(tenant, "souvik@fyelabs.com")
    _, key = source_create(tenant=tenant, name="recorder", kind="recorder")
    assert _post(client, "/recordings/webhook/", RECORDING, HTTP_X_API_KEY=key).status_code == 201
    assert _post(client, "/recordings/webhook/", RECORDING).status_code == 401


def test_an_unknown_secret_is_a_404_and_stores_nothing(client, recorder):
    response = _post(client, "/s/not-a-secret/recordings/webhook/", RECORDING)
    assert response.status_code == 404 and response.json()["message"] == "No such source URL."
    assert not InboundMessage.objects.exists()


def test_a_source_url_posts_only_to_its_own_kind(client, recorder):
    response = _post(client, _path(recorder, "/api/webhook/stream-stats"), {"session_id": "s"})
    assert response.status_code == 403
    assert client.get(_path(recorder, "/api/listen/status")).status_code == 404
    assert client.get(_path(recorder, "/api/analytics/genre-trends")).status_code == 404


def test_the_url_shows_what_it_serves(client, recorder):
    answer = client.get(_path(recorder))
    assert answer.status_code == 200
    assert answer.json() == {"name": "recorder", "kind": "recorder", "paths": ["/recordings/webhook/"]}


def test_rotating_the_url_retires_the_old_one_at_once(api_client, client, recorder):
    old = _path(recorder, "/recordings/webhook/")
    rotated = api_client.post(f"/api/v1/inbound-sources/{recorder.pk}/rotate-url")
    assert rotated.status_code == 200
    new_url = rotated.json()["url"]
    assert _post(client, old, RECORDING).status_code == 404
    assert _post(client, new_url.removeprefix("http://testserver") + "/recordings/webhook/", RECORDING).status_code \
        == 201


def test_a_retired_source_url_is_a_404(client, recorder):
    recorder.is_active = False
    recorder.save(update_fields=["is_active"])
    assert _post(client, _path(recorder, "/recordings/webhook/"), RECORDING).status_code == 404


def test_a_source_with_signing_secrets_still_needs_its_signature(client, tenant):
    add_member(tenant, "souvik@fyelabs.com")
    source = source_create(tenant=tenant, name="signed", kind="recorder", signing_secret="recorder-secret-1")[0]
    body = json.dumps(RECORDING).encode()
    assert _post(client, _path(source, "/recordings/webhook/"), body).status_code == 401
    signed = {"HTTP_X_WEBHOOK_SIGNATURE": hmac_hex_header("recorder-secret-1", body)}
    assert _post(client, _path(source, "/recordings/webhook/"), body, **signed).status_code == 201


def test_realcast_posts_under_its_url_with_its_signature(client, tenant):
    source = source_create(tenant=tenant, name="rc", kind="realcast", signing_secret=REALCAST_SECRET)[0]
    body = json.dumps({"event": "stream.live", "timestamp": "2026-12-06T07:00:00Z",
                       "data": {"stream_id": "stream_1"}}).encode()
    signature = {"HTTP_X_REALCAST_SIGNATURE": hmac_hex_header(REALCAST_SECRET, body),
                 "HTTP_X_REALCAST_WEBHOOK_ID": "evt_1"}
    assert _post(client, _path(source, "/webhooks/realcast"), body, **signature).status_code == 200
    assert _post(client, _path(source, "/webhooks/realcast"), body).status_code == 401
    other = source_create(tenant=tenant, name="rc2", kind="realcast", signing_secret=REALCAST_SECRET)[0]
    # Another source's id behind this URL is no way in.
    assert _post(client, _path(source, f"/webhooks/realcast/{other.pk}"), body, **signature).status_code == 404


def test_members_are_not_shown_the_url_and_cannot_rotate_it(tenant, recorder):
    user = get_user_model().objects.create_user(username="m", email="m@acme.test", password="pw-member-1")
    Membership.objects.create(tenant=tenant, user=user, role=Membership.Role.MEMBER)
    member = APIClient()
    member.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(tenant=tenant, user=user)[1]}")
    assert member.get(f"/api/v1/inbound-sources/{recorder.pk}").json()["url"] is None
    assert member.post(f"/api/v1/inbound-sources/{recorder.pk}/rotate-url").status_code == 403
    before = reveal(recorder.url_secret)
    recorder.refresh_from_db()
    assert reveal(recorder.url_secret) == before


def test_another_tenant_cannot_see_or_rotate_a_source_url(other_api_client, recorder):
    assert other_api_client.get(f"/api/v1/inbound-sources/{recorder.pk}").status_code == 404
    assert other_api_client.post(f"/api/v1/inbound-sources/{recorder.pk}/rotate-url").status_code == 404


def test_the_public_url_setting_makes_the_url(api_client, recorder, settings):
    settings.STREAMHOOK_PUBLIC_URL = "https://hooks.example.com/"
    url = api_client.get(f"/api/v1/inbound-sources/{recorder.pk}").json()["url"]
    assert url == f"https://hooks.example.com/s/{reveal(recorder.url_secret)}"


def test_the_admin_action_rotates_the_url(admin_client, client, recorder):
    old = reveal(recorder.url_secret)
    response = admin_client.post("/admin/webhooks_inbound/inboundsource/",
                                 {"action": "rotate_url", "_selected_action": [recorder.pk]})
    assert response.status_code == 302
    recorder.refresh_from_db()
    assert reveal(recorder.url_secret) != old
    assert _post(client, f"/s/{old}/recordings/webhook/", RECORDING).status_code == 404
    page = admin_client.get(f"/admin/webhooks_inbound/inboundsource/{recorder.pk}/change/")
    assert f"/s/{reveal(recorder.url_secret)}" in page.content.decode()


def test_the_secret_is_stored_hashed_for_lookup(recorder):
    import hashlib

    assert recorder.url_secret_hash == hashlib.sha256(reveal(recorder.url_secret).encode()).hexdigest()
    new = source_rotate_url(source=recorder)
    assert InboundSource.objects.get(pk=recorder.pk).url_secret_hash == hashlib.sha256(new.encode()).hexdigest()


def test_a_source_url_in_a_stored_header_is_redacted(client, recorder):
    referer = f"https://app.example.com/s/{reveal(recorder.url_secret)}/recordings/webhook/"
    _post(client, _path(recorder, "/recordings/webhook/"), RECORDING, HTTP_REFERER=referer)
    headers = InboundMessage.objects.get().headers
    assert headers["Referer"] == "https://app.example.com/s/***/recordings/webhook/"
    assert reveal(recorder.url_secret) not in json.dumps(headers)


def test_the_apis_under_a_source_url_answer_json_only(client, tenant):
    source = source_create(tenant=tenant, name="frontend", kind="audio-frontend")[0]
    response = client.get(_path(source, "/api/listen/status"), HTTP_ACCEPT="text/html")
    assert response.status_code in (200, 406)
    assert not response["Content-Type"].startswith("text/html")
