"""The delivery engine against real loopback receivers (pytest-httpserver)."""

import time
from datetime import timedelta
from email.utils import format_datetime

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook
from werkzeug import Response

from core.eventtime import format_timestamp
from webhooks import http, signing
from webhooks.delivery import (
    claim_due,
    deliveries_recover,
    deliveries_send_due,
    delivery_redeliver,
    parse_retry_after,
    retry_delay,
)
from webhooks.models import Attempt, Delivery, Endpoint, Event
from webhooks.tests.engine import endpoint_make, private_cache, publish, retry_now

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_http():
    http.reset()
    yield
    http.reset()


def test_500_500_200_takes_three_attempts_then_succeeds_with_one_webhook_id(tenant, httpserver):
    for status in (500, 500, 200):
        httpserver.expect_ordered_request("/hook", method="POST").respond_with_data("ok", status=status)
    endpoint_make(tenant, httpserver.url_for("/hook"))

    [delivery] = publish(tenant)
    assert delivery.status == "pending" and delivery.attempt_count == 1
    assert 3.9 <= (delivery.next_attempt_at - timezone.now()).total_seconds() <= 6.1  # 5 s ± 20 %, from the record
    delivery = retry_now(delivery)
    assert delivery.status == "pending" and delivery.attempt_count == 2
    delivery = retry_now(delivery)

    assert delivery.status == "succeeded" and delivery.attempt_count == 3 and delivery.last_status_code == 200
    ids = {request.headers["webhook-id"] for request, _ in httpserver.log}
    assert ids == {delivery.event_id}
    assert [a.status_code for a in delivery.attempts.order_by("number")] == [500, 500, 200]
    assert [a.number for a in delivery.attempts.order_by("number")] == [1, 2, 3]


def test_400_fails_after_one_attempt(tenant, httpserver):
    httpserver.expect_request("/hook").respond_with_data("bad", status=400)
    endpoint = endpoint_make(tenant, httpserver.url_for("/hook"))
    [delivery] = publish(tenant)
    assert delivery.status == "failed" and delivery.attempt_count == 1 and delivery.next_attempt_at is None
    assert delivery.attempts.get().response_body == "bad"
    endpoint.refresh_from_db()
    assert endpoint.is_active


def test_410_disables_endpoint_and_emits_endpoint_disabled(tenant, httpserver):
    httpserver.expect_request("/gone").respond_with_data("", status=410)
    endpoint = endpoint_make(tenant, httpserver.url_for("/gone"))
    [delivery] = publish(tenant)
    assert delivery.status == "failed" and delivery.last_status_code == 410
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_reason == "HTTP 410 Gone" and endpoint.disabled_at
    disabled = Event.objects.get(type="endpoint.disabled")
    assert disabled.tenant == tenant and disabled.data["endpoint_id"] == endpoint.pk
    # The disabled endpoint does not receive the news of its own disabling.
    assert not Delivery.objects.filter(event=disabled).exists()


def test_timeout_is_retried(tenant, httpserver, settings):
    settings.WEBHOOKS_TIMEOUT = 0.3

    def slow(request):
        time.sleep(1)
        return Response("late")

    httpserver.expect_ordered_request("/slow").respond_with_handler(slow)
    httpserver.expect_ordered_request("/slow").respond_with_data("ok")
    endpoint_make(tenant, httpserver.url_for("/slow"))
    [delivery] = publish(tenant)
    assert delivery.status == "pending" and delivery.attempt_count == 1
    attempt = delivery.attempts.get()
    assert attempt.status_code is None and "timeout" in attempt.error.lower()
    time.sleep(0.8)  # the test server is single-threaded: let the slow handler finish
    assert retry_now(delivery).status == "succeeded"


def test_connection_error_is_retried(tenant):
    endpoint_make(tenant, "http://127.0.0.1:9/closed")  # discard port: nothing listens
    [delivery] = publish(tenant)
    error = delivery.attempts.get().error
    assert delivery.status == "pending" and error.startswith("connection failed:") and "refused" in error


@pytest.mark.parametrize("status", [408, 425, 429, 502, 503])
def test_retryable_statuses_are_retried(tenant, httpserver, status):
    httpserver.expect_request("/hook").respond_with_data("", status=status)
    endpoint_make(tenant, httpserver.url_for("/hook"))
    [delivery] = publish(tenant)
    assert delivery.status == "pending" and delivery.next_attempt_at is not None


def test_retry_after_seconds_is_honoured(tenant, httpserver):
    httpserver.expect_request("/hook").respond_with_data("", status=429, headers={"Retry-After": "120"})
    endpoint_make(tenant, httpserver.url_for("/hook"))
    before = timezone.now()
    [delivery] = publish(tenant)
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert 119 <= wait <= 122  # not the 5 s of the schedule


