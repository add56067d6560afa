"""One fan-out task wakes for a burst of events on Redis, and no event is left behind for the sweep."""

import time

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction

from webhooks import tasks, wake
from webhooks.events import emit
from webhooks.fanout import FAN_OUT, FAN_OUT_TRUST_SECONDS, fan_out_wake_claim, fan_out_wake_release
from webhooks.models import Delivery, Event

pytestmark = pytest.mark.django_db


def _on_redis() -> bool:
    return isinstance(caches["default"], RedisCache)


def test_a_burst_sends_one_fan_out_message_on_redis_and_one_per_event_elsewhere(
        tenant, monkeypatch, django_capture_on_commit_callbacks):
    sent: list = []
    monkeypatch.setattr(tasks.fan_out_event, "delay", sent.append)
    with django_capture_on_commit_callbacks(execute=True):
        events = [emit("webhook.test", {"n": n}, tenant=tenant) for n in range(5)]
    if _on_redis():
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

    monkeypatch.setattr(tasks, "event_fan_out", fan_out_looking)
    fan_out_wake_claim()  # the flag of this task's own message
    tasks.fan_out_event.apply(args=("msg_x",))
    assert seen == [True]


on_redis_only = pytest.mark.skipif(not _on_redis(), reason="the flag lives on Redis; elsewhere a task per event")


def _flag_cleared_elsewhere() -> None:
    """What a fan-out task in another process does as it starts (this process's memory untouched)."""
    backend, key = wake._flag(FAN_OUT)
    backend.delete(key)


@on_redis_only
def test_an_emitter_that_saw_the_flag_recently_asks_nothing_then_asks_again(
        tenant, monkeypatch, django_capture_on_commit_callbacks):
    sent: list = []
    monkeypatch.setattr(tasks.fan_out_event, "delay", sent.append)
    with django_capture_on_commit_callbacks(execute=True):
        first = emit("webhook.test", {"n": 1}, tenant=tenant)
    _flag_cleared_elsewhere()
    with django_capture_on_commit_callbacks(execute=True):
        emit("webhook.test", {"n": 2}, tenant=tenant)  # trusted: left to the task's second look
    assert sent == [first.pk]
    time.sleep(FAN_OUT_TRUST_SECONDS + 0.02)
    with django_capture_on_commit_callbacks(execute=True):
        third = emit("webhook.test", {"n": 3}, tenant=tenant)
    assert sent == [first.pk, third.pk]  # the window is over: it asked, and the flag was gone


@on_redis_only
def test_a_full_batch_wake_up_never_trusts_a_remembered_flag(tenant, monkeypatch):
    from webhooks.events import _enqueue_fan_out

    sent: list = []
    monkeypatch.setattr(tasks.fan_out_event, "delay", sent.append)
    fan_out_wake_claim()  # seen standing just now
    _flag_cleared_elsewhere()
    _enqueue_fan_out(None, trust_recent=False)
    assert sent == [None]


def test_a_woken_task_schedules_its_second_look_past_the_trust_window(tenant, monkeypatch):
    scheduled: list = []
    monkeypatch.setattr(tasks.fan_out_event, "apply_async", lambda **kw: scheduled.append(kw))
    monkeypatch.setattr(tasks, "event_fan_out", lambda **kwargs: [])
    tasks.fan_out_event.apply(args=("msg_x",))
    tasks.fan_out_event.apply(args=(None,), kwargs={"second_look": True})  # schedules nothing more
    if _on_redis():
        assert len(scheduled) == 1 and scheduled[0]["kwargs"] == {"second_look": True}
        assert FAN_OUT_TRUST_SECONDS <= scheduled[0]["countdown"] <= FAN_OUT_TRUST_SECONDS + 0.05
    else:
        assert scheduled == []  # off Redis nobody trusts the flag: no second look


@on_redis_only
def test_the_second_look_fans_out_what_a_trusting_emitter_left_and_keeps_the_flag(
        tenant, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(tasks.fan_out_event, "delay", lambda *a: None)
    with django_capture_on_commit_callbacks(execute=True):
        emit("webhook.test", {"n": 1}, tenant=tenant)  # claims the flag (its task "queued")
    tasks.fan_out_event.apply(args=(None,), kwargs={"second_look": True})
    assert not Event.objects.filter(tenant=tenant, type="webhook.test", fanned_out_at__isnull=True).exists()
    assert fan_out_wake_claim() is False  # still standing: the queued task owns it


def test_a_failed_emit_is_logged_and_leaves_the_callers_transaction_usable(tenant, caplog):
    with transaction.atomic():
        assert emit("webhook.test", {"text": "nul \x00 inside"}, tenant=tenant) is None
        assert emit("webhook.test", {"ratio": float("nan")}, tenant=tenant) is None
        assert not Event.objects.filter(tenant=tenant, type="webhook.test").exists()  # the transaction still answers
    assert "emit('webhook.test') failed" in caplog.text


@pytest.mark.integration
@pytest.mark.timeout(180)
def test_a_burst_larger_than_a_batch_is_delivered_without_the_sweep(worker_factory, tenant, settings):
    """60 events committed together with a batch of 10: no beat runs, so only the full-batch wake-ups
    (one task's flag covering all 60) can carry the 50 events the first task leaves waiting."""
    from webhooks.tests.engine import endpoint_make
    from webhooks.tests.receivers import PythonReceiver

    settings.WEBHOOKS_BATCH_SIZE = 40  # fan-out takes a quarter: 10 events a task
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
