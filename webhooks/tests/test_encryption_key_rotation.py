"""Done when: rotating the encryption key is tested end to end. Deliveries signed before
`rotate_encryption_key` still verify with the endpoint's secret afterwards, and new ones, sent by a worker
that holds only the new key, are signed with that same secret. A real worker, a real receiver on 127.0.0.1."""

import time
from io import StringIO

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from standardwebhooks.webhooks import Webhook

from core.crypto import reveal
from webhooks import services
from webhooks.events import emit
from webhooks.models import Delivery, Endpoint

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def stored_secret(endpoint: Endpoint) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM webhooks_endpoint WHERE id = %s", [endpoint.pk])
        return cursor.fetchone()[0]


def delivered(event_id: str, timeout: float = 60) -> Delivery:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        delivery = Delivery.objects.filter(event_id=event_id).first()
        if delivery is not None and delivery.status != Delivery.Status.PENDING:
            return delivery
        time.sleep(0.1)
    raise AssertionError(f"event {event_id} was not delivered within {timeout}s")


def emit_committed(tenant, n: int):
    with transaction.atomic():  # fan-out is scheduled on commit, as in production
        return emit("stream.live", {"session_id": f"s-{n}"}, tenant=tenant)


def verify_all(httpserver, secret: str) -> list[dict]:
    return [Webhook(secret).verify(request.get_data(), dict(request.headers)) for request, _ in httpserver.log]


def test_deliveries_verify_with_the_same_secret_across_a_key_rotation(tenant, worker_factory, httpserver, settings):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    settings.STREAMHOOK_ENCRYPTION_KEYS = [OLD_KEY]
    worker = worker_factory(env={"STREAMHOOK_ENCRYPTION_KEYS": OLD_KEY})
    endpoint = services.endpoint_create(tenant=tenant, url=httpserver.url_for("/hook"), events=["stream.live"])
    secret = reveal(endpoint.secret)
    before = emit_committed(tenant, 1)
    assert delivered(before.pk).status == Delivery.Status.SUCCEEDED
    worker.stop()

    settings.STREAMHOOK_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    out = StringIO()
    call_command("rotate_encryption_key", stdout=out)
    assert "webhooks.Endpoint: 1 rows, 1 secrets" in out.getvalue()
    assert Fernet(NEW_KEY).decrypt(stored_secret(endpoint).encode()).decode() == secret
    with pytest.raises(InvalidToken):
        Fernet(OLD_KEY).decrypt(stored_secret(endpoint).encode())

    # The old key is gone from the worker's environment: what it signs now, it decrypted with the new key.
    settings.STREAMHOOK_ENCRYPTION_KEYS = [NEW_KEY]
    worker_factory(env={"STREAMHOOK_ENCRYPTION_KEYS": NEW_KEY})
    after = emit_committed(tenant, 2)
    assert delivered(after.pk).status == Delivery.Status.SUCCEEDED

    payloads = verify_all(httpserver, secret)
    assert [p["data"]["session_id"] for p in payloads] == ["s-1", "s-2"]
    assert [request.headers["webhook-id"] for request, _ in httpserver.log] == [before.pk, after.pk]
    assert reveal(Endpoint.objects.get(pk=endpoint.pk).secret) == secret


@pytest.mark.django_db
def test_rotation_without_the_old_key_stops_with_a_clear_error_and_writes_nothing(tenant, settings):
    settings.STREAMHOOK_ENCRYPTION_KEYS = [OLD_KEY]
    endpoint = services.endpoint_create(tenant=tenant, url="http://127.0.0.1:9/hook")
    stored = stored_secret(endpoint)
    settings.STREAMHOOK_ENCRYPTION_KEYS = [NEW_KEY]
    with pytest.raises(CommandError, match="put every old key back"):
        call_command("rotate_encryption_key", stdout=StringIO())
    assert stored_secret(endpoint) == stored
