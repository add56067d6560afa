"""Builders shared by the delivery engine's tests (test data in code, no fixtures files)."""

import uuid

from django.utils import timezone

from webhooks import signing
from webhooks.delivery import deliveries_send, deliveries_send_claimed
from webhooks.fanout import events_fan_out
from webhooks.models import Delivery, Endpoint, Event


def endpoint_make(tenant, url, **fields) -> Endpoint:
    return Endpoint.objects.create(tenant=tenant, url=url, secret=fields.pop("secret", signing.new_secret()), **fields)


def event_make(tenant, type="webhook.test", data=None) -> Event:
    return Event.objects.create(tenant=tenant, type=type, data=data or {"n": 1}, created_at=timezone.now())


def publish(tenant, type="webhook.test", data=None) -> list[Delivery]:
    """What `fan_out_event` does in a worker, in-process: fan out, then send what it created."""
    event = event_make(tenant, type, data)
    deliveries_send_claimed(deliveries=events_fan_out())
    return list(Delivery.objects.filter(event=event).order_by("id"))


def retry_now(delivery: Delivery) -> Delivery:
    """Make the scheduled retry due now (instead of sleeping), send it, return the fresh row."""
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    deliveries_send(delivery_ids=[delivery.pk])
    delivery.refresh_from_db()
    return delivery


def private_cache(settings) -> None:
    """A cache of this test's own: clearing it can't touch the shared Redis other runs use."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": uuid.uuid4().hex}}


def about_another_endpoint(event_type) -> dict:
    """The type's example, its `endpoint_id` pointing nowhere: news of an endpoint's own health is not
    delivered to that endpoint, and a test's endpoint may well have the example's id."""
    from webhooks.delivery import QUIET_TYPES

    if event_type.name in QUIET_TYPES and "endpoint_id" in event_type.example:
        return {**event_type.example, "endpoint_id": 0}
    return event_type.example
