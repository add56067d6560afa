"""Concurrent deliveries on PostgreSQL: the unique constraint, not luck, decides who processes a message.

Threads post through the real view, each on its own database connection, released together by a
barrier. SQLite serialises writers, so these only run on PostgreSQL (`DATABASE_URL`).
"""

import json
import threading

import pytest
from django.db import connection, connections
from django.test import Client

from core.tests.row_locks import row_locked
from recordings.models import Recording
from recordings.tests.factories import RECORDER_CURL_EXAMPLE, add_member
from webhooks.inbound.models import InboundMessage
from webhooks.inbound.tests import urls as test_urls
from webhooks.inbound.tests.factories import make_source
from webhooks.models import Event

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("webhooks.inbound.tests.urls"),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers (PostgreSQL)"),
]


def post_concurrently(n: int, url: str, body: bytes, **headers) -> list[int]:
    barrier = threading.Barrier(n)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def one():
        try:
            barrier.wait(timeout=30)
            response = Client().generic("POST", url, body, content_type="application/json", **headers)
            statuses.append(response.status_code)
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(statuses) == n
    return statuses


def test_two_identical_deliveries_at_once_are_processed_once(tenant):
    _, key = make_source(tenant, kind="recorder")
    test_urls.CALLS.clear()
    # The handler sleeps with its row inserted but uncommitted: the second INSERT waits on the
    # unique index, then fails and is recorded as the duplicate.
    statuses = post_concurrently(2, "/t/slow", b'{"sleep": 0.5}', HTTP_X_API_KEY=key, HTTP_WEBHOOK_ID="evt_race")
    assert sorted(statuses) == [201, 201]  # the duplicate answers the original's answer
    original = InboundMessage.objects.get(status="processed")
    assert original.duplicate_count == 1
    assert InboundMessage.objects.get(status="duplicate").duplicate_of == original
    assert [call["message"] for call in test_urls.CALLS] == [original.pk]


def test_a_burst_of_one_recorder_message_creates_one_recording_and_one_event(tenant):
    add_member(tenant, "souvik@fyelabs.com")
    _, key = make_source(tenant, kind="recorder")
    body = json.dumps(RECORDER_CURL_EXAMPLE).encode()
    statuses = post_concurrently(
        8, "/recordings/webhook/", body, HTTP_X_API_KEY=key, HTTP_X_WEBHOOK_ID="rec-999-upload-1"
    )
    assert statuses == [201] * 8
    assert Recording.objects.count() == 1
    assert InboundMessage.objects.filter(status="processed").count() == 1
    assert InboundMessage.objects.filter(status="duplicate").count() == 7
    assert InboundMessage.objects.get(status="processed").duplicate_count == 7
    assert list(Event.objects.filter(type__startswith="recording.").values_list("type", flat=True)) == [
        "recording.ready"]


def test_concurrent_first_posts_of_a_recording_id_create_it_once(tenant):
    # No message id: every post is processed, and the upsert makes exactly one of them the creator.
    add_member(tenant, "souvik@fyelabs.com")
    _, key = make_source(tenant, kind="recorder")
    body = json.dumps(RECORDER_CURL_EXAMPLE).encode()
    statuses = post_concurrently(8, "/recordings/webhook/", body, HTTP_X_API_KEY=key)
    assert sorted(statuses) == [200] * 7 + [201]
    assert Recording.objects.count() == 1
    types = sorted(Event.objects.filter(type__startswith="recording.").values_list("type", flat=True))
    assert types == ["recording.ready"] + ["recording.updated"] * 7


def test_a_message_locked_for_a_moment_by_a_retrys_bookkeeping_is_processed_not_left_to_the_sweep(
        client, tenant, monkeypatch):
    """A sender's retry of an acknowledged message updates the original's duplicate count, locking
    its row for a moment. A processing task that skipped it then (`skip_locked`, meant for rows
    another worker is running) left it `received` until the beat sweep, minutes later."""
    from webhooks.inbound import tasks
    from webhooks.inbound.services import messages_process_received

    monkeypatch.setattr(tasks.process_received_messages, "delay", lambda: None)  # no worker here
    test_urls.CALLS.clear()
    _, key = make_source(tenant)
    response = client.post("/t/async", {"n": 1}, content_type="application/json", HTTP_X_API_KEY=key,
                           HTTP_IDEMPOTENCY_KEY="k1")
    assert response.json()["status"] == "accepted"
    message = InboundMessage.objects.get()
    # The lock the duplicate count's UPDATE takes on the original, released while the batch runs.
    with row_locked(InboundMessage, message.pk, lock="FOR NO KEY UPDATE") as release:
        threading.Timer(0.3, release).start()
        assert messages_process_received(limit=10) == 1

    message.refresh_from_db()
    assert message.status == "processed"
    assert [call["payload"] for call in test_urls.CALLS] == [{"n": 1}]
