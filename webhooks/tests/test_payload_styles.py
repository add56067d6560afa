"""Each payload style's body, as a real receiver gets it: `standard`, `event` (RealCast) and
`underscore` (the audio frontend switches on `audio_level` / `listening_status`)."""

import json

import pytest

from webhooks.tests.engine import endpoint_make, publish

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("style", "key", "name"), [
    ("standard", "type", "listening.status"),
    ("event", "event", "listening.status"),
    ("underscore", "type", "listening_status"),
])
def test_each_style_names_the_type_its_receivers_switch_on(tenant, httpserver, style, key, name):
    httpserver.expect_request("/api/webhook/receive", method="POST").respond_with_data("ok")
    endpoint_make(tenant, httpserver.url_for("/api/webhook/receive"), payload_style=style)
    data = {"isListening": True, "sessionId": "s1", "status": "active"}
    [delivery] = publish(tenant, "listening.status", data)
    assert delivery.status == "succeeded"
    [(request, _)] = httpserver.log
    body = json.loads(request.get_data())
    assert list(body) == [key, "timestamp", "data"]
    assert body[key] == name and body["data"] == data


def test_the_api_offers_the_underscore_style_and_names_a_wrong_one(api_client):
    url = "http://127.0.0.1:5173/api/webhook/receive"
    created = api_client.post("/api/v1/webhooks", {"url": url, "events": ["audio.*", "listening.status"],
                                                   "payload_style": "underscore"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["payload_style"] == "underscore"
    refused = api_client.post("/api/v1/webhooks", {"url": url, "payload_style": "snake"}, format="json")
    assert refused.status_code == 400 and "payload_style" in refused.json()
