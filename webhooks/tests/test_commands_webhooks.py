"""`send_test_webhook` and `redeliver`: thin commands over services, with progress and a summary."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from webhooks import services
from webhooks.management.commands.redeliver import parse_since
from webhooks.models import Delivery, Event
from webhooks.tests.receivers import PythonReceiver

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/hook"


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def failed_delivery(endpoint, *, age=timedelta(0), status="failed"):
    now = timezone.now()
    event = Event.objects.create(tenant=endpoint.tenant, type="stream.live", data={}, created_at=now,
                                 fanned_out_at=now)
    delivery = Delivery.objects.create(tenant=endpoint.tenant, event=event, endpoint=endpoint, status=status,
                                       attempt_count=1)
    Delivery.objects.filter(pk=delivery.pk).update(created_at=now - age)
    return delivery


# --- send_test_webhook -----------------------------------------------------------------------


def test_send_test_webhook_prints_the_delivery_id(tenant):
    endpoint = services.endpoint_create(tenant=tenant, url=URL)
    out = run("send_test_webhook", str(endpoint.pk), "--type", "stream.live")
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert f"delivery {delivery.pk} queued: stream.live {delivery.event_id}" in out
    assert delivery.event.type == "stream.live"


def test_send_test_webhook_sync_prints_the_outcome_from_a_real_receiver(tenant):
    with PythonReceiver(lambda request: (200, "ok")) as receiver:
        endpoint = services.endpoint_create(tenant=tenant, url=receiver.url)
        out = run("send_test_webhook", str(endpoint.pk), "--sync")
    assert "succeeded: HTTP 200 after 1 attempt(s)" in out
    assert receiver.received[0]["headers"]["webhook-id"] == Delivery.objects.get().event_id


def test_send_test_webhook_sync_reports_a_failure(tenant):
    with PythonReceiver(lambda request: (503, "busy")) as receiver:
        endpoint = services.endpoint_create(tenant=tenant, url=receiver.url)
        out = run("send_test_webhook", str(endpoint.pk), "--sync")
    assert "pending: HTTP 503 after 1 attempt(s)" in out and "next attempt at" in out


def test_send_test_webhook_wait_without_a_worker_says_so(tenant):
    endpoint = services.endpoint_create(tenant=tenant, url=URL)
    out = run("send_test_webhook", str(endpoint.pk), "--wait", "--timeout", "0.3")
    assert "no attempt yet" in out


def test_send_test_webhook_refuses_unknown_endpoints_and_types(tenant):
    endpoint = services.endpoint_create(tenant=tenant, url=URL)
    with pytest.raises(CommandError, match="no endpoint 999"):
        run("send_test_webhook", "999")
    with pytest.raises(CommandError, match="Unknown event type"):
        run("send_test_webhook", str(endpoint.pk), "--type", "nope")
    services.endpoint_delete(endpoint=endpoint)
    with pytest.raises(CommandError, match="deleted"):
        run("send_test_webhook", str(endpoint.pk))


# --- redeliver --------------------------------------------------------------------------------


def test_parse_since_spans_and_iso_times():
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert parse_since("24h", now=now) == now - timedelta(hours=24)
    assert parse_since("7d", now=now) == now - timedelta(days=7)
    assert parse_since("30m", now=now) == now - timedelta(minutes=30)
    assert parse_since("2026-11-20T08:00:00Z") == datetime(2026, 11, 20, 8, tzinfo=UTC)
    assert parse_since("2026-11-20T08:00:00") == datetime(2026, 11, 20, 8, tzinfo=UTC)
    assert parse_since("2026-11-20T10:00:00+02:00") == datetime(2026, 11, 20, 8, tzinfo=UTC)
    for bad in ["yesterday", "24x", "", "2026-13-40T00:00:00", "99999999d"]:
        with pytest.raises(CommandError, match="--since"):
            parse_since(bad)


def test_redeliver_resends_failures_since_with_progress_and_a_summary(tenant):
    endpoint = services.endpoint_create(tenant=tenant, url=URL)
    recent = [failed_delivery(endpoint) for _ in range(3)]
    old = failed_delivery(endpoint, age=timedelta(days=3))
    ok = failed_delivery(endpoint, status="succeeded")
    out = run("redeliver", "--since", "24h")
    assert "re-sending 3 failed deliveries since" in out
    assert "  3/3" in out
    assert "redelivered 3 of 3 failed deliveries" in out
    assert {d.pk for d in Delivery.objects.filter(status="pending")} == {d.pk for d in recent}
    assert Delivery.objects.get(pk=old.pk).status == "failed" and Delivery.objects.get(pk=ok.pk).status == "succeeded"


def test_redeliver_filters_by_endpoint_and_status(tenant, other_tenant):
    mine = services.endpoint_create(tenant=tenant, url=URL)
    theirs = services.endpoint_create(tenant=other_tenant, url=URL)
    failed_delivery(mine)
    failed_delivery(theirs)
    done = failed_delivery(mine, status="succeeded")
    out = run("redeliver", "--since", "1d", "--endpoint", str(mine.pk))
    assert "redelivered 1 of 1 failed deliveries since" in out and f"of endpoint {mine.pk}" in out
    assert Delivery.objects.get(endpoint=theirs).status == "failed"
    run("redeliver", "--since", "1d", "--endpoint", str(mine.pk), "--status", "succeeded")
    assert Delivery.objects.get(pk=done.pk).status == "pending"


def test_redeliver_skips_deleted_endpoints_and_supports_dry_runs(tenant):
    endpoint = services.endpoint_create(tenant=tenant, url=URL)
    gone = services.endpoint_create(tenant=tenant, url=URL)
    failed_delivery(endpoint)
    failed_delivery(gone)
    services.endpoint_delete(endpoint=gone)
    assert "1 failed deliveries since" in run("redeliver", "--since", "24h", "--dry-run")
    assert not Delivery.objects.filter(status="pending").exists()
    assert "redelivered 1 of 1" in run("redeliver", "--since", "24h")
    assert "0 failed deliveries" in run("redeliver", "--since", "24h")


def test_redeliver_stops_cleanly_when_asked(tenant):
    endpoint = services.endpoint_create(tenant=tenant, url=URL)
    ids = [failed_delivery(endpoint).pk for _ in range(5)]
    calls = iter([False, False, True])
    assert services.deliveries_redeliver(delivery_ids=ids, should_stop=lambda: next(calls)) == 2


def test_redeliver_needs_since():
    with pytest.raises(CommandError):
        run("redeliver")


def test_redeliver_refuses_an_unknown_endpoint_instead_of_finding_nothing(tenant):
    with pytest.raises(CommandError, match="--endpoint 999: no such endpoint"):
        run("redeliver", "--since", "24h", "--endpoint", "999")
    with pytest.raises(CommandError, match="invalid int value"):
        run("redeliver", "--since", "24h", "--endpoint", "abc")


def test_send_test_webhook_refuses_bad_arguments_with_a_message(tenant):
    endpoint = services.endpoint_create(tenant=tenant, url=URL)
    with pytest.raises(CommandError, match="invalid int value"):
        run("send_test_webhook", "abc")
    with pytest.raises(CommandError, match="--timeout -5: must be 0 or more"):
        run("send_test_webhook", str(endpoint.pk), "--wait", "--timeout", "-5")
    assert not Delivery.objects.exists()


def test_redeliver_skips_disabled_endpoints(tenant):
    active = services.endpoint_create(tenant=tenant, url=URL)
    paused = services.endpoint_create(tenant=tenant, url=URL)
    failed_delivery(active)
    skipped = failed_delivery(paused)
    services.endpoint_disable(endpoint=paused)
    assert "redelivered 1 of 1 failed deliveries" in run("redeliver", "--since", "24h")
    assert Delivery.objects.get(pk=skipped.pk).status == "failed"
