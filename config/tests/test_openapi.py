"""The OpenAPI schema's paths are the ones clients call: as DESIGN.md spells them, and served."""

import json

import pytest

from recordings.tests.factories import add_member
from webhooks.inbound.tests.factories import REALCAST_SECRET, hmac_hex_header, make_source

pytestmark = pytest.mark.django_db

SENDERS = {  # path in the schema -> (source kind, the success code it documents)
    "/recordings/webhook/": ("recorder", "201"),
    "/api/webhook/track-classified": ("stream-assistant", "201"),
    "/api/webhook/chat-interaction": ("stream-assistant", "201"),
    "/api/webhook/stream-stats": ("stream-assistant", "201"),
    "/webhooks/realcast/{source_id}": ("realcast", "200"),
}


def test_no_schema_path_carries_the_optional_trailing_slash(api_client):
    paths = api_client.get("/api/schema/", {"format": "json"}).json()["paths"]
    assert "/api/v1/webhooks" in paths and "/api/v1/webhooks/{id}/test" in paths
    # The API's own paths; the senders' keep the seeds' spelling (seed 003's `/recordings/webhook/`).
    assert [path for path in paths if path.startswith("/api/v1/") and path.endswith("/")] == []


def test_every_schema_path_is_served_as_printed_without_a_redirect(api_client):
    paths = api_client.get("/api/schema/", {"format": "json"}).json()["paths"]
    for path in set(paths) - set(SENDERS):  # (the senders' answer POST only: their own test below)
        url = path.replace("{id}", "999999").replace("{session_id}", "no-such-session")
        # OPTIONS: DRF answers it from the view's metadata, with no side effect (no delivery sent,
        # no microphone opened); an unrouted path would be a 404, a slash mismatch a 301.
        status = api_client.options(url).status_code
        assert status in (200, 404) and (status == 200 or "{" in path), (path, status)


def test_every_senders_example_gets_the_answer_the_schema_documents(client, tenant):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    add_member(tenant, "souvik@fyelabs.com", "souvik")  # seed 003's example's user
    keys = {kind: make_source(tenant, kind=kind, name=kind, signing_secret=REALCAST_SECRET if kind == "realcast"
                              else None) for kind in ("recorder", "stream-assistant", "realcast")}
    assert {path for path, ops in schema["paths"].items() if ops.get("post", {}).get("tags") == ["senders"]} == set(
        SENDERS)
    for path, (kind, success) in SENDERS.items():
        operation = schema["paths"][path]["post"]
        assert operation["summary"] and success in operation["responses"] and "401" in operation["responses"]
        (example,) = operation["requestBody"]["content"]["application/json"]["examples"].values()
        body = json.dumps(example["value"]).encode()
        source, key = keys[kind]
        if kind == "realcast":
            headers = {"HTTP_X_REALCAST_SIGNATURE": hmac_hex_header(REALCAST_SECRET, body),
                       "HTTP_X_REALCAST_WEBHOOK_ID": "wh_openapi"}
        else:
            headers = {"HTTP_X_API_KEY": key}
        response = client.post(path.replace("{source_id}", str(source.pk)), body, content_type="application/json",
                               **headers)
        assert str(response.status_code) == success, (path, response.content)
