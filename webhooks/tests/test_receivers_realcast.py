"""Done when: receivers written exactly like RealCast's Node and Python examples accept `hmac-sha256-hex`
deliveries with `X-RealCast-Signature` and switch on `event`. Real deliveries through the real engine."""

import shutil

import pytest

from webhooks import services
from webhooks.events import emit
from webhooks.models import Delivery
from webhooks.registry import all_event_types
from webhooks.tests.engine import about_another_endpoint
from webhooks.tests.receivers import NodeReceiver, PythonReceiver
from webhooks.tests.receivers.realcast_python import handle
from webhooks.tests.test_receivers_libraries import deliver_now

pytestmark = pytest.mark.django_db

DURABLE = [t for t in all_event_types() if t.durable]
REALCAST = {"signature_scheme": "hmac-sha256-hex", "signature_header": "X-RealCast-Signature",
            "payload_style": "event", "retry_schedule": [1, 5, 25]}
# Non-ASCII, floats JavaScript prints differently from Python's repr, nesting: JSON.stringify must give our bytes back.
TRICKY = {"stream_id": "stream_abc123", "title": "Ünïcode ♫ “quotes” \u2028 😀", "ratio": 0.1, "huge": 1.5e20,
          "small": 1e-7, "whole": 120.0, "neg": -0.0, "list": [1, 2.5, None, True, {"k": "v"}], "empty": {}}


@pytest.fixture(scope="module")
def node():
    path = shutil.which("node")
    if path is None:
        pytest.fail("node is not installed; the RealCast receiver test needs the machine's node")
    return path


def realcast_endpoint(tenant, url):
    return services.endpoint_create(tenant=tenant, url=url, **REALCAST)


def test_node_receiver_accepts_every_event_type_and_switches_on_event(tenant, node):
    endpoint = realcast_endpoint(tenant, "http://127.0.0.1:9/")
    with NodeReceiver(endpoint.secret) as receiver:
        services.endpoint_update(endpoint=endpoint, url=receiver.url)
        events = [emit(t.name, about_another_endpoint(t), tenant=tenant) for t in DURABLE]
        events.append(emit("stream.live", TRICKY, tenant=tenant))
        deliver_now()
        received = receiver.received
    # Keyed by X-RealCast-Webhook-Id (what RealCast's receivers de-duplicate on); a batch arrives in any order.
    assert {r["webhook_id"]: (r["status"], r["event"]) for r in received} == {e.pk: (200, e.type) for e in events}
    assert len(received) == len(events)
    handled = {r["event"]: r["handled"] for r in received}
    assert handled["stream.live"].startswith("Stream ") and handled["stream.live"].endswith(" went live")
    assert handled["webhook.test"] == "Unhandled event: webhook.test"
    assert next(r for r in received if r["webhook_id"] == events[-1].pk)["data"] == TRICKY
    assert Delivery.objects.filter(endpoint=endpoint, status="succeeded").count() == len(events)


def test_node_receiver_rejects_a_delivery_signed_with_another_secret(tenant, node):
    endpoint = realcast_endpoint(tenant, "http://127.0.0.1:9/")
    with NodeReceiver("not-the-secret") as receiver:
        services.endpoint_update(endpoint=endpoint, url=receiver.url)
        emit("stream.live", {"stream_id": "s1"}, tenant=tenant)
        deliver_now()
        received = receiver.received
    assert [r["status"] for r in received] == [401]
    assert Delivery.objects.get(endpoint=endpoint).status == "failed"  # 401 is not retried


def test_python_receiver_accepts_every_event_type_and_switches_on_event(tenant):
    secret: list[str] = []
    with PythonReceiver(lambda request: handle(request, secret[0])) as receiver:
        endpoint = realcast_endpoint(tenant, receiver.url)
        secret.append(endpoint.secret)
        events = [emit(t.name, about_another_endpoint(t), tenant=tenant) for t in DURABLE]
        events.append(emit("stream.live", TRICKY, tenant=tenant))
        deliver_now()
    got_by_id = {r["headers"]["X-Webhook-Id"]: (r["status"], r["text"]) for r in receiver.received}
    assert got_by_id == {e.pk: (200, e.type) for e in events} and len(receiver.received) == len(events)
    for got in receiver.received:
        assert got["headers"]["X-RealCast-Signature"].startswith("sha256=")


def test_python_receiver_rejects_another_secret(tenant):
    with PythonReceiver(lambda request: handle(request, "whsec_wrong")) as receiver:
        endpoint = realcast_endpoint(tenant, receiver.url)
        emit("stream.live", {"stream_id": "s1"}, tenant=tenant)
        deliver_now()
    assert [r["status"] for r in receiver.received] == [401]
    assert Delivery.objects.get(endpoint=endpoint).status == "failed"


def test_test_send_reaches_the_node_receiver_through_the_api(api_client, tenant, node):
    """The API's test send with the example of `stream.live`, delivered by the engine, accepted by the guide's code."""
    from webhooks.delivery import deliveries_send

    endpoint = realcast_endpoint(tenant, "http://127.0.0.1:9/")
    with NodeReceiver(endpoint.secret) as receiver:
        services.endpoint_update(endpoint=endpoint, url=receiver.url)
        response = api_client.post(f"/api/v1/webhooks/{endpoint.pk}/test", {"event_type": "stream.live"},
                                   format="json")
        assert response.status_code == 202
        deliveries_send(delivery_ids=[response.json()["delivery_id"]])
        received = receiver.received
    assert [(r["status"], r["event"], r["webhook_id"]) for r in received] == [
        (200, "stream.live", response.json()["event_id"])]


def test_node_receiver_accepts_integers_javascript_cannot_represent(tenant, node):
    endpoint = realcast_endpoint(tenant, "http://127.0.0.1:9/")
    with NodeReceiver(endpoint.secret) as receiver:
        services.endpoint_update(endpoint=endpoint, url=receiver.url)
        emit("stream.live", {"stream_id": "s1", "big": 10**21, "id": 2**53 + 1}, tenant=tenant)
        deliver_now()
        received = receiver.received
    assert [r["status"] for r in received] == [200]
