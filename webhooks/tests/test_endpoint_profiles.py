"""Endpoint profiles, payload templates and custom headers: what the API accepts, refuses, and what is sent."""

import json
import time

import pytest
from standardwebhooks import Webhook

from webhooks import payloads
from webhooks.events import emit
from webhooks.models import Attempt, Endpoint
from webhooks.templates import EventContext, apply_template

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/hooks"
LIVE = {"session_id": "s-1", "platform": "twitch", "dj_username": "dj", "title": "Night", "status": "live",
        "started_at": "2026-11-22T20:00:00.000Z", "ended_at": None, "duration_seconds": None,
        "current_viewers": 7, "peak_viewers": 9}


def create(client, **fields):
    return client.post("/api/v1/webhooks", {"url": URL, **fields}, format="json")


def body(event, endpoint) -> dict:
    return json.loads(payloads.body_for(event=event, endpoint=endpoint))


def test_a_profile_presets_what_the_request_leaves_out(api_client):
    response = create(api_client, profile="realcast", retry_schedule=[2])
    assert response.status_code == 201, response.content
    got = response.json()
    assert (got["profile"], got["signature_scheme"], got["signature_header"], got["payload_style"],
            got["retry_schedule"], got["template"]) == ("realcast", "hmac-sha256-hex", "X-RealCast-Signature",
                                                        "event", [2], None)


def test_choosing_a_profile_later_presets_the_fields_and_dropping_it_keeps_them(api_client):
    endpoint_id = create(api_client).json()["id"]
    got = api_client.patch(f"/api/v1/webhooks/{endpoint_id}", {"profile": "audio-frontend"}, format="json").json()
    assert (got["payload_style"], got["retry_schedule"], got["signature_scheme"]) == ("underscore", [1, 5], "standard")
    got = api_client.patch(f"/api/v1/webhooks/{endpoint_id}", {"profile": None}, format="json").json()
    assert (got["profile"], got["payload_style"]) == (None, "underscore")


def test_the_profiles_are_listed_with_what_they_set(api_client):
    listed = {p["name"]: p for p in api_client.get("/api/v1/webhooks/profiles").json()}
    assert set(listed) == {"realcast", "audio-frontend"}
    assert listed["realcast"]["signature_header"] == "X-RealCast-Signature"
    assert listed["realcast"]["template"]["stream.live"]["stream_id"] == "session_id"


def test_an_unknown_profile_is_a_400_naming_it(api_client):
    response = create(api_client, profile="zapier")
    assert response.status_code == 400 and set(response.json()) == {"profile"}


def test_the_realcast_profile_shapes_our_events_as_realcast_documents_them(tenant):
    endpoint = Endpoint.objects.create(tenant=tenant, url=URL, secret="s", profile="realcast", payload_style="event")
    live = body(emit("stream.live", LIVE, tenant=tenant), endpoint)
    assert live["event"] == "stream.live"
    assert live["data"] == {"stream_id": "s-1", "app_id": tenant.slug, "title": "Night", "streamer_id": "dj",
                            "started_at": "2026-11-22T20:00:00.000Z"}
    offline = body(emit("stream.offline", {**LIVE, "status": "offline", "duration_seconds": 3600}, tenant=tenant),
                   endpoint)
    assert offline["data"] == {"stream_id": "s-1", "duration": 3600, "peak_viewers": 9, "ended_at": None}
    # The recorder's recordings have per-file links and a size in MB: RealCast's fields are computed from them.
    recorded = {"recording_id": "3", "stream_id": "", "duration_seconds": 77.0, "total_size_mb": 0.5,
                "file_size_bytes": None, "files": {"video": "https://s3.example.com/3/video.mkv"}}
    ready = body(emit("recording.ready", recorded, tenant=tenant), endpoint)
    assert ready["data"] == {"recording_id": "3", "stream_id": "", "cdn_url": "https://s3.example.com/3/video.mkv",
                             "duration": 77, "file_size": 524288}
    # A type RealCast doesn't have keeps its fields, with stream_id beside session_id.
    track = body(emit("track.classified", {"session_id": "s-1", "artist": "A"}, tenant=tenant), endpoint)
    assert track["data"] == {"session_id": "s-1", "artist": "A", "stream_id": "s-1"}