def test_retry_after_http_date_is_honoured_and_capped(tenant, httpserver, settings):
    settings.WEBHOOKS_RETRY_AFTER_CAP = 600
    later = timezone.now() + timedelta(hours=5)
    httpserver.expect_request("/hook").respond_with_data(
        "", status=503, headers={"Retry-After": format_datetime(later, usegmt=True)})
    endpoint_make(tenant, httpserver.url_for("/hook"))
    before = timezone.now()
    [delivery] = publish(tenant)
    assert 598 <= (delivery.next_attempt_at - before).total_seconds() <= 602


def test_parse_retry_after_forms():
    now = timezone.now()
    assert parse_retry_after("7", now=now) == 7
    in_30s = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(in_30s, now=now) == pytest.approx(30, abs=1)
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None, now=now) is None


def test_default_schedule_with_jitter_and_exhaustion(settings):
    schedule = [5, 300, 1800, 7200, 18000, 36000, 36000]
    for index, base in enumerate(schedule):
        for _ in range(50):
            assert 0.8 * base <= retry_delay(schedule=schedule, retry_index=index) <= 1.2 * base
    assert retry_delay(schedule=schedule, retry_index=len(schedule)) is None


def test_endpoint_retry_schedule_overrides_default_and_gives_up_at_its_end(tenant, httpserver):
    httpserver.expect_request("/hook").respond_with_data("", status=500)
    endpoint_make(tenant, httpserver.url_for("/hook"), retry_schedule=[1, 5])
    before = timezone.now()
    [delivery] = publish(tenant)
    assert 0.7 <= (delivery.next_attempt_at - before).total_seconds() <= 1.3
    delivery = retry_now(delivery)
    assert delivery.status == "pending"
    delivery = retry_now(delivery)
    assert delivery.status == "failed" and delivery.attempt_count == 3


def test_redirects_are_not_followed(tenant, httpserver):
    httpserver.expect_request("/moved").respond_with_data(
        "", status=302, headers={"Location": httpserver.url_for("/elsewhere")})
    httpserver.expect_request("/elsewhere").respond_with_data("ok")
    endpoint_make(tenant, httpserver.url_for("/moved"))
    [delivery] = publish(tenant)
    assert delivery.status == "failed" and delivery.last_status_code == 302
    assert [request.path for request, _ in httpserver.log] == ["/moved"]
    assert delivery.last_error == (f"HTTP 302: redirect to {httpserver.url_for('/elsewhere')} not followed; "
                                   "set the endpoint's URL to the final address")


def test_rotation_sends_both_signatures_until_the_old_secret_expires(tenant, httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    old, new = signing.new_secret(), signing.new_secret()
    endpoint = endpoint_make(tenant, httpserver.url_for("/hook"), secret=new, previous_secret=old,
                             previous_secret_expires_at=timezone.now() + timedelta(hours=24))
    publish(tenant)
    request = httpserver.log[-1][0]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):  # a receiver holding either secret accepts it, with the official library
        Webhook(secret).verify(request.get_data(), dict(request.headers))

    endpoint.previous_secret_expires_at = timezone.now() - timedelta(seconds=1)
    endpoint.save(update_fields=["previous_secret_expires_at"])
    publish(tenant)
    assert len(httpserver.log[-1][0].headers["webhook-signature"].split(" ")) == 1


def test_request_headers_body_and_attempt_log(tenant, httpserver):
    httpserver.expect_request("/hook").respond_with_data("x" * 10000, status=200)
    endpoint_make(tenant, httpserver.url_for("/hook"), payload_style="event", signature_scheme="hmac-sha256-hex",
                  signature_header="X-RealCast-Signature")
    [delivery] = publish(tenant, data={"stream_id": "s1"})
    request = httpserver.log[-1][0]
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "Streamhook-Webhooks/1.0"
    assert request.get_data().startswith(b'{"event":"webhook.test","timestamp":')
    assert request.headers["X-RealCast-Signature"].startswith("sha256=")
    attempt = Attempt.objects.get(delivery=delivery)
    assert attempt.succeeded and attempt.status_code == 200 and len(attempt.response_body) == 4096
    assert attempt.request_headers["X-RealCast-Signature"].endswith("…")  # no replayable signature in the log
    assert attempt.url == httpserver.url_for("/hook") and attempt.duration_ms >= 0


