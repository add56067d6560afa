"""Celery entry points of the webhooks app: thin, they take ids and call services."""

from celery import shared_task


@shared_task(name="webhooks.fan_out_event")
def fan_out_event(event_id: str) -> None:
    raise NotImplementedError  # implemented with the delivery engine (issue 3)


@shared_task(name="webhooks.deliver_ephemeral")
def deliver_ephemeral(tenant_id: int, event_id: str, type: str, data: dict, created_at: str) -> None:
    raise NotImplementedError  # implemented with the delivery engine (issue 3)
