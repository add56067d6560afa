"""The OpenAPI schema's paths are the ones clients call: as the API spells them, and served."""

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
    # The API's own paths; the senders' keep their documents' spelling (the recorder's `/recordings/webhook/`).
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
    add_member(tenant, "souvik@fyelabs.com", "souvik")  # the user of the recorder document's example
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


def _operations(schema: dict):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method in {"get", "put", "post", "patch", "delete"}:
                yield f"{method.upper()} {path}", operation


def test_every_operation_is_tagged_by_its_resource_never_api(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    declared = [tag["name"] for tag in schema["tags"]]
    tags = {name: operation.get("tags") for name, operation in _operations(schema)}
    assert len(tags) > 50
    assert {name: t for name, t in tags.items() if not t or len(t) != 1 or t[0] not in declared} == {}
    assert "api" not in declared
    assert tags["GET /api/v1/webhooks"] == ["webhooks"] and tags["POST /api/v1/deliveries/{id}/redeliver"] == [
        "deliveries"] and tags["GET /api/v1/tokens"] == ["tokens"]


def test_every_authenticated_operation_declares_the_errors_the_api_gives_by_itself(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    for name, operation in _operations(schema):
        if not any(operation.get("security", [])):
            continue  # a sender's endpoint: it documents its own answers (webhooks/inbound/openapi.py)
        codes = set(operation["responses"])
        assert {"401", "403"} <= codes, name
        if "{" in name:
            assert "404" in codes, name
        if "requestBody" in operation or any(p["in"] == "query" for p in operation.get("parameters", [])):
            assert "400" in codes, name


def test_realcast_events_are_documented_one_serializer_each(client):
    from webhooks.inbound.handlers import registered_events

    realcast_events = registered_events("realcast")

    schema = client.get("/api/schema/", {"format": "json"}).json()
    request = schema["paths"]["/webhooks/realcast/{source_id}"]["post"]["requestBody"]["content"]["application/json"]
    event = schema["components"]["schemas"][request["schema"]["$ref"].rsplit("/", 1)[1]]
    assert set(event["discriminator"]["mapping"]) == set(realcast_events)
    assert len(event["oneOf"]) == len(realcast_events)
