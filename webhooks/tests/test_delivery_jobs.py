"""`job.failed`: a task of ours that fails for good is reported to the tenant it concerned."""

import time

import pytest

from webhooks.models import Delivery, Event
from webhooks.tests.failing_tasks import always_fails, fails_after_retries


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

    monkeypatch.setattr(tasks, "events_fan_out", boom)
    assert tasks.fan_out_event.apply(args=(event.pk,)).failed()
    failed = Event.objects.get(type="job.failed")
    assert failed.tenant == tenant and failed.data["job_type"] == "webhooks.fan_out_event"


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_a_task_failing_for_good_in_a_real_worker_reaches_a_subscriber_as_job_failed(worker_factory, tenant):
    """The worker process runs the tasks, Celery's task_failure fires there, `job.failed` is emitted
    there and fanned out by the same worker to a real receiver. Retries are not reported, only the end."""
    from webhooks.tests.engine import endpoint_make
    from webhooks.tests.receivers import PythonReceiver

    with PythonReceiver(lambda request: (200, "ok")) as receiver:
        endpoint = endpoint_make(tenant, receiver.url, events=["job.failed"])
        worker = worker_factory(extra_args=["-I", "webhooks.tests.failing_tasks"])
        failed = always_fails.delay(tenant_id=tenant.pk)
        retried = fails_after_retries.delay(tenant_id=tenant.pk)
        deadline = time.monotonic() + 60
        while Delivery.objects.filter(endpoint=endpoint, status="succeeded").count() < 2:
            assert time.monotonic() < deadline, worker.output()
            time.sleep(0.2)
    events = {e.data["job_id"]: e.data for e in Event.objects.filter(type="job.failed", tenant=tenant)}
    assert set(events) == {failed.id, retried.id}
    assert events[failed.id]["error_message"] == "RuntimeError: disk full"
    assert events[retried.id]["attempt_count"] == 3  # one event after the last retry, none before
    bodies = [r["body"] for r in receiver.received]
    assert len(bodies) == 2 and all(b'"type":"job.failed"' in b for b in bodies)
