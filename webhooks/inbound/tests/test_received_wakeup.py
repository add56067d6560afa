"""A burst of asynchronous messages wakes one processing task on Redis, and none is left behind."""

import pytest

from webhooks.inbound import tasks
from webhooks.inbound.models import InboundMessage
from webhooks.inbound.tests import urls as test_urls
from webhooks.inbound.tests.factories import make_source
from webhooks.shared_cache import on_redis
from webhooks.wake import wake_claim, wake_release

pytestmark = [pytest.mark.django_db, pytest.mark.urls("webhooks.inbound.tests.urls")]


@pytest.fixture(autouse=True)
def no_flag_standing():
    test_urls.CALLS.clear()
    wake_release(tasks.RECEIVED)  # a flag left by an earlier test whose task nobody consumed
    yield
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


@on_redis_only
def test_an_acknowledgement_after_the_task_started_wakes_another(client, tenant, monkeypatch):
    """Nothing is remembered in the process: once a task (here or in another process) clears the
    flag, the next acknowledgement asks Redis and sends a task of its own."""
    sent = []
    monkeypatch.setattr(tasks.process_received_messages, "delay", lambda: sent.append("wake"))
    _, key = make_source(tenant)
    _post(client, key, 1)
    _post(client, key, 2)  # the flag stands: its task will find both
    assert sent == ["wake"]
    wake_release(tasks.RECEIVED)  # the task starts
    _post(client, key, 3)
    assert sent == ["wake", "wake"]


@on_redis_only
def test_a_standing_flag_belongs_to_its_queued_task(monkeypatch):
    assert wake_claim(tasks.RECEIVED, seconds=2) is True
    assert wake_claim(tasks.RECEIVED, seconds=2) is False  # standing: the queued task owns it
    assert tasks.process_received_messages(second_look=True) == 0  # an older release's message still runs
    assert wake_claim(tasks.RECEIVED, seconds=2) is True  # and, like any start, released the flag
