"""Tasks of ours that fail, for the `job.failed` tests. A real worker imports this module with
`-I webhooks.tests.failing_tasks`; the in-process tests import it directly."""

from celery import shared_task


@shared_task(name="webhooks.tests.always_fails")
def always_fails(*, tenant_id: int) -> None:
    raise RuntimeError("disk full")


@shared_task(name="webhooks.tests.fails_after_retries", bind=True, max_retries=2, default_retry_delay=0)
def fails_after_retries(self, *, tenant_id: int) -> None:
    raise self.retry(exc=ValueError("still broken"))
