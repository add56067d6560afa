"""The whole path with nothing called by hand: API test send → commit → broker → a real Celery worker →
the engine → RealCast's Node receiver, and a rotation seen by a Standard Webhooks receiver."""

import time

import pytest
import standardwebhooks.webhooks

from webhooks.models import Delivery
from webhooks.tests.receivers import NodeReceiver, PythonReceiver

pytestmark = pytest.mark.integration


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_api_test_send_reaches_the_node_receiver_through_a_real_worker(celery_worker, api_client):
    created = api_client.post("/api/v1/webhooks", {
        "url": "http://127.0.0.1:9/", "signature_scheme": "hmac-sha256-hex",
        "signature_header": "X-RealCast-Signature", "payload_style": "event",
    }, format="json").json()
    with NodeReceiver(created["secret"]) as receiver:
        assert api_client.patch(f"/api/v1/webhooks/{created['id']}", {"url": receiver.url},
                                format="json").status_code == 200
        sent = api_client.post(f"/api/v1/webhooks/{created['id']}/test", {"event_type": "stream.offline"},
                               format="json").json()
        assert wait_for(lambda: receiver.received), celery_worker.output()
        received = receiver.received
    assert [(r["status"], r["event"], r["webhook_id"]) for r in received] == [(200, "stream.offline",
                                                                                sent["event_id"])]
    assert wait_for(lambda: Delivery.objects.get(pk=sent["delivery_id"]).status == "succeeded")
    deliveries = api_client.get(f"/api/v1/webhooks/{created['id']}/deliveries").json()["results"]
    assert deliveries[0]["attempts"][0]["status_code"] == 200
    stats = api_client.get(f"/api/v1/webhooks/{created['id']}/stats").json()
    assert (stats["total"], stats["succeeded"], stats["success_rate"]) == (1, 1, 1.0)


def test_rotation_through_a_real_worker_sends_two_valid_signatures(celery_worker, api_client):
    seen = []

    def view(request):
        seen.append(dict(request.headers))
        for secret in secrets:
            standardwebhooks.webhooks.Webhook(secret).verify(request.get_data(), dict(request.headers))
        return 200, "ok"

    with PythonReceiver(view) as receiver:
        created = api_client.post("/api/v1/webhooks", {"url": receiver.url}, format="json").json()
        rotated = api_client.post(f"/api/v1/webhooks/{created['id']}/rotate-secret").json()["secret"]
        secrets = [created["secret"], rotated]
        sent = api_client.post(f"/api/v1/webhooks/{created['id']}/test").json()
        assert wait_for(lambda: Delivery.objects.get(pk=sent["delivery_id"]).status != "pending"), \
            celery_worker.output()
    assert Delivery.objects.get(pk=sent["delivery_id"]).status == "succeeded"
    assert len(seen) == 1 and len(seen[0]["webhook-signature"].split(" ")) == 2
