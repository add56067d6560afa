"""Retention: what is past its tenant's retention is purged in bounded batches; what may still be needed
(pending deliveries, events still owed a fan-out or a delivery, unprocessed messages) never is; and the
statistics `/stats` and the dashboard show survive the purge."""

import hashlib
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from analytics.selectors import delivery_health
from config.celery import app
from core.ids import new_message_id
from webhooks.inbound.models import InboundMessage
from webhooks.inbound.tests.factories import make_source
from webhooks.models import Attempt, Delivery, Event
from webhooks.retention.models import DeliveryRollup
from webhooks.retention.services import expired_pk_bound, expired_purge
from webhooks.selectors import endpoint_stats
from webhooks.tests.engine import endpoint_make

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=40)  # past the default 30 days
RECENT = NOW - timedelta(days=2)


def event_at(tenant, moment, *, fanned_out=True) -> Event:
    """An event as emit() makes it at `moment`: its id sorts by that time too."""
    return Event.objects.create(id=new_message_id(now_ms=int(moment.timestamp() * 1000)), tenant=tenant,
                                type="stream.live", data={}, created_at=moment,
                                fanned_out_at=moment if fanned_out else None)


def delivery_at(endpoint, moment, status="succeeded", durations=(120,), codes=None, event=None) -> Delivery:
    event = event or event_at(endpoint.tenant, moment)
    delivery = Delivery.objects.create(tenant=endpoint.tenant, event=event, endpoint=endpoint, status=status,
                                       attempt_count=len(durations))
    Delivery.objects.filter(pk=delivery.pk).update(created_at=moment)  # auto_now_add ignores the argument
    codes = codes or [200 if status == "succeeded" else 500] * len(durations)
    for number, (duration, code) in enumerate(zip(durations, codes, strict=True), start=1):
        Attempt.objects.create(delivery=delivery, number=number, started_at=moment + timedelta(seconds=number),
                               duration_ms=duration, url=endpoint.url, status_code=code, succeeded=code == 200)
    return delivery


def message_at(tenant, source, moment, status) -> InboundMessage:
    body = f"{moment}{status}".encode()
    return InboundMessage.objects.create(tenant=tenant, source=source, received_at=moment, handler="recordings",
                                         body=body, sha256=hashlib.sha256(body).hexdigest(), status=status)


def test_expired_rows_go_and_what_may_still_be_needed_stays(tenant):
    endpoint = endpoint_make(tenant, "http://127.0.0.1:9/hook")
    expired = [delivery_at(endpoint, OLD), delivery_at(endpoint, OLD, "failed", durations=(30, 40))]
    pending = delivery_at(endpoint, OLD, "pending", durations=(50,))
    recent = delivery_at(endpoint, RECENT)
    lonely_event = event_at(tenant, OLD)  # fanned out to no one
    not_fanned_out = event_at(tenant, OLD, fanned_out=False)
    source, _ = make_source(tenant)
    old_done = message_at(tenant, source, OLD, InboundMessage.Status.PROCESSED)
    old_failed = message_at(tenant, source, OLD, InboundMessage.Status.FAILED)
    old_waiting = message_at(tenant, source, OLD, InboundMessage.Status.RECEIVED)
    recent_done = message_at(tenant, source, RECENT, InboundMessage.Status.PROCESSED)

    count = expired_purge(now=NOW, batch_size=1)

    assert (count.deliveries, count.attempts, count.events, count.inbound_messages) == (2, 3, 3, 2)
    assert set(Delivery.objects.values_list("pk", flat=True)) == {pending.pk, recent.pk}
    assert set(Attempt.objects.values_list("delivery_id", flat=True)) == {pending.pk, recent.pk}
    assert set(Event.objects.filter(type="stream.live").values_list("pk", flat=True)) == {
        pending.event_id, recent.event_id, not_fanned_out.pk}
    assert not Event.objects.filter(pk__in=[lonely_event.pk, *(d.event_id for d in expired)]).exists()
    assert set(InboundMessage.objects.values_list("pk", flat=True)) == {old_waiting.pk, recent_done.pk}
    assert not InboundMessage.objects.filter(pk__in=[old_done.pk, old_failed.pk]).exists()


def test_a_tenant_override_keeps_its_rows_longer(tenant, other_tenant):
    tenant.retention_days = 60
    tenant.save(update_fields=["retention_days"])
    mine = delivery_at(endpoint_make(tenant, "http://127.0.0.1:9/a"), OLD)
    theirs = delivery_at(endpoint_make(other_tenant, "http://127.0.0.1:9/b"), OLD)
    expired_purge(now=NOW)
    assert list(Delivery.objects.values_list("pk", flat=True)) == [mine.pk]
    assert not Event.objects.filter(pk=theirs.event_id).exists()
    expired_purge(now=NOW + timedelta(days=21))
    assert not Delivery.objects.exists()


