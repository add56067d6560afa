"""RealCast end to end with a real Celery worker process: acknowledged by the view, processed by the task."""

import json
import time
from collections import Counter

import pytest

from streams.models import ChatMessage, StreamError, StreamSession
from streams.tests.test_ingest import RC_EVENTS, SECRET, sign
from webhooks.inbound.models import InboundMessage
from webhooks.inbound.services import source_create
from webhooks.models import Event


def wait_for(condition, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the worker")


@pytest.mark.integration
def test_realcast_events_are_processed_by_a_celery_worker(celery_worker, client, tenant):
    source, _ = source_create(tenant=tenant, name="RealCast", kind="realcast", signing_secret=SECRET)
    # Out of order, and the chat message delivered twice under one webhook id.
    sends = [(f"wh_{n}", event) for n, event in enumerate(reversed(RC_EVENTS))]
    sends.append(sends[2])
    assert sends[2][1]["event"] == "chat.message.new"
    for n, (webhook_id, event) in enumerate(sends):
        body = json.dumps(event).encode()
        response = client.generic(
            "POST", f"/webhooks/realcast/{source.pk}", body, content_type="application/json",
            HTTP_X_REALCAST_SIGNATURE=sign(body), HTTP_X_REALCAST_WEBHOOK_ID=webhook_id,
        )
        # Acknowledged without processing (how fast is bench/ingest.py's realcast-ack to measure). The
        # repeated id gets "duplicate", or the first one's answer if the worker has processed it by then.
        repeated = webhook_id in [sent_id for sent_id, _ in sends[:n]]
        assert response.status_code == 200
        assert response.json()["status"] in (("duplicate", "processed") if repeated else ("accepted",))

    wait_for(lambda: not InboundMessage.objects.filter(status="received").exists())
    assert set(InboundMessage.objects.exclude(status="duplicate").values_list("status", flat=True)) == {"processed"}
    session = StreamSession.objects.get(tenant=tenant, session_id="stream_abc123")
    assert (session.status, session.duration_seconds, session.peak_viewers) == ("offline", 3600, 1234)
    assert (session.title, session.dj_username, session.platform) == ("Epic Gaming Session", "user_123", "realcast")
    assert session.current_viewers == 128  # the newest reading, though it was processed before the older one
    assert ChatMessage.objects.count() == 1 and StreamError.objects.count() == 1
    types = Counter(Event.objects.filter(tenant=tenant).exclude(type="user.created").values_list("type", flat=True))
    # No stream.live: the start was processed after the stream had ended.
    assert types == Counter({"stream.offline": 1, "stream.error": 1, "viewer.joined": 1,
                             "viewer.count.update": 1, "chat.message.new": 1})
