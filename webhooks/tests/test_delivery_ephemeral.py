"""Ephemeral events: sent once, no rows, never retried, stale or superseded values dropped."""

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from werkzeug import Response

from core.ids import new_message_id
from webhooks import http
from webhooks.ephemeral import ephemeral_deliver, ephemeral_mark_latest
from webhooks.models import Attempt, Delivery
from webhooks.registry import register_event_type
from webhooks.tests.engine import endpoint_make, private_cache

pytestmark = pytest.mark.django_db
TYPE = "audio.level"


@pytest.fixture(autouse=True)
def _setup(settings):
    # Registered by the audio app; registering the same definition again is a no-op.
    from webhooks.registry import _TYPES

    if TYPE not in _TYPES:
        register_event_type(TYPE, description="Microphone level", example={"level": 42}, durable=False)
    private_cache(settings)
    http.reset()


def received(httpserver, count: int, timeout: float = 5.0) -> list[int]:
    """The levels the receiver got, once it has `count` of them (sends are asynchronous)."""
    deadline = time.monotonic() + timeout
    while len(httpserver.log) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)  # and nothing more arrives just after
    return [r.get_json()["data"]["level"] for r, _ in httpserver.log]


def send(tenant, level, *, age=0.0, event_id=None):
    return ephemeral_deliver(tenant_id=tenant.pk, event_id=event_id or new_message_id(), type=TYPE,
                             data={"level": level}, created_at=timezone.now() - timedelta(seconds=age))


def test_sent_once_without_delivery_or_attempt_rows(tenant, httpserver):
    httpserver.expect_request("/live").respond_with_data("", status=500)
    endpoint_make(tenant, httpserver.url_for("/live"))
    assert send(tenant, 42) == 1
    assert received(httpserver, 1) == [42]
    time.sleep(0.3)
    assert len(httpserver.log) == 1  # a 500 is not retried
    assert Delivery.objects.count() == 0 and Attempt.objects.count() == 0
    assert httpserver.log[0][0].get_json()["data"] == {"level": 42}


def test_older_than_the_ttl_is_dropped(tenant, httpserver, settings):
    settings.WEBHOOKS_EPHEMERAL_TTL = 2.0
    httpserver.expect_request("/live").respond_with_data("ok")
    endpoint_make(tenant, httpserver.url_for("/live"))
    assert send(tenant, 1, age=2.5) == 0
    assert len(httpserver.log) == 0


def test_a_superseded_value_is_skipped(tenant, httpserver):
    httpserver.expect_request("/live").respond_with_data("ok")
    endpoint_make(tenant, httpserver.url_for("/live"))
    old, new = new_message_id(), new_message_id(now_ms=int(time.time() * 1000) + 5)
    ephemeral_mark_latest(tenant_id=tenant.pk, type=TYPE, event_id=new)
    assert send(tenant, 1, event_id=old) == 0
    assert send(tenant, 2, event_id=new) == 1
    assert received(httpserver, 1) == [2]


def test_a_slow_endpoint_gets_the_latest_value_not_a_backlog(tenant, httpserver):
    release = threading.Event()

    def slow(request):
        release.wait(2)
        return Response("ok")

    httpserver.expect_request("/live").respond_with_handler(slow)
    endpoint_make(tenant, httpserver.url_for("/live"))
    assert send(tenant, 0) == 1  # handed to the sender: the task returns while the send is in flight
    time.sleep(0.3)
    for level in (1, 2, 3):
        assert send(tenant, level) == 0  # parked, each replacing the one before
    release.set()
    assert received(httpserver, 2) == [0, 3]
