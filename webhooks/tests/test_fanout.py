"""Fan-out: one delivery per (event, endpoint), only to active subscribers of the type."""

import time

import pytest
from django.utils import timezone

from webhooks import http
from webhooks.fanout import endpoints_subscribed, event_deliver_to, events_fan_out
from webhooks.models import Delivery, Event
from webhooks.tasks import fan_out_event, sweep
from webhooks.tests.engine import endpoint_make, event_make

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_http():
    http.reset()


def test_subscribers_are_active_undeleted_endpoints_of_the_type_or_of_every_type(tenant, other_tenant):
    everything = endpoint_make(tenant, "http://127.0.0.1:9/a", events=[])
    live_only = endpoint_make(tenant, "http://127.0.0.1:9/b", events=["stream.live"])
    endpoint_make(tenant, "http://127.0.0.1:9/c", events=["webhook.test"])
    endpoint_make(tenant, "http://127.0.0.1:9/d", is_active=False)
    endpoint_make(tenant, "http://127.0.0.1:9/e", deleted_at=timezone.now())
    endpoint_make(other_tenant, "http://127.0.0.1:9/f")
    assert {e.pk for e in endpoints_subscribed(tenant_id=tenant.pk, event_type="stream.live")} == {
        everything.pk, live_only.pk}


def test_fan_out_is_idempotent(tenant):
    endpoint_make(tenant, "http://127.0.0.1:9/a")
    endpoint_make(tenant, "http://127.0.0.1:9/b")
    event = event_make(tenant)
    created = events_fan_out()
    assert len(created) == 2 and all(d.locked_until for d in created)  # born leased to the caller
    assert events_fan_out() == []
    Event.objects.filter(pk=event.pk).update(fanned_out_at=None)  # a late duplicate message
    assert events_fan_out() == []
    assert Delivery.objects.filter(event=event).count() == 2


def test_a_fan_out_task_for_a_missing_event_does_nothing(tenant):
    endpoint_make(tenant, "http://127.0.0.1:9/a")
    fan_out_event("msg_missing")
    assert not Delivery.objects.exists()


def test_deliver_to_one_endpoint_is_idempotent(tenant):
    endpoint = endpoint_make(tenant, "http://127.0.0.1:9/a")
    event = event_make(tenant)
    first = event_deliver_to(event=event, endpoint=endpoint)
    assert event_deliver_to(event=event, endpoint=endpoint).pk == first.pk
    assert first.status == "pending" and first.next_attempt_at is not None


@pytest.mark.django_db(transaction=True)  # the outcome is written by the recorder thread's own connection
def test_sweep_fans_out_events_whose_message_was_lost(tenant, httpserver, settings):
    settings.WEBHOOKS_SWEEP_GRACE = 0
    httpserver.expect_request("/hook").respond_with_data("ok")
    endpoint_make(tenant, httpserver.url_for("/hook"))
    event = event_make(tenant)  # no fan-out task ran
    sweep()
    event.refresh_from_db()
    assert event.fanned_out_at is not None
    deadline = time.monotonic() + 10
    while Delivery.objects.get(event=event).status != "succeeded":
        assert time.monotonic() < deadline, "the sweep's delivery was not recorded"
        time.sleep(0.05)


def test_an_endpoint_created_after_the_event_does_not_get_it(tenant):
    event_make(tenant)
    endpoint_make(tenant, "http://127.0.0.1:9/late")
    assert events_fan_out() == []


def test_sweep_gets_past_lost_events_that_have_no_subscribers(tenant, settings):
    settings.WEBHOOKS_SWEEP_GRACE = 0
    settings.WEBHOOKS_BATCH_SIZE = 4  # one event per fan-out batch
    for _ in range(3):
        event_make(tenant)
    sweep()
    assert not Event.objects.filter(fanned_out_at__isnull=True).exists()


def test_a_prefix_wildcard_subscribes_to_every_type_below_it(tenant):
    recordings = endpoint_make(tenant, "http://127.0.0.1:9/rec", events=["recording.*"])
    viewers = endpoint_make(tenant, "http://127.0.0.1:9/viewers", events=["viewer.*", "stream.live"])

    def subscribers(event_type):
        return {e.pk for e in endpoints_subscribed(tenant_id=tenant.pk, event_type=event_type)}

    assert subscribers("recording.ready") == subscribers("recording.updated") == {recordings.pk}
    assert subscribers("viewer.count.update") == subscribers("viewer.joined") == {viewers.pk}  # any depth
    assert subscribers("stream.live") == {viewers.pk}
    assert subscribers("stream.offline") == set()
    assert subscribers("recordings.other") == set()  # the dot is part of the prefix


def test_a_subscriber_of_recording_wildcard_receives_both_recording_events(tenant, httpserver):
    httpserver.expect_request("/rec").respond_with_data("ok")
    endpoint_make(tenant, httpserver.url_for("/rec"), events=["recording.*"])
    endpoint_make(tenant, httpserver.url_for("/streams"), events=["stream.*"])
    from webhooks.tests.engine import publish

    for type in ("recording.ready", "recording.updated", "stream.live"):
        publish(tenant, type, {"recording_id": "rec_1"})
    got = {(request.path, request.get_json()["type"]) for request, _ in httpserver.log}
    assert got == {("/rec", "recording.ready"), ("/rec", "recording.updated"), ("/streams", "stream.live")}
