"""A burst of asynchronous messages wakes one processing task on Redis, and none is left behind."""

import time

import pytest

from webhooks.inbound import tasks
from webhooks.inbound.models import InboundMessage
from webhooks.inbound.tests import urls as test_urls
from webhooks.inbound.tests.factories import make_source
from webhooks.shared_cache import on_redis
from webhooks.wake import _flag, wake_claim, wake_release

pytestmark = [pytest.mark.django_db, pytest.mark.urls("webhooks.inbound.tests.urls")]


@pytest.fixture(autouse=True)
def second_looks(monkeypatch):
    """The second looks the woken tasks schedule (kept here, not published to a broker nobody reads)."""
    scheduled: list[dict] = []
    monkeypatch.setattr(tasks.process_received_messages, "apply_async", lambda **kw: scheduled.append(kw))
    test_urls.CALLS.clear()
    wake_release(tasks.RECEIVED)  # a flag left by an earlier test whose task nobody consumed
    yield scheduled
    wake_release(tasks.RECEIVED)


on_redis_only = pytest.mark.skipif(not on_redis(),
                                   reason="the flag lives on Redis; elsewhere a task per message")


def _post(client, key, n):
    response = client.post("/t/async", {"n": n}, content_type="application/json", HTTP_X_API_KEY=key,
                           HTTP_IDEMPOTENCY_KEY=f"k{n}")
    assert response.status_code == 200 and response.json()["status"] == "accepted"


def test_a_burst_sends_one_task_on_redis_and_one_per_message_elsewhere(client, tenant, monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.process_received_messages, "delay", lambda: sent.append("wake"))
    _, key = make_source(tenant)
    for n in range(5):
        _post(client, key, n)
    assert len(sent) == (1 if on_redis() else 5)

    assert tasks.process_received_messages() == 5  # the woken task takes all five
    assert set(InboundMessage.objects.values_list("status", flat=True)) == {"processed"}
    assert sorted(call["payload"]["n"] for call in test_urls.CALLS) == [0, 1, 2, 3, 4]

    _post(client, key, 5)  # after the task started: a wake-up of its own
    assert len(sent) == (2 if on_redis() else 6)


def test_a_full_batch_wakes_another_task_for_the_rest(client, tenant, monkeypatch, settings):
    settings.WEBHOOKS_INBOUND_BATCH_SIZE = 2
    sent = []
    monkeypatch.setattr(tasks.process_received_messages, "delay", lambda: sent.append("wake"))
    _, key = make_source(tenant)
    for n in range(3):
        _post(client, key, n)
    sent.clear()
    assert tasks.process_received_messages() == 2
    assert sent == ["wake"]  # one more for the third message
    assert InboundMessage.objects.filter(status="received").count() == 1
    assert tasks.process_received_messages() == 1
    assert sent == ["wake"]  # a batch that wasn't full wakes nobody
    assert not InboundMessage.objects.filter(status="received").exists()


def test_a_broker_that_is_down_leaves_the_message_for_the_sweep(client, tenant, monkeypatch):
    def down():
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.process_received_messages, "delay", down)
    _, key = make_source(tenant)
    _post(client, key, 1)  # still acknowledged
    assert InboundMessage.objects.get().status == "received"  # what sweep_received_messages picks up


def _flag_cleared_elsewhere() -> None:
    """What a processing task in another process does as it starts (this process's memory untouched)."""
    backend, key = _flag(tasks.RECEIVED)
    backend.delete(key)


@on_redis_only
def test_an_acknowledgement_that_saw_the_flag_recently_asks_nothing_then_asks_again(client, tenant, monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.process_received_messages, "delay", lambda: sent.append("wake"))
    _, key = make_source(tenant)
    _post(client, key, 1)
    _flag_cleared_elsewhere()
    _post(client, key, 2)  # trusted: left to the task's second look
    assert sent == ["wake"]
    time.sleep(tasks.RECEIVED_TRUST_SECONDS + 0.02)
    _post(client, key, 3)  # the window is over: it asked, and the flag was gone
    assert sent == ["wake", "wake"]


def test_a_woken_task_schedules_its_second_look_past_the_trust_window(second_looks):
    tasks.process_received_messages()
    tasks.process_received_messages(second_look=True)  # schedules nothing more
    if on_redis():
        assert len(second_looks) == 1 and second_looks[0]["kwargs"] == {"second_look": True}
        assert tasks.RECEIVED_TRUST_SECONDS <= second_looks[0]["countdown"] <= tasks.RECEIVED_TRUST_SECONDS + 0.05
    else:
        assert second_looks == []  # off Redis nobody trusts the flag: no second look


@on_redis_only
def test_the_second_look_processes_what_a_trusting_acknowledgement_left_and_keeps_the_flag(
        client, tenant, monkeypatch):
    monkeypatch.setattr(tasks.process_received_messages, "delay", lambda: None)
    _, key = make_source(tenant)
    _post(client, key, 1)  # claims the flag (its task "queued")
    assert tasks.process_received_messages(second_look=True) == 1
    assert InboundMessage.objects.get().status == "processed"
    assert wake_claim(tasks.RECEIVED, seconds=2) is False  # still standing: the queued task owns it


@on_redis_only
def test_a_full_batch_wake_up_never_trusts_a_remembered_flag(monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.process_received_messages, "delay", lambda: sent.append("wake"))
    wake_claim(tasks.RECEIVED, seconds=2)  # seen standing just now
    _flag_cleared_elsewhere()
    tasks.received_wake()
    assert sent == ["wake"]
