"""Done when: receivers written with the official `standardwebhooks` and `svix` libraries verify every
delivery unchanged. Real deliveries by the real engine (fan-out, signing, HTTP) to receivers on 127.0.0.1."""

import json
from datetime import timedelta

import pytest
import standardwebhooks.webhooks
import svix.webhooks
from django.utils import timezone

from core.crypto import reveal
from webhooks import services, signing
from webhooks.events import emit
from webhooks.models import Attempt, Delivery
from webhooks.registry import all_event_types
from webhooks.tests.engine import about_another_endpoint
from webhooks.tests.receivers import PythonReceiver

pytestmark = pytest.mark.django_db


def deliver_now() -> None:
    """Fan out every waiting event and send at once, as the worker would (on_commit never fires in a test).

    The engine fans waiting events out together and sends a batch concurrently: arrival order is not
    emission order, so tests compare what arrived by `webhook-id`.
    """
    from webhooks.delivery import deliveries_send_claimed
    from webhooks.fanout import events_fan_out

    while deliveries := events_fan_out():
        deliveries_send_claimed(deliveries=deliveries)


def library_view(library: str, secrets: list[str]):
    """A receiver view exactly as each library documents it: raw body, request headers, the secret."""

    def view(request):
        for secret in secrets:
            if library == "standardwebhooks":
                payload = standardwebhooks.webhooks.Webhook(secret).verify(request.get_data(), dict(request.headers))
            else:
                svix.webhooks.Webhook(secret).verify(request.get_data(), dict(request.headers))
                payload = json.loads(request.get_data())
        return 200, payload.get("type") or payload.get("event")

    return view


DURABLE = [t for t in all_event_types() if t.durable]


@pytest.mark.parametrize("style", ["standard", "event"])
@pytest.mark.parametrize("library", ["standardwebhooks", "svix"])
def test_official_libraries_verify_every_event_type(tenant, library, style):
    secrets: list[str] = []
    with PythonReceiver(library_view(library, secrets)) as receiver:
        endpoint = services.endpoint_create(tenant=tenant, url=receiver.url, payload_style=style)
        secrets.append(endpoint.secret)
        events = [emit(t.name, about_another_endpoint(t), tenant=tenant) for t in DURABLE]
        deliver_now()
    by_id = {r["headers"]["webhook-id"]: r for r in receiver.received}
    unsent = list(Delivery.objects.exclude(status="succeeded").values("event__type", "status", "last_error"))
    assert len(receiver.received) == len(by_id) == len(DURABLE), unsent
    assert {i: (r["status"], r["text"]) for i, r in by_id.items()} == {e.pk: (200, e.type) for e in events}
    assert Delivery.objects.filter(endpoint=endpoint, status="succeeded").count() == len(DURABLE)
    for event in events:
        assert json.loads(by_id[event.pk]["body"])["data"] == event.data


@pytest.mark.parametrize("library", ["standardwebhooks", "svix"])
def test_after_rotation_both_signatures_are_sent_and_both_secrets_verify(tenant, library):
    secrets: list[str] = []
    with PythonReceiver(library_view(library, secrets)) as receiver:
        endpoint = services.endpoint_create(tenant=tenant, url=receiver.url)
        old = reveal(endpoint.secret)
        new = services.endpoint_rotate_secret(endpoint=endpoint)
        secrets.extend([old, new])  # the view verifies with each: a receiver not yet updated, and one that is
        emit("stream.live", {"stream_id": "s1"}, tenant=tenant)
        deliver_now()
    [got] = receiver.received
    assert got["status"] == 200, got["text"]
    assert len(got["headers"]["webhook-signature"].split(" ")) == 2


def test_once_the_overlap_is_over_only_the_new_secret_signs(tenant):
    secrets: list[str] = []
    with PythonReceiver(library_view("standardwebhooks", secrets)) as receiver:
        endpoint = services.endpoint_create(tenant=tenant, url=receiver.url)
        old = reveal(endpoint.secret)
        services.endpoint_rotate_secret(endpoint=endpoint, now=timezone.now() - timedelta(hours=25))
        secrets.append(old)
        emit("stream.live", {"stream_id": "s1"}, tenant=tenant)
        deliver_now()
    [got] = receiver.received
    assert got["status"] == 500 and "Verification" in got["text"]
    assert len(got["headers"]["webhook-signature"].split(" ")) == 1
    assert Delivery.objects.get(endpoint=endpoint).status == "pending"  # 500 is retried


def test_a_receiver_with_the_wrong_secret_rejects_and_the_attempt_is_logged_without_secrets(tenant):
    wrong = signing.new_secret()
    with PythonReceiver(library_view("standardwebhooks", [wrong])) as receiver:
        endpoint = services.endpoint_create(tenant=tenant, url=receiver.url)
        emit("stream.live", {"stream_id": "s1"}, tenant=tenant)
        deliver_now()
    assert receiver.received[0]["status"] == 500
    attempt = Attempt.objects.get(delivery__endpoint=endpoint)
    full = receiver.received[0]["headers"]["webhook-signature"]
    assert attempt.request_headers["webhook-signature"] != full
    assert reveal(endpoint.secret) not in json.dumps(attempt.request_headers)