def test_the_retention_can_be_given_in_seconds(tenant, settings):
    settings.STREAMHOOK_RETENTION_SECONDS = 30
    endpoint = endpoint_make(tenant, "http://127.0.0.1:9/hook")
    old, young = delivery_at(endpoint, NOW - timedelta(seconds=31)), delivery_at(endpoint, NOW - timedelta(seconds=29))
    expired_purge(now=NOW)
    assert list(Delivery.objects.values_list("pk", flat=True)) == [young.pk]
    assert old.pk not in Delivery.objects.values_list("pk", flat=True)


def test_each_batch_deletes_at_most_the_batch_size(tenant):
    endpoint = endpoint_make(tenant, "http://127.0.0.1:9/hook")
    for _ in range(7):
        delivery_at(endpoint, OLD)
    seen = []
    expired_purge(now=NOW, batch_size=3, progress=lambda what, total: seen.append((what, total.deliveries,
                                                                                    total.events)))
    assert [n for what, n, _ in seen if what == "deliveries"] == [3, 6, 7]
    assert [n for what, _, n in seen if what == "events"] == [3, 6, 7]


def test_stats_and_dashboard_survive_the_purge(tenant):
    endpoint = endpoint_make(tenant, "http://127.0.0.1:9/hook")
    for day, durations in enumerate([(120, 80), (95,), (300, 40, 700), (15,), (999,)]):
        delivery_at(endpoint, OLD + timedelta(days=day), "succeeded", durations=durations,
                    codes=[500] * (len(durations) - 1) + [200])
    delivery_at(endpoint, OLD, "failed", durations=(10, 20), codes=[503, None])
    delivery_at(endpoint, RECENT, "succeeded", durations=(33,))
    delivery_at(endpoint, RECENT, "pending", durations=(5000,), codes=[500])
    window = {"since": OLD - timedelta(days=1), "until": NOW}
    stats_before = endpoint_stats(endpoint=endpoint)
    health_before = delivery_health(tenant=tenant, bucket="day", **window)

    assert expired_purge(now=NOW).deliveries == 6
    assert DeliveryRollup.objects.filter(endpoint=endpoint).count() == 5

    assert endpoint_stats(endpoint=endpoint) == stats_before
    assert delivery_health(tenant=tenant, bucket="day", **window) == health_before
    assert stats_before.total == 8 and stats_before.succeeded == 6 and stats_before.failed == 1


def test_latencies_above_a_second_survive_to_three_significant_digits(tenant):
    endpoint = endpoint_make(tenant, "http://127.0.0.1:9/hook")
    for duration in [1234, 5678, 14321, 250, 2000]:
        delivery_at(endpoint, OLD, durations=(duration,))
    before = endpoint_stats(endpoint=endpoint)
    expired_purge(now=NOW)
    after = endpoint_stats(endpoint=endpoint)
    assert (before.p95_latency_ms, after.p95_latency_ms) == (14321, 14300)
    assert after.avg_latency_ms == before.avg_latency_ms  # sums are exact


def test_purge_expired_command_reports_progress_and_a_summary(tenant, settings):
    settings.STREAMHOOK_RETENTION_SECONDS = 1
    endpoint = endpoint_make(tenant, "http://127.0.0.1:9/hook")
    for _ in range(3):
        delivery_at(endpoint, timezone.now() - timedelta(minutes=1))
    out = StringIO()
    call_command("purge_expired", "--batch-size", "2", stdout=out)
    lines = out.getvalue().splitlines()
    assert "  deliveries: 2 deliveries, 2 attempts, 0 events, 0 inbound messages" in lines
    assert lines[-1] == "Deleted 3 deliveries, 3 attempts, 3 events, 0 inbound messages."


def test_beat_runs_the_purge():
    app.loader.import_default_modules()  # what a worker does at start-up: autodiscovers every app's tasks
    entry = settings.CELERY_BEAT_SCHEDULE["webhooks-purge-expired"]
    assert entry["task"] in app.tasks and entry["schedule"] > 0


def test_the_expired_rows_are_found_below_a_primary_key_bound(tenant):
    endpoint = endpoint_make(tenant, "http://127.0.0.1:9/hook")
    rows = [delivery_at(endpoint, NOW - timedelta(days=days)) for days in (45, 40, 35, 31, 29, 10, 1)]
    cutoff = NOW - timedelta(days=30)
    assert expired_pk_bound(Delivery, "created_at", cutoff) == rows[4].pk
    assert expired_pk_bound(Delivery, "created_at", NOW - timedelta(days=50)) is None
    assert expired_pk_bound(Delivery, "created_at", NOW) == rows[-1].pk + 1


def test_the_beat_task_stops_before_its_time_limit(tenant, settings):
    from webhooks.retention.tasks import purge_expired

    settings.CELERY_TASK_SOFT_TIME_LIMIT = 0  # already past: not even one batch
    delivery_at(endpoint_make(tenant, "http://127.0.0.1:9/hook"), OLD)
    assert purge_expired() == {"deliveries": 0, "attempts": 0, "events": 0, "inbound_messages": 0}
    settings.CELERY_TASK_SOFT_TIME_LIMIT = 60
    assert purge_expired()["deliveries"] == 1
