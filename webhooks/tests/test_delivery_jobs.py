"""`job.failed`: a task of ours that fails for good is reported to the tenant it concerned."""

import pytest
from celery import shared_task

from webhooks.models import Event


@shared_task(name="webhooks.tests.always_fails")
def always_fails(*, tenant_id: int) -> None:
    raise RuntimeError("disk full")


@shared_task(name="webhooks.tests.fails_after_retries", bind=True, max_retries=2, default_retry_delay=0)
def fails_after_retries(self, *, tenant_id: int) -> None:
    raise self.retry(exc=ValueError("still broken"))


@pytest.mark.django_db
def test_a_failing_task_emits_job_failed_for_its_tenant(tenant):
    result = always_fails.apply(kwargs={"tenant_id": tenant.pk})
    assert result.failed()
    event = Event.objects.get(type="job.failed")
    assert event.tenant == tenant
    assert event.data["job_type"] == "webhooks.tests.always_fails"
    assert event.data["error_message"] == "RuntimeError: disk full"
    assert event.data["job_id"] == result.id and event.data["attempt_count"] == 1


@pytest.mark.django_db
def test_retries_are_not_failures_only_the_last_one_is(tenant):
    result = fails_after_retries.apply(kwargs={"tenant_id": tenant.pk})
    assert result.failed()
    [event] = Event.objects.filter(type="job.failed")
    assert event.data["attempt_count"] == 3 and event.data["error_message"] == "ValueError: still broken"


@pytest.mark.django_db
def test_a_failed_delivery_task_finds_its_tenant_from_the_event(tenant, monkeypatch):
    from webhooks import tasks

    event = Event.objects.create(tenant=tenant, type="webhook.test", data={}, created_at="2026-01-01T00:00:00Z")

    def boom(**kwargs):
        raise ConnectionError("database went away")

    monkeypatch.setattr(tasks, "event_fan_out", boom)
    assert tasks.fan_out_event.apply(args=(event.pk,)).failed()
    failed = Event.objects.get(type="job.failed")
    assert failed.tenant == tenant and failed.data["job_type"] == "webhooks.fan_out_event"