def test_redeliver_keeps_the_webhook_id_and_continues_attempt_numbers(tenant, httpserver):
    httpserver.expect_ordered_request("/hook").respond_with_data("", status=400)
    httpserver.expect_ordered_request("/hook").respond_with_data("ok")
    endpoint_make(tenant, httpserver.url_for("/hook"))
    [delivery] = publish(tenant)
    assert delivery.status == "failed"
    delivery = delivery_redeliver(delivery=delivery)
    assert delivery.status == "pending"
    delivery = retry_now(delivery)
    assert delivery.status == "succeeded"
    assert [a.number for a in delivery.attempts.order_by("number")] == [1, 2]
    assert len({r.headers["webhook-id"] for r, _ in httpserver.log}) == 1


def test_recover_resends_what_failed_since_then(tenant, httpserver):
    httpserver.expect_request("/hook").respond_with_data("", status=400)
    endpoint = endpoint_make(tenant, httpserver.url_for("/hook"))
    since = timezone.now()
    failed = [publish(tenant)[0] for _ in range(3)]
    assert all(d.status == "failed" for d in failed)
    Delivery.objects.filter(pk=failed[0].pk).update(created_at=since - timedelta(hours=1))
    assert deliveries_recover(endpoint=endpoint, since=since) == 2
    assert Delivery.objects.filter(status="pending").count() == 2


def test_auto_disable_after_every_delivery_failed_for_the_period(tenant, httpserver, settings):
    settings.WEBHOOKS_DISABLE_AFTER = 3600
    httpserver.expect_request("/hook").respond_with_data("", status=500)
    endpoint = endpoint_make(tenant, httpserver.url_for("/hook"))
    publish(tenant)
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.failing_since is not None
    # Time passes (set, not slept): the endpoint has been failing for longer than the period.
    Endpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(seconds=3601))
    publish(tenant)
    endpoint.refresh_from_db()
    assert not endpoint.is_active and "every delivery failed" in endpoint.disabled_reason
    assert Event.objects.filter(type="endpoint.disabled", data__endpoint_id=endpoint.pk).count() == 1


