"""`job.failed`: when a Celery task of ours fails for good, its tenant hears about it.

Celery sends `task_failure` only when a task raised and will not be retried (a retry sends
`task_retry` instead), so one signal handler covers every task. Which tenant a task concerned
is read from its arguments: a `tenant_id` keyword, or a resolver registered for the task's
name with `job_tenant(...)` (tasks take ids, so the resolver usually looks a row up).
"""

import logging
from collections.abc import Callable

from celery.signals import task_failure

from accounts.models import Tenant
from webhooks.events import emit

logger = logging.getLogger(__name__)

# Task-name prefixes that are ours; Celery's own tasks (`celery.*`) never emit job.failed.
OUR_PREFIXES = ("webhooks.", "streams.", "recordings.", "audio.", "analytics.", "accounts.", "streamhook.")

_resolvers: dict[str, Callable[[tuple, dict], int | None]] = {}


def job_tenant(task_name: str):
    """Register `func(args, kwargs) -> tenant id or None` for the task named `task_name`."""

    def register(func):
        _resolvers[task_name] = func
        return func

    return register


def tenant_id_for(task_name: str, args: tuple, kwargs: dict) -> int | None:
    resolver = _resolvers.get(task_name)
    if resolver is not None:
        return resolver(tuple(args or ()), dict(kwargs or {}))
    kwargs = kwargs or {}
    if kwargs.get("tenant_id") is not None:
        return int(kwargs["tenant_id"])
    return None


def job_failed_emit(*, task_name: str, task_id: str, args: tuple, kwargs: dict, exception: BaseException,
                    attempt_count: int) -> bool:
    """Emit `job.failed` for the task's tenant; False when no tenant could be found."""
    try:
        tenant_id = tenant_id_for(task_name, args, kwargs)
    except Exception:
        logger.exception("could not find the tenant of failed task %s %s", task_name, task_id)
        return False
    tenant = Tenant.objects.filter(pk=tenant_id).first() if tenant_id is not None else None
    if tenant is None:
        return False
    message = f"{type(exception).__name__}: {exception}"[:1000]
    emit("job.failed", {"job_id": task_id, "job_type": task_name, "error_message": message,
                        "attempt_count": attempt_count}, tenant=tenant)
    return True


@task_failure.connect(dispatch_uid="webhooks.jobs.task_failure")
def _on_task_failure(sender=None, task_id=None, exception=None, args=None, kwargs=None, **extra) -> None:
    name = getattr(sender, "name", "") or ""
    if not name.startswith(OUR_PREFIXES):
        return
    request = getattr(sender, "request", None)
    retries = getattr(request, "retries", 0) or 0
    try:
        job_failed_emit(task_name=name, task_id=task_id or "", args=args or (), kwargs=kwargs or {},
                        exception=exception, attempt_count=retries + 1)
    except Exception:  # reporting a failure must never fail the worker
        logger.exception("job.failed for %s %s could not be emitted", name, task_id)