def test_the_audio_frontend_profile_sends_its_type_and_fields_only(tenant):
    endpoint = Endpoint.objects.create(tenant=tenant, url=URL, secret="s", profile="audio-frontend",
                                       payload_style="underscore")
    status = {"isListening": True, "sessionId": "abc", "status": "active", "extra": 1}
    got = body(emit("listening.status", status, tenant=tenant), endpoint)
    assert (got["type"], got["data"]) == ("listening_status", {"isListening": True, "sessionId": "abc",
                                                               "status": "active"})


def test_an_explicit_template_replaces_the_profiles(api_client, tenant):
    template = {"stream.*": {"id": "session_id"}, "stream.live": {"who": "dj_username", "kind": "context('type')",
                                                                  "fixed": 3, "nested": {"t": "'x'"}}}
    endpoint = Endpoint.objects.get(pk=create(api_client, profile="realcast", template=template).json()["id"])
    assert body(emit("stream.live", LIVE, tenant=tenant), endpoint)["data"] == {
        "who": "dj", "kind": "stream.live", "fixed": 3, "nested": {"t": "x"}}
    # The most specific key wins; a type no key matches keeps its data.
    assert body(emit("stream.updated", LIVE, tenant=tenant), endpoint)["data"] == {"id": "s-1"}
    assert body(emit("user.created", {"user_id": 1}, tenant=tenant), endpoint)["data"] == {"user_id": 1}


@pytest.mark.parametrize(("template", "expected"), [
    ({"stream.live": {"stream_id": "session_id["}}, '["stream.live"].stream_id: not a valid JMESPath expression'),
    ({"stream.live": {"n": "shell('rm')"}}, '["stream.live"].n: unknown function shell()'),
    ({"stream.live": {"n": "multiply(a)"}}, '["stream.live"].n: multiply() takes 2 argument(s), 1 given'),
    ({"stream.liev": {"n": "a"}}, "'stream.liev' is not an event type"),
    ({"nothing.*": "a"}, "'nothing.*' matches no event type"),
    ({"stream.live": {"deep": {"list": [1, 2]}}}, '["stream.live"].deep.list: a list is not a field rule'),
    ({"stream.live": 5}, '["stream.live"]: a rule is an object of fields or one JMESPath expression string'),
    (["stream.live"], "A template is an object"),
    ({"stream.live": {"n": "(" * 499 + "a" + ")" * 499}}, '["stream.live"].n: the expression is nested too deeply'),
    ({"stream.live": {"n": "!" * 999 + "a"}}, '["stream.live"].n: the expression is nested too deeply'),
])
def test_a_template_that_cant_work_is_a_400_naming_its_path(api_client, template, expected):
    response = create(api_client, template=template)
    assert response.status_code == 400, response.content
    assert set(response.json()) == {"template"}
    assert any(expected in message for message in response.json()["template"]), response.json()


def test_a_field_whose_expression_fails_on_some_data_arrives_as_null():
    template = {"stream.live": {"n": "abs(title)", "t": "title"}}
    context = EventContext(type="stream.live", id="msg_1", timestamp="", tenant=lambda: "t")
    assert apply_template(template, data={"title": "Night"}, context=context) == {"n": None, "t": "Night"}


