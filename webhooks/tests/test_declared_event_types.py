"""Event types an integrator declares (`/api/v1/event-types`): the outbound-webhook application's own
`match.found`, `video.processed` and `subscription.updated`, declared, subscribed, test-sent and emitted."""

import asyncio
import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import async_to_sync

from webhooks.events import InvalidEventData, aemit, emit
from webhooks.models import Event
from webhooks.registry import UnknownEventType

pytestmark = pytest.mark.django_db

# The outbound-webhook application's events, with the fields its emit_* helpers send.
MATCH_FOUND = {
    "name": "match.found", "description": "A query video matched a known one.",
    "schema": {"type": "object", "required": ["match_id", "query_video_id", "matched_video_id", "confidence"],
               "properties": {"match_id": {"type": "integer"}, "query_video_id": {"type": "string"},
                              "matched_video_id": {"type": "string"},
                              "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                              "segment_start": {"type": "number"}, "segment_end": {"type": "number"}}},
    "example": {"match_id": 1, "query_video_id": "dQw4w9WgXcQ", "matched_video_id": "9bZkp7q19f0",
                "confidence": 0.95, "segment_start": 30.5, "segment_end": 45.2},
}
VIDEO_PROCESSED = {
    "name": "video.processed", "description": "A video was fingerprinted.", "schema": None,
    "example": {"video_id": 7, "video_url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "title": "Song",
                "duration": 212.0, "fingerprint_count": 840, "processing_time_seconds": 12.5},
}
SUBSCRIPTION_UPDATED = {
    "name": "subscription.updated", "description": "A subscription's plan changed.",
    "example": {"subscription_id": 3, "user_id": 9, "plan_tier": "pro", "status": "active", "previous_plan": "free"},
}
OUTBOUND_APPLICATION_TYPES = [MATCH_FOUND, VIDEO_PROCESSED, SUBSCRIPTION_UPDATED]


def declare(client, declared: dict):
    return client.post("/api/v1/event-types", declared, format="json")


def test_declared_types_are_created_read_changed_and_deleted_by_name(api_client):
    response = declare(api_client, MATCH_FOUND)
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "match.found" and response.json()["schema"] == MATCH_FOUND["schema"]
    assert [t["name"] for t in api_client.get("/api/v1/event-types").json()["results"]] == ["match.found"]
    assert api_client.get("/api/v1/event-types/match.found").json()["example"] == MATCH_FOUND["example"]
    changed = api_client.patch("/api/v1/event-types/match.found", {"description": "Found."}, format="json")
    assert changed.status_code == 200 and changed.json()["description"] == "Found."
    # The name is fixed once created: the change request's `name` is read-only, so it is ignored.
    renamed = api_client.patch("/api/v1/event-types/match.found", {"name": "match.lost"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "match.found"
    assert declare(api_client, MATCH_FOUND).status_code == 409  # declared already: a conflict, not bad input
    assert api_client.delete("/api/v1/event-types/match.found").status_code == 204
    assert api_client.get("/api/v1/event-types/match.found").status_code == 404


def test_tenants_never_see_each_others_declared_types(api_client, other_api_client):
    declare(api_client, MATCH_FOUND)
    assert other_api_client.get("/api/v1/event-types/match.found").status_code == 404
    assert other_api_client.delete("/api/v1/event-types/match.found").status_code == 404
    assert "match.found" not in {t["name"] for t in other_api_client.get("/api/v1/webhooks/events").json()}
    response = other_api_client.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/", "events": ["match.found"]},
                                     format="json")
    assert response.status_code == 400 and set(response.json()) == {"events"}
    assert declare(other_api_client, MATCH_FOUND).status_code == 201  # the name is free in every tenant


@pytest.mark.parametrize(("name", "expected"), [
    ("stream.live", "built-in"), ("webhook.test", "built-in"), ("endpoint.failing", "built-in"),
    ("endpoint.paused", "reserved"), ("delivery.exhausted", "built-in"), ("delivery.retried", "reserved"),
    ("Match.Found", "lower-case"), ("match", "lower-case"),
    ("match..found", "lower-case"), ("match.*", "lower-case"), ("x." + "a" * 100, "100 characters"),
])
def test_a_name_that_is_not_a_fresh_dot_name_is_a_400(api_client, name, expected):
    response = declare(api_client, {**MATCH_FOUND, "name": name})
    assert response.status_code == 400, response.content
    assert set(response.json()) == {"name"} and expected in response.json()["name"][0]


def test_an_invalid_schema_or_an_example_it_refuses_is_a_400_naming_the_field(api_client):
    response = declare(api_client, {**MATCH_FOUND, "schema": {"type": "objekt"}})
    assert response.status_code == 400 and set(response.json()) == {"schema"}
    response = declare(api_client, {**MATCH_FOUND, "example": {**MATCH_FOUND["example"], "confidence": "high"}})
    assert response.status_code == 400 and set(response.json()) == {"example"}
    assert "$.confidence" in response.json()["example"][0]
    # Nothing fetched for a remote $ref, and no pattern a backtracking engine would spin on.
    response = declare(api_client, {**MATCH_FOUND, "schema": {"$ref": "https://example.com/s.json"}})
    assert response.status_code == 400 and set(response.json()) == {"schema"}
    redos = {"type": "object", "properties": {"name": {"type": "string", "pattern": "^(a+)+$"}}}
    started = time.monotonic()
    response = declare(api_client, {**MATCH_FOUND, "schema": redos, "example": {"name": "a" * 5000 + "!"}})
    assert response.status_code == 400 and set(response.json()) == {"example"}
    assert time.monotonic() - started < 5
    deep: dict = {}
    for _ in range(300):  # parses as JSON, but is past the validator's recursion limit
        deep = {"not": deep}
    response = declare(api_client, {**MATCH_FOUND, "schema": deep})
    assert response.status_code == 400 and set(response.json()) == {"schema"}


def test_declared_types_are_listed_beside_the_built_in_catalogue(api_client):
    for declared in OUTBOUND_APPLICATION_TYPES:
        assert declare(api_client, declared).status_code == 201
    entries = {e["name"]: e for e in api_client.get("/api/v1/webhooks/events").json()}
    assert entries["match.found"] == {"name": "match.found", "description": MATCH_FOUND["description"],
                                      "durable": True, "declared": True, "schema": MATCH_FOUND["schema"],
                                      "example": MATCH_FOUND["example"]}
    assert entries["stream.live"]["declared"] is False and entries["job.failed"]["declared"] is False


def test_emit_checks_a_declared_types_schema_and_its_tenant(tenant, other_tenant, api_client):
    declare(api_client, MATCH_FOUND)
    event = emit("match.found", MATCH_FOUND["example"], tenant=tenant)
    assert Event.objects.get(pk=event.pk).type == "match.found"
    with pytest.raises(InvalidEventData, match=r"\$.confidence"):
        emit("match.found", {**MATCH_FOUND["example"], "confidence": 2}, tenant=tenant)
    with pytest.raises(UnknownEventType):
        emit("match.found", MATCH_FOUND["example"], tenant=other_tenant)


@pytest.mark.django_db(transaction=True)
def test_emit_inside_a_running_event_loop_records_the_event(tenant, monkeypatch):
    """The outbound-webhook application calls its emit_* helpers from `async def` too ("Still works!")."""
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)  # conftest's, for Playwright; not production's

    async def process_video_async():
        return emit("user.created", {"user_id": 1, "username": "a", "email": "a@example.com"}, tenant=tenant)

    # On a thread of its own: after the browser tests, Playwright keeps a loop running on this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        event = pool.submit(asyncio.run, process_video_async()).result()
        awaited = pool.submit(async_to_sync(aemit), "user.created", {"user_id": 2, "username": "b", "email": ""},
                              tenant=tenant).result()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # this thread's checks, beside Playwright's loop
    assert event is not None and Event.objects.filter(pk=event.pk, type="user.created").exists()
    assert Event.objects.filter(pk=awaited.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_the_applications_events_are_declared_subscribed_test_sent_and_emitted(
    api_client, tenant, celery_worker, httpserver,
):
    httpserver.expect_request("/hooks", method="POST").respond_with_data("ok")
    for declared in OUTBOUND_APPLICATION_TYPES:
        assert declare(api_client, declared).status_code == 201
    created = api_client.post("/api/v1/webhooks", {
        "url": httpserver.url_for("/hooks"), "events": ["match.found", "video.processed", "subscription.*"],
    }, format="json")
    assert created.status_code == 201, created.content
    endpoint_id = created.json()["id"]

    test_sent = api_client.post(f"/api/v1/webhooks/{endpoint_id}/test", {"event_type": "match.found"}, format="json")
    assert test_sent.status_code == 202, test_sent.content
    emitted = [
        emit("video.processed", VIDEO_PROCESSED["example"], tenant=tenant),
        emit("subscription.updated", SUBSCRIPTION_UPDATED["example"], tenant=tenant),
        emit("match.found", {**MATCH_FOUND["example"], "match_id": 2}, tenant=tenant),
    ]
    deadline = time.monotonic() + 60
    while len(httpserver.log) < 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    received = {json.loads(request.get_data())["data"].get("match_id", "-"): json.loads(request.get_data())
                for request, _ in httpserver.log}
    by_id = {request.headers["webhook-id"]: json.loads(request.get_data()) for request, _ in httpserver.log}
    assert set(by_id) == {test_sent.json()["event_id"], *[e.pk for e in emitted]}, received
    assert by_id[test_sent.json()["event_id"]] | {"timestamp": ""} == {
        "type": "match.found", "timestamp": "", "data": MATCH_FOUND["example"]}
    assert by_id[emitted[0].pk]["data"] == VIDEO_PROCESSED["example"]
    assert by_id[emitted[1].pk]["type"] == "subscription.updated"
    assert by_id[emitted[2].pk]["data"]["match_id"] == 2


def curl(*args: str) -> dict:
    """curl as the guide writes it: `-d` with JSON and no content type (so curl labels it a form)."""
    done = subprocess.run(["curl", "-sS", "--max-time", "30", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.django_db(transaction=True)
def test_the_guides_own_curl_calls_subscribe_and_test_send_a_declared_type(live_server, tenant_ctx, httpserver):
    token, base = tenant_ctx.token_key, live_server.url
    declared = curl("-X", "POST", f"{base}/api/v1/event-types", "-H", f"Authorization: Bearer {token}",
                    "-d", json.dumps(MATCH_FOUND))
    assert declared["name"] == "match.found", declared
    # The guide's "Integration Testing" block; only the URLs (ours, and the receiver's) changed.
    created = curl("-X", "POST", f"{base}/api/v1/webhooks", "-H", f"Authorization: Bearer {token}", "-d", f'''{{
    "url": "{httpserver.url_for('/hooks')}",
    "events": ["match.found"]
  }}''')
    assert created["events"] == ["match.found"], created
    sent = curl("-X", "POST", f"{base}/api/v1/webhooks/{created['id']}/test", "-H", f"Authorization: Bearer {token}",
                "-d", '{"event_type": "match.found"}')
    assert Event.objects.get(pk=sent["event_id"]).type == "match.found"