def test_a_success_clears_the_failing_period(tenant, httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    endpoint = endpoint_make(tenant, httpserver.url_for("/hook"), failing_since=timezone.now() - timedelta(days=9))
    publish(tenant)
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.failing_since is None


def test_pending_deliveries_of_a_disabled_endpoint_fail_without_sending(tenant, httpserver):
    httpserver.expect_request("/hook").respond_with_data("", status=500)
    endpoint = endpoint_make(tenant, httpserver.url_for("/hook"))
    [delivery] = publish(tenant)
    Endpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    delivery = retry_now(delivery)
    assert delivery.status == "failed" and delivery.last_error == "endpoint disabled"
    assert len(httpserver.log) == 1


def test_a_leased_delivery_is_not_claimed_until_its_lease_lapses(tenant, httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    endpoint = endpoint_make(tenant, httpserver.url_for("/hook"))
    event = Event.objects.create(tenant=tenant, type="webhook.test", data={}, created_at=timezone.now())
    now = timezone.now()
    # As a worker killed mid-send leaves it: pending, leased for a minute.
    delivery = Delivery.objects.create(tenant=tenant, event=event, endpoint=endpoint, next_attempt_at=now,
                                       locked_until=now + timedelta(seconds=60))
    assert claim_due(limit=10, now=now) == []
    report = deliveries_send_due(now=now + timedelta(seconds=61), grace=0)
    assert report.succeeded == 1
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.locked_until is None


def test_rate_limit_defers_sends_over_the_endpoints_rate(tenant, httpserver, settings):
    private_cache(settings)
    httpserver.expect_request("/hook").respond_with_data("ok")
    endpoint = endpoint_make(tenant, httpserver.url_for("/hook"), rate_limit=2)
    event_ids = [Event.objects.create(tenant=tenant, type="webhook.test", data={}, created_at=timezone.now()).pk
                 for _ in range(5)]
    now = timezone.now()
    for event_id in event_ids:
        Delivery.objects.create(tenant=tenant, event_id=event_id, endpoint=endpoint, next_attempt_at=now)
    report = deliveries_send_due(grace=0, budget=0.5)
    assert report.succeeded <= 2 * 2  # two per one-second window (the run may span a boundary)
    assert report.deferred >= 1
    deferred = Delivery.objects.filter(status="pending")
    assert all(d.next_attempt_at > now and d.attempt_count == 0 for d in deferred)


def test_a_response_body_with_nul_bytes_is_logged_and_does_not_fail_the_batch(tenant, httpserver):
    """PostgreSQL text can't hold NUL; an unsanitised body would roll back the batch's bookkeeping."""
    httpserver.expect_request("/nul").respond_with_data(b"bad\x00body", status=200)
    httpserver.expect_request("/fine").respond_with_data("ok")
    endpoint_make(tenant, httpserver.url_for("/nul"))
    endpoint_make(tenant, httpserver.url_for("/fine"))
    deliveries = publish(tenant)
    assert [d.status for d in deliveries] == ["succeeded", "succeeded"]
    bodies = set(Attempt.objects.values_list("response_body", flat=True))
    assert bodies == {"bad\ufffdbody", "ok"}
    assert not Delivery.objects.filter(locked_until__isnull=False).exists()


def test_an_empty_retry_schedule_means_no_retries(tenant, httpserver):
    httpserver.expect_request("/hook").respond_with_data("", status=503)
    endpoint_make(tenant, httpserver.url_for("/hook"), retry_schedule=[])
    [delivery] = publish(tenant)
    assert delivery.status == "failed" and delivery.attempt_count == 1 and delivery.next_attempt_at is None


def test_no_secret_signature_or_url_credential_reaches_the_logs(tenant, httpserver, caplog):
    import logging

    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="webhooks")
    httpserver.expect_ordered_request("/hook").respond_with_data("", status=500)
    httpserver.expect_ordered_request("/hook").respond_with_data("", status=410)
    old, new = signing.new_secret(), signing.new_secret()
    endpoint = endpoint_make(tenant, httpserver.url_for("/hook") + "?token=tok-3f9a77", secret=new,
                             previous_secret=old, previous_secret_expires_at=timezone.now() + timedelta(hours=1))
    [delivery] = publish(tenant)
    retry_now(delivery)
    endpoint.refresh_from_db()
    assert not endpoint.is_active  # the 410 path, which logs, was taken
    # Ours, not the receiving test server's (werkzeug logs its request lines).
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug"))
    assert "disabled" in logged
    signatures = [s for request, _ in httpserver.log for s in request.headers["webhook-signature"].split(" ")]
    for secret_text in [old, new, old.removeprefix("whsec_"), new.removeprefix("whsec_"), "tok-3f9a77", *signatures]:
        assert secret_text not in logged


def test_webhook_timestamp_is_the_attempts_time_and_the_signature_covers_it(tenant, httpserver):
    """Standard Webhooks: the timestamp is when we send, not when the event happened, so a retry or a
    redelivery of an old event still passes a receiver's 5-minute tolerance."""
    httpserver.expect_request("/hook").respond_with_data("ok")
    endpoint = endpoint_make(tenant, httpserver.url_for("/hook"))
    event = Event.objects.create(tenant=tenant, type="webhook.test", data={"n": 1},
                                 created_at=timezone.now() - timedelta(hours=3))
    Delivery.objects.create(tenant=tenant, event=event, endpoint=endpoint, next_attempt_at=timezone.now())
    before = int(time.time())
    deliveries_send_due(grace=0)
    request = httpserver.log[-1][0]
    sent_at = int(request.headers["webhook-timestamp"])
    assert before <= sent_at <= int(time.time())
    assert request.get_json()["timestamp"] == format_timestamp(event.created_at)  # the event's own time
    Webhook(endpoint.secret).verify(request.get_data(), dict(request.headers))  # checks tolerance and signature


def test_endpoint_disable_emits_endpoint_disabled_once(tenant):
    from webhooks.delivery import endpoint_disable

    endpoint = endpoint_make(tenant, "http://127.0.0.1:9/hook")
    assert endpoint_disable(endpoint=endpoint, reason="HTTP 410 Gone") is True
    stale = Endpoint.objects.get(pk=endpoint.pk)
    stale.is_active = True  # another batch still holds the endpoint as it was loaded before
    assert endpoint_disable(endpoint=stale, reason="every delivery failed") is False
    assert Event.objects.filter(type="endpoint.disabled").count() == 1
    assert Endpoint.objects.get(pk=endpoint.pk).disabled_reason == "HTTP 410 Gone"


def test_redelivering_a_delivery_in_flight_keeps_the_senders_lease(tenant):
    from webhooks.delivery import claim_ids

    endpoint = endpoint_make(tenant, "http://127.0.0.1:9/hook")
    event = Event.objects.create(tenant=tenant, type="webhook.test", data={}, created_at=timezone.now())
    lease = timezone.now() + timedelta(seconds=60)
    delivery = Delivery.objects.create(tenant=tenant, event=event, endpoint=endpoint, next_attempt_at=timezone.now(),
                                       locked_until=lease, attempt_count=1)
    delivery = delivery_redeliver(delivery=delivery)
    assert delivery.status == "pending" and delivery.locked_until == lease
    assert claim_ids(delivery_ids=[delivery.pk], now=timezone.now()) == []  # no second, concurrent send
    Delivery.objects.filter(pk=delivery.pk).update(locked_until=timezone.now() - timedelta(seconds=1), status="failed")
    assert delivery_redeliver(delivery=delivery).locked_until is None  # a lapsed lease is cleared