def test_the_catalogue_shows_what_an_endpoint_receives(api_client, other_api_client, tenant):
    endpoint_id = create(api_client, profile="realcast").json()["id"]
    entries = {e["name"]: e for e in api_client.get(f"/api/v1/webhooks/events?endpoint={endpoint_id}").json()}
    delivered = entries["stream.live"]["delivered"]
    assert delivered["event"] == "stream.live" and "timestamp" in delivered
    assert delivered["data"]["stream_id"] == entries["stream.live"]["example"]["session_id"]
    assert delivered["data"]["app_id"] == tenant.slug
    assert "delivered" not in api_client.get("/api/v1/webhooks/events").json()[0]
    # Another tenant's endpoint is not a way in.
    response = other_api_client.get(f"/api/v1/webhooks/events?endpoint={endpoint_id}")
    assert response.status_code == 404  # not one of this tenant's endpoints, as for every id
    assert response.json() == {"detail": "No such endpoint for your tenant."}
    assert other_api_client.get("/api/v1/webhooks/events?endpoint=999999").json() == response.json()
    assert api_client.get("/api/v1/webhooks/events?endpoint=x").status_code == 400


@pytest.mark.parametrize("name", [
    "webhook-signature", "Webhook-Id", "webhook-timestamp", "X-Webhook-Signature", "x-webhook-id",
    "X-RealCast-Signature", "X-RealCast-Webhook-Id", "X-Other-Signature", "Host", "Content-Length", "Content-Type",
    "User-Agent", "Connection", "Transfer-Encoding", "Keep-Alive", "Upgrade", "TE", "Proxy-Authorization",
])
def test_signature_reserved_and_hop_by_hop_headers_are_refused(api_client, name):
    response = create(api_client, profile="realcast", headers={name: "x"})
    assert response.status_code == 400, response.content
    assert set(response.json()) == {"headers"} and name in response.json()["headers"][0]


@pytest.mark.parametrize("headers", [
    {"X-Tenant": "a\r\nX-Injected: 1"}, {"X-Tenant": "a\nb"}, {"Bad Name": "x"}, {"X-A": "x", "x-a": "y"},
    {"X-A": ["x"]}, {f"X-{i}": "x" for i in range(21)}, {"X-A": "é"},
])
def test_headers_that_cant_be_sent_as_written_are_refused(api_client, headers):
    response = create(api_client, headers=headers)
    assert response.status_code == 400, response.content
    assert set(response.json()) == {"headers"}


def test_a_signature_header_may_not_take_a_custom_headers_name(api_client):
    endpoint_id = create(api_client, signature_scheme="hmac-sha256-hex", headers={"X-Sig": "mine"}).json()["id"]
    response = api_client.patch(f"/api/v1/webhooks/{endpoint_id}", {"signature_header": "X-Sig"}, format="json")
    assert response.status_code == 400 and set(response.json()) == {"headers"}


@pytest.mark.django_db(transaction=True)
def test_custom_headers_are_sent_with_the_templated_signed_body_and_hidden_in_the_log(
    api_client, tenant, celery_worker, httpserver,
):
    httpserver.expect_request("/hooks", method="POST").respond_with_data("ok")
    template = {"stream.live": {"id": "session_id", "dj": "dj_username"}}
    created = api_client.post("/api/v1/webhooks", {
        "url": httpserver.url_for("/hooks"), "events": ["stream.live"], "template": template,
        "headers": {"Authorization": "Bearer rc-token-1", "X-Route": "eu"},
    }, format="json").json()
    emit("stream.live", LIVE, tenant=tenant)  # autocommit: fanned out by the worker
    deadline = time.monotonic() + 60
    while not httpserver.log and time.monotonic() < deadline:
        time.sleep(0.1)
    request, _ = httpserver.log[0]
    assert request.headers["Authorization"] == "Bearer rc-token-1" and request.headers["X-Route"] == "eu"
    # Signed after templating: the Standard Webhooks library accepts the body as received.
    verified = Webhook(created["secret"]).verify(request.get_data(), dict(request.headers))
    assert verified["data"] == {"id": "s-1", "dj": "dj"}
    deadline = time.monotonic() + 30
    while not Attempt.objects.filter(delivery__endpoint_id=created["id"]).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    logged = Attempt.objects.get(delivery__endpoint_id=created["id"]).request_headers
    assert logged["Authorization"] == logged["X-Route"] == "[hidden]"
    assert "rc-token-1" not in json.dumps(logged)
