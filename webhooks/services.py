"""Writes on subscriptions (endpoints): create, update, soft delete, enable/disable, secrets, test sends.

Views, the admin and commands call these; none of them touches an `Endpoint` row directly.
Delivery mechanics (fan-out, sending, retries) live in `fanout.py` and `delivery.py`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Tenant
from core.crypto import reveal
from webhooks import conf, signing
from webhooks.catalogue import event_type_for, known_type_names
from webhooks.circuit import circuit_reset
from webhooks.custom_headers import headers_problems
from webhooks.models import Delivery, Endpoint, Event
from webhooks.profiles import profile_preset
from webhooks.registry import UnknownEventType
from webhooks.templates import template_problems

# Fields an integrator may set; everything else (secrets, disabled_*, deleted_at) changes only through a service.
EDITABLE_FIELDS = (
    "url", "description", "events", "is_active", "signature_scheme", "signature_header",
    "payload_style", "retry_schedule", "rate_limit", "max_in_flight", "profile", "template", "headers",
)
TEST_EVENT_TYPE = "webhook.test"


def _validate_url(url: str) -> None:
    from webhooks.ssrf import UnsafeTargetURL, validate_target_url

    try:
        validate_target_url(url)
    except UnsafeTargetURL as exc:
        raise ValidationError({"url": [str(exc) or "This URL is not an allowed webhook target."]}) from None


def endpoint_url_check(*, url: str) -> None:
    """Raises ValidationError({"url": ...}) for a target endpoint_create() would refuse (forms check early)."""
    _validate_url(url)


def endpoint_create(*, tenant: Tenant, url: str, **fields) -> Endpoint:
    """A new subscription with a fresh `whsec_` secret. Raises ValidationError({"url": ...}) for unsafe targets."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"endpoint_create() got unexpected fields {sorted(unknown)}")
    _validate_url(url)
    fields = {**profile_preset(fields.get("profile")), **fields}  # what the caller sets beats the preset
    _validate_shape(tenant=tenant, template=fields.get("template"), headers=fields.get("headers", {}),
                    signature_header=fields.get("signature_header", "X-Webhook-Signature"))
    return Endpoint.objects.create(tenant=tenant, url=url, secret=signing.new_secret(), **fields)


def _validate_shape(*, tenant: Tenant, template, headers, signature_header: str) -> None:
    """Refuse a template or custom headers that can't be sent, naming the field (and the path inside it)."""
    errors = {}
    if template is not None and (problems := template_problems(template, known_types=known_type_names(tenant=tenant))):
        errors["template"] = problems
    if problems := headers_problems(headers, signature_header=signature_header):
        errors["headers"] = problems
    if errors:
        raise ValidationError(errors)


def endpoint_update(*, endpoint: Endpoint, **fields) -> Endpoint:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"endpoint_update() got unexpected fields {sorted(unknown)}")
    if "url" in fields and fields["url"] != endpoint.url:
        _validate_url(fields["url"])
    if fields.get("profile") and fields["profile"] != endpoint.profile:
        fields = {**profile_preset(fields["profile"]), **fields}
    if {"template", "headers", "signature_header"} & set(fields):
        # A template saved earlier is not re-checked: a declared type it names may have gone since.
        _validate_shape(tenant=endpoint.tenant, template=fields.get("template"),
                        headers=fields.get("headers", endpoint.headers),
                        signature_header=fields.get("signature_header", endpoint.signature_header))
    is_active = fields.pop("is_active", None)
    changed = [name for name, value in fields.items() if getattr(endpoint, name) != value]
    for name in changed:
        setattr(endpoint, name, fields[name])
    if changed:
        endpoint.save(update_fields=[*changed, "updated_at"])
    if is_active is True and not endpoint.is_active:
        endpoint_enable(endpoint=endpoint)
    elif is_active is False and endpoint.is_active:
        endpoint_disable(endpoint=endpoint, reason="Disabled by the subscriber.")
    return endpoint


def endpoint_delete(*, endpoint: Endpoint) -> None:
    """Soft delete: the row, its deliveries and attempts stay for the history; nothing is sent to it again."""
    now = timezone.now()
    endpoint.deleted_at = now
    endpoint.is_active = False
    endpoint.disabled_at = endpoint.disabled_at or now
    endpoint.disabled_reason = endpoint.disabled_reason or "Deleted."
    # is_active=False is what stops the engine: it re-checks the endpoint before every send.
    endpoint.save(update_fields=["deleted_at", "is_active", "disabled_at", "disabled_reason", "updated_at"])


def endpoint_enable(*, endpoint: Endpoint) -> Endpoint:
    if endpoint.deleted_at is not None:
        raise ValidationError("A deleted endpoint cannot be enabled.")
    endpoint.is_active = True
    endpoint.disabled_reason = ""
    endpoint.disabled_at = None
    # A fresh start: the auto-disable clock counts failures from now on, not from before the pause.
    endpoint.failing_since = None
    endpoint.save(update_fields=["is_active", "disabled_reason", "disabled_at", "failing_since", "updated_at"])
    circuit_reset(endpoint=endpoint)  # and the circuit breaker: the next delivery goes out
    endpoint.refresh_from_db()
    return endpoint


