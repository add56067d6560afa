"""A tenant's subscriber gets the stream.*, track.classified and chat.* events."""

import json
import time

import pytest
from pytest_httpserver import HTTPServer
from rest_framework.test import APIClient
from standardwebhooks import Webhook

from streams.tests.test_ingest import DJ_STREAM, RC_EVENTS, SECRET, SEED_CHAT, SEED_STATS, SEED_TRACK, seed_json, sign
from webhooks.fanout import event_fan_out
from webhooks.inbound.models import InboundMessage
from webhooks.inbound.services import message_process, source_create
from webhooks.models import Delivery, Event
from webhooks.services import endpoint_create

STREAM_TYPES = {"stream.live", "stream.updated", "stream.offline", "stream.error", "viewer.joined",
                "viewer.count.update", "chat.message.new", "chat.interaction", "track.classified"}


def _post_everything(client, assistant_key: str, rc_source_id: int) -> None:
    assistant = APIClient()
    assistant.credentials(HTTP_AUTHORIZATION=f"Bearer {assistant_key}")
    start = seed_json(SEED_STATS, DJ_STREAM).replace(b'"stream_update"', b'"stream_start"').replace(
        b"20:45:00", b"20:00:00")
    bodies = [
        ("/api/webhook/stream-stats", start),
        ("/api/webhook/track-classified", seed_json(SEED_TRACK)),
        ("/api/webhook/chat-interaction", seed_json(SEED_CHAT, DJ_STREAM)),
        ("/api/webhook/stream-stats", seed_json(SEED_STATS, {**DJ_STREAM, "viewer_count": 150})),
    ]
    for path, body in bodies:
        assert assistant.generic("POST", path, body, content_type="application/json").status_code == 201
    for n, event in enumerate(RC_EVENTS):
        body = json.dumps(event).encode()
        response = client.generic("POST", f"/webhooks/realcast/{rc_source_id}", body,
                                  content_type="application/json", HTTP_X_REALCAST_SIGNATURE=sign(body),
                                  HTTP_X_REALCAST_WEBHOOK_ID=f"wh_{n}")
        assert response.status_code == 200


@pytest.mark.django_db
def test_subscriber_gets_a_delivery_for_every_stream_event(client, tenant, other_tenant):
    endpoint = endpoint_create(tenant=tenant, url="http://127.0.0.1:9/streams", events=[])
    other = endpoint_create(tenant=other_tenant, url="http://127.0.0.1:9/other", events=[])
    _, key = source_create(tenant=tenant, name="assistant", kind="stream-assistant")
    rc, _ = source_create(tenant=tenant, name="RealCast", kind="realcast", signing_secret=SECRET)
    _post_everything(client, key, rc.pk)
    for pk in InboundMessage.objects.filter(status="received").values_list("pk", flat=True):
        message_process(message_pk=pk)  # what the Celery task does

    events = Event.objects.filter(tenant=tenant, type__in=STREAM_TYPES)
    assert set(events.values_list("type", flat=True)) == STREAM_TYPES
    for event in events:
        event_fan_out(event_id=event.pk)
    deliveries = Delivery.objects.filter(endpoint=endpoint)
    assert set(deliveries.values_list("event__type", flat=True)) == STREAM_TYPES
    assert deliveries.count() == events.count()
    assert not Delivery.objects.filter(endpoint=other).exists()


@pytest.mark.integration
def test_subscriber_receives_signed_stream_events_over_http(celery_worker, client, tenant, httpserver: HTTPServer):
    httpserver.expect_request("/hooks", method="POST").respond_with_data("ok")
    endpoint = endpoint_create(tenant=tenant, url=httpserver.url_for("/hooks"),
                               events=["stream.live", "track.classified", "chat.interaction", "stream.offline"])
    _, key = source_create(tenant=tenant, name="assistant", kind="stream-assistant")
    rc, _ = source_create(tenant=tenant, name="RealCast", kind="realcast", signing_secret=SECRET)
    _post_everything(client, key, rc.pk)

    deadline = time.monotonic() + 45
    while time.monotonic() < deadline and len(httpserver.log) < 5:
        time.sleep(0.2)
    received = {}
    verifier = Webhook(endpoint.secret)
    for request, _response in httpserver.log:
        payload = verifier.verify(request.get_data(), dict(request.headers))  # raises if the signature is bad
        received.setdefault(payload["type"], []).append(payload["data"])
    # Two stream.live: the assistant's session and RealCast's stream; one offline (RealCast's).
    assert sorted((t, len(v)) for t, v in received.items()) == [
        ("chat.interaction", 1), ("stream.live", 2), ("stream.offline", 1), ("track.classified", 1)]
    assert received["track.classified"][0]["subgenre"] == "liquid dnb"
    assert received["stream.offline"][0]["duration_seconds"] == 3600


@pytest.mark.django_db
def test_every_emitted_payload_has_the_keys_of_its_registered_example(client, tenant):
    from webhooks.registry import get_event_type

    _, key = source_create(tenant=tenant, name="assistant", kind="stream-assistant")
    rc, _ = source_create(tenant=tenant, name="RealCast", kind="realcast", signing_secret=SECRET)
    _post_everything(client, key, rc.pk)
    for pk in InboundMessage.objects.filter(status="received").values_list("pk", flat=True):
        message_process(message_pk=pk)
    for event in Event.objects.filter(tenant=tenant, type__in=STREAM_TYPES):
        assert set(event.data) == set(get_event_type(event.type).example), event.type
