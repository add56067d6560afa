"""`/api/v1/inbound-sources`: the key once, secrets write-only, tenant-scoped."""

import pytest

from core.crypto import reveal
from webhooks.inbound.keys import hash_key
from webhooks.inbound.models import InboundSource

pytestmark = pytest.mark.django_db
URL = "/api/v1/inbound-sources"


def revealed(source: InboundSource) -> list[str]:
    return [reveal(secret) for secret in source.signing_secrets]


def test_create_returns_the_key_once(api_client, tenant):
    response = api_client.post(URL, {"name": "Recorder", "kind": "recorder", "signing_secret": None}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["api_key"].startswith("shin_")
    source = InboundSource.objects.get(pk=body["id"])
    assert source.tenant == tenant and source.key_hash == hash_key(body["api_key"])
    assert source.signing_secrets == []
    detail = api_client.get(f"{URL}/{source.pk}").json()
    assert "api_key" not in detail and "signing_secret" not in detail
    assert detail["key_prefix"] == body["api_key"][:12]


def test_realcast_source_defaults_to_its_header_and_shows_its_url(api_client):
    response = api_client.post(URL, {"name": "RC", "kind": "realcast", "signing_secret": "rc-secret-123456"},
                               format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["signature_header"] == "X-RealCast-Signature"
    assert body["signing_secret_count"] == 1
    assert body["webhook_url"] is None or body["webhook_url"].endswith(f"/webhooks/realcast/{body['id']}")


def test_setting_a_secret_rotates_and_null_removes(api_client):
    source_id = api_client.post(URL, {"name": "R", "kind": "recorder", "signing_secret": "first-secret-1"},
                                format="json").json()["id"]
    api_client.patch(f"{URL}/{source_id}", {"signing_secret": "second-secret-2"}, format="json")
    assert revealed(InboundSource.objects.get(pk=source_id)) == ["second-secret-2", "first-secret-1"]
    api_client.patch(f"{URL}/{source_id}", {"drop_previous_secrets": True}, format="json")
    assert revealed(InboundSource.objects.get(pk=source_id)) == ["second-secret-2"]
    api_client.patch(f"{URL}/{source_id}", {"signing_secret": None}, format="json")
    assert revealed(InboundSource.objects.get(pk=source_id)) == []


def test_kind_is_validated_and_fixed(api_client):
    assert api_client.post(URL, {"name": "x", "kind": "fax"}, format="json").status_code == 400
    source_id = api_client.post(URL, {"name": "x", "kind": "recorder"}, format="json").json()["id"]
    assert api_client.patch(f"{URL}/{source_id}", {"kind": "realcast"}, format="json").status_code == 400


def test_rotate_key(api_client):
    created = api_client.post(URL, {"name": "x", "kind": "recorder"}, format="json").json()
    rotated = api_client.post(f"{URL}/{created['id']}/rotate-key").json()
    assert rotated["api_key"] != created["api_key"]
    assert InboundSource.objects.get().key_hash == hash_key(rotated["api_key"])


def test_other_tenants_sources_are_invisible(api_client, other_api_client):
    source_id = api_client.post(URL, {"name": "mine", "kind": "recorder"}, format="json").json()["id"]
    assert other_api_client.get(URL).json()["count"] == 0
    assert other_api_client.get(f"{URL}/{source_id}").status_code == 404
    assert other_api_client.delete(f"{URL}/{source_id}").status_code == 404
    assert InboundSource.objects.filter(pk=source_id).exists()


def test_anonymous_is_401(client):
    assert client.get(URL).status_code == 401


def test_is_active_false_on_create_is_honoured(api_client):
    body = api_client.post(URL, {"name": "paused", "kind": "recorder", "is_active": False}, format="json").json()
    assert body["is_active"] is False
    assert InboundSource.objects.get(pk=body["id"]).is_active is False


@pytest.mark.parametrize("secret", ["not-base64-secret!", "whsec_%%%%%%%%", "whsec_c2hvcnQ="])
def test_standard_scheme_refuses_a_secret_it_could_never_verify(api_client, secret):
    response = api_client.post(URL, {"name": "std", "kind": "recorder", "signature_scheme": "standard",
                                     "signing_secret": secret}, format="json")
    assert response.status_code == 400, response.content
    assert "signing_secret" in response.json()
    assert not InboundSource.objects.exists()


def test_standard_scheme_accepts_whsec_and_plain_base64(api_client):
    for secret in ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]:
        response = api_client.post(URL, {"name": "std", "kind": "recorder", "signature_scheme": "standard",
                                         "signing_secret": secret}, format="json")
        assert response.status_code == 201, response.content


def test_switching_to_standard_must_fit_the_current_secret(api_client):
    source_id = api_client.post(URL, {"name": "R", "kind": "recorder", "signing_secret": "hex-style-secret"},
                                format="json").json()["id"]
    refused = api_client.patch(f"{URL}/{source_id}", {"signature_scheme": "standard"}, format="json")
    assert refused.status_code == 400 and "signing_secret" in refused.json()
    assert InboundSource.objects.get(pk=source_id).signature_scheme == "hmac-sha256-hex"
    switched = api_client.patch(f"{URL}/{source_id}", {"signature_scheme": "standard",
                                                       "signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
                                format="json")
    assert switched.status_code == 200, switched.content


@pytest.mark.parametrize("header", ["not a header", "X_Under_Score", "Authorization", "x-api-key", "", "X:Y",
                                    "X-Webhook-Id", "webhook-id", "Idempotency-Key", "X-RealCast-Webhook-Id",
                                    "webhook-timestamp"])
def test_signature_header_must_be_a_usable_header_name(api_client, header):
    response = api_client.post(URL, {"name": "x", "kind": "recorder", "signature_header": header}, format="json")
    assert response.status_code == 400, response.content
    assert "signature_header" in response.json()


def test_junk_bodies_are_400_not_500(api_client):
    for body in [b"[]", b"\xff", b"{", b'{"name": 5, "kind": ["recorder"]}', b'{"name": "x", "kind": "recorder", '
                 b'"rate_limit": 0, "timestamp_tolerance": -1}']:
        response = api_client.generic("POST", URL, body, content_type="application/json")
        assert response.status_code == 400, (body, response.content)
    assert not InboundSource.objects.exists()


def test_a_realcast_source_needs_a_signing_secret_it_can_never_lose(api_client):
    # Its endpoint checks the signature alone, so without a secret it would be refused forever.
    for body in [{"name": "RC", "kind": "realcast"}, {"name": "RC", "kind": "realcast", "signing_secret": None}]:
        response = api_client.post(URL, body, format="json")
        assert response.status_code == 400 and "signature alone" in response.json()["signing_secret"][0]
    source_id = api_client.post(URL, {"name": "RC", "kind": "realcast", "signing_secret": "rc-secret-123456"},
                                format="json").json()["id"]
    assert api_client.patch(f"{URL}/{source_id}", {"signing_secret": None}, format="json").status_code == 400
    assert api_client.patch(f"{URL}/{source_id}", {"name": "renamed"}, format="json").status_code == 200
    assert revealed(InboundSource.objects.get(pk=source_id)) == ["rc-secret-123456"]