def endpoint_disable(*, endpoint: Endpoint, reason: str = "Disabled by an operator.") -> Endpoint:
    endpoint.is_active = False
    endpoint.disabled_reason = reason[:200]
    endpoint.disabled_at = timezone.now()
    endpoint.save(update_fields=["is_active", "disabled_reason", "disabled_at", "updated_at"])
    return endpoint


def endpoint_rotate_secret(*, endpoint: Endpoint, now: datetime | None = None) -> str:
    """A new current secret; the old one keeps signing beside it for WEBHOOKS_SECRET_ROTATION_OVERLAP seconds.

    Row-locked so two concurrent rotations can't both keep the same "previous" secret and lose one.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.previous_secret = locked.secret
        locked.previous_secret_expires_at = now + timedelta(seconds=conf.get("WEBHOOKS_SECRET_ROTATION_OVERLAP"))
        locked.secret = signing.new_secret()
        locked.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    for name in ("secret", "previous_secret", "previous_secret_expires_at", "updated_at"):
        setattr(endpoint, name, getattr(locked, name))
    return reveal(endpoint.secret)


@dataclass(frozen=True)
class TestSent:
    event: Event
    delivery: Delivery


def endpoint_send_test(*, endpoint: Endpoint, event_type: str = TEST_EVENT_TYPE) -> TestSent:
    """Send one event of `event_type` (its catalogue example as data) to this endpoint only.

    Unlike `emit()`, the event is not fanned out to the tenant's other subscribers: it is
    marked fanned out at birth (so the sweep leaves it alone), and the engine gets a single
    delivery for this endpoint, enqueued after commit. Raises ValidationError naming
    `event_type` for an unregistered type, `is_active` for a disabled endpoint.
    """
    from webhooks.fanout import event_deliver_to

    try:
        registered = event_type_for(tenant=endpoint.tenant_id, name=event_type)
    except UnknownEventType:
        raise ValidationError({"event_type": [f"Unknown event type {event_type!r}; see GET /api/v1/webhooks/events."]})
    if not endpoint.is_active:
        raise ValidationError({"is_active": ["The endpoint is disabled; enable it before sending a test."]})
    data = dict(registered.example)
    if event_type == TEST_EVENT_TYPE:
        data["endpoint_id"] = endpoint.pk
    now = timezone.now()
    with transaction.atomic():
        event = Event.objects.create(tenant=endpoint.tenant, type=event_type, data=data, created_at=now,
                                     fanned_out_at=now)
        delivery = event_deliver_to(event=event, endpoint=endpoint)
    return TestSent(event=event, delivery=delivery)


def delivery_redeliver(*, delivery: Delivery) -> Delivery:
    """Send an existing delivery's event again, under the same message id (receivers de-duplicate on it)."""
    from webhooks import delivery as engine

    if delivery.endpoint.deleted_at is not None:
        raise ValidationError("The endpoint of this delivery was deleted.")
    _require_active(delivery.endpoint, "redelivering")
    return engine.delivery_redeliver(delivery=delivery)


def _require_active(endpoint: Endpoint, doing: str) -> None:
    """A disabled endpoint's deliveries fail without a request, so sending to one is refused up front."""
    if not endpoint.is_active:
        raise ValidationError({"is_active": [f"The endpoint is disabled; enable it before {doing}."]})


def deliveries_redeliver(
    *, delivery_ids: list[int], should_stop: Callable[[], bool] = lambda: False,
    progress: Callable[[int, int], None] | None = None, batch: int = 100,
) -> int:
    """Redeliver each of `delivery_ids` (one short transaction each); returns how many were queued.

    Deliveries whose endpoint was deleted or disabled meanwhile are skipped. `progress(done, total)` is called
    after every batch; `should_stop()` lets a command stop cleanly between deliveries on SIGTERM.
    """
    done = 0
    for start in range(0, len(delivery_ids), batch):
        chunk = delivery_ids[start:start + batch]
        live = Delivery.objects.filter(pk__in=chunk, endpoint__deleted_at__isnull=True, endpoint__is_active=True)
        for delivery in live.select_related("endpoint").order_by("id"):
            if should_stop():
                return done
            delivery_redeliver(delivery=delivery)
            done += 1
        if progress:
            progress(min(start + batch, len(delivery_ids)), len(delivery_ids))
    return done


def endpoint_recover(*, endpoint: Endpoint, since: datetime) -> int:
    """Re-send every delivery of this endpoint that failed since `since`; returns how many."""
    from webhooks.delivery import deliveries_recover

    if endpoint.deleted_at is not None:
        raise ValidationError("A deleted endpoint cannot be recovered.")
    _require_active(endpoint, "recovering its deliveries")
    return deliveries_recover(endpoint=endpoint, since=since)
