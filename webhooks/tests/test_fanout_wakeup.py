"""One fan-out task wakes for a burst of events on Redis, and no event is left behind for the sweep."""

import time

import pytest
from celery import current_app
from django.db import transaction

from webhooks import tasks
from webhooks.events import emit
from webhooks.fanout import fan_out_wake_claim, fan_out_wake_release
from webhooks.models import Delivery, Event
from webhooks.shared_cache import on_redis

pytestmark = pytest.mark.django_db


def test_a_burst_sends_one_fan_out_message_on_redis_and_one_per_event_elsewhere(
        tenant, monkeypatch, django_capture_on_commit_callbacks):
    sent: list = []
    monkeypatch.setattr(current_app, "send_task", lambda name, args, **options: sent.append(args[0]))
    with django_capture_on_commit_callbacks(execute=True):
        events = [emit("webhook.test", {"n": n}, tenant=tenant) for n in range(5)]
    if on_redis():
        assert sent == [events[0].pk]  # the rest are found by that task
        fan_out_wake_release()  # the task started: the next event needs a message of its own
        with django_capture_on_commit_callbacks(execute=True):
            later = emit("webhook.test", {"n": 5}, tenant=tenant)
        assert sent == [events[0].pk, later.pk]
    else:
        assert sent == [e.pk for e in events]


def test_the_task_clears_the_flag_before_it_looks(tenant, monkeypatch):
    """An event committed while the task runs must not find the flag of the task already running."""
    seen: list[bool] = []

    def fan_out_looking(**kwargs):
        seen.append(fan_out_wake_claim())  # what an emit() committing now would be told
        return []

    monkeypatch.setattr(tasks, "events_fan_out", fan_out_looking)
    fan_out_wake_claim()  # the flag of this task's own message
    tasks.fan_out_event.apply(args=("msg_x",))
    assert seen == [True]


def test_a_fan_out_task_still_fans_out_when_redis_is_down(tenant, monkeypatch, settings, caplog):
    """The flag can't be cleared without Redis; the task's work needs only the database, and a task that
    failed there would tell the tenant `job.failed` about work the engine does anyway."""
    from webhooks.tests.engine import endpoint_make

    endpoint_make(tenant, "https://example.com/hook")
    event = emit("webhook.test", {"n": 1}, tenant=tenant)
    handed: list = []
    monkeypatch.setattr(tasks, "deliveries_dispatch", lambda deliveries: handed.extend(deliveries))
    # A Redis cache nobody listens on (a closed port on this machine): every command is refused.
    settings.CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}}
    assert on_redis()
    result = tasks.fan_out_event.apply(args=(event.pk,))
    assert result.successful(), result.traceback
    assert [d.event_id for d in handed] == [event.pk]
    assert Delivery.objects.filter(event_id=event.pk).count() == 1
    assert "could not clear the fan-out wake-up flag" in caplog.text
    assert not Event.objects.filter(type="job.failed").exists()


def test_a_failed_emit_is_logged_and_leaves_the_callers_transaction_usable(tenant, caplog):
    with transaction.atomic():
        assert emit("webhook.test", {"text": "nul \x00 inside"}, tenant=tenant) is None
        assert emit("webhook.test", {"ratio": float("nan")}, tenant=tenant) is None
        assert not Event.objects.filter(tenant=tenant, type="webhook.test").exists()  # the transaction still answers
    assert "emit('webhook.test') failed" in caplog.text


@pytest.mark.integration
@pytest.mark.timeout(180)
def test_a_burst_larger_than_a_batch_is_delivered_without_the_sweep(worker_factory, tenant, settings):
    """60 events committed together with a batch of 40: no beat runs, so only the full-batch wake-up
    (one task's flag covering all 60) can carry the 20 events the first task leaves waiting."""
    from webhooks.tests.engine import endpoint_make
    from webhooks.tests.receivers import PythonReceiver

    settings.WEBHOOKS_BATCH_SIZE = 40  # fan-out takes 40 events a task
    with PythonReceiver(lambda request: (200, "ok")) as receiver:
        endpoint = endpoint_make(tenant, receiver.url)
        worker = worker_factory(concurrency=2, env={"WEBHOOKS_BATCH_SIZE": "40"})
        with transaction.atomic():
            for n in range(60):
                emit("webhook.test", {"n": n}, tenant=tenant)
        deadline = time.monotonic() + 90
        while Delivery.objects.filter(endpoint=endpoint, status="succeeded").count() < 60:
            assert time.monotonic() < deadline, worker.output()
            time.sleep(0.2)
    assert len({r["headers"]["webhook-id"] for r in receiver.received}) == 60
    assert not Event.objects.filter(tenant=tenant, fanned_out_at__isnull=True).exists()
