"""Per-source throttling: 429 with Retry-After, and `api_limit.reached` once per window, to a real subscriber."""

import json
import types

import pytest

from webhooks.inbound import throttling
from webhooks.inbound.models import InboundMessage
from webhooks.inbound.tests.factories import make_source
from webhooks.models import Event

pytestmark = [pytest.mark.django_db, pytest.mark.urls("webhooks.inbound.tests.urls")]
WINDOW_START = 1_800_000_000  # a multiple of the 60 s window


@pytest.fixture
def clock(monkeypatch, settings):
    """The throttle's clock, frozen 15.5 s into a 60 s window; tests move it."""
    settings.WEBHOOKS_INBOUND_RATE_WINDOW = 60
    now = [WINDOW_START + 15.5]
    monkeypatch.setattr(throttling, "time", types.SimpleNamespace(time=lambda: now[0]))
    return now


def post(client, key):
    return client.generic("POST", "/t/sync", b"{}", content_type="application/json", HTTP_X_API_KEY=key)


def test_over_the_limit_is_429_with_retry_after_until_the_window_ends(client, tenant, clock):
    source, key = make_source(tenant, kind="recorder", rate_limit=2)
    answers = [post(client, key) for _ in range(5)]
    assert [r.status_code for r in answers] == [201, 201, 429, 429, 429]
    assert {r["Retry-After"] for r in answers[2:]} == {"45"}  # 60 - 15.5, rounded up
    assert answers[2].json() == {"status": "error", "message": "Too many requests from this source; slow down."}
    assert InboundMessage.objects.count() == 2  # refused requests store nothing
    events = Event.objects.filter(type="api_limit.reached")
    assert events.count() == 1  # once per window, however many requests are refused
    assert events.get().data == {"limit_type": "inbound_requests", "source_id": source.pk, "limit_value": 2,
                                 "window_seconds": 60, "reset_at": "2027-01-15T08:01:00.000Z"}
    clock[0] = WINDOW_START + 60  # the next window
    assert [post(client, key).status_code for _ in range(3)] == [201, 201, 429]
    assert Event.objects.filter(type="api_limit.reached").count() == 2


def test_each_source_has_its_own_budget(client, tenant, clock):
    _, first = make_source(tenant, kind="recorder", rate_limit=1, name="one")
    _, second = make_source(tenant, kind="recorder", rate_limit=1, name="two")
    assert [post(client, first).status_code, post(client, first).status_code] == [201, 429]
    assert post(client, second).status_code == 201


def test_the_default_limit_is_a_setting(client, tenant, clock, settings):
    settings.WEBHOOKS_INBOUND_RATE_LIMIT = 1
    _, key = make_source(tenant, kind="recorder")
    assert [post(client, key).status_code, post(client, key).status_code] == [201, 429]


def test_a_subscriber_receives_api_limit_reached_once_per_window(client, tenant, clock, httpserver,
                                                                 django_capture_on_commit_callbacks):
    from webhooks.delivery import deliveries_send_claimed
    from webhooks.fanout import events_fan_out
    from webhooks.services import endpoint_create

    httpserver.expect_request("/limits", method="POST").respond_with_data("ok")
    endpoint_create(tenant=tenant, url=httpserver.url_for("/limits"), events=["api_limit.reached"])
    source, key = make_source(tenant, kind="recorder", rate_limit=1)
    with django_capture_on_commit_callbacks(execute=False):  # no broker here: run fan-out and sends directly
        codes = [post(client, key).status_code for _ in range(4)]
    assert codes == [201, 429, 429, 429]
    deliveries_send_claimed(deliveries=events_fan_out())
    received = [json.loads(request.get_data()) for request, _ in httpserver.log]
    assert [r["type"] for r in received] == ["api_limit.reached"]
    assert received[0]["data"]["source_id"] == source.pk and received[0]["data"]["limit_value"] == 1


def test_a_busy_source_gets_exactly_its_limit_through(tenant):
    """Every request takes its own number from the shared counter: nothing is lost at the limit."""
    source, _ = make_source(tenant, kind="recorder", rate_limit=1000)
    now = WINDOW_START + 0.5
    answers = [throttling.throttle_check(source, now=now) for _ in range(1200)]
    assert answers.count(None) == 1000 and set(answers[1000:]) == {1}
    assert Event.objects.filter(type="api_limit.reached").count() == 1
