from django.db import models
from django.db.models import Q

from accounts.models import Tenant
from core.crypto import EncryptedTextField, reveal
from core.ids import new_message_id
from webhooks import profiles


class Endpoint(models.Model):
    """A subscriber URL and how to sign for it (the `/api/v1/webhooks` resource)."""

    class Scheme(models.TextChoices):
        STANDARD = "standard", "Standard Webhooks"
        HMAC_SHA256_HEX = "hmac-sha256-hex", "HMAC-SHA256 hex in one header"

    class Style(models.TextChoices):
        STANDARD = "standard", '{"type", "timestamp", "data"}'
        EVENT = "event", '{"event", "timestamp", "data"}'
        # Receivers written for underscore names (the audio frontend switches on "audio_level").
        UNDERSCORE = "underscore", '{"type": "audio_level", "timestamp", "data"}: type names with _ for .'

    # No index of its own: one of the indexes below leads with it (config/tests/test_schema.py).
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="endpoints", db_index=False)
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=500, blank=True, default="")
    events = models.JSONField(default=list, blank=True, help_text="Event types; empty means every type.")
    is_active = models.BooleanField(default=True)
    signature_scheme = models.CharField(max_length=20, choices=Scheme.choices, default=Scheme.STANDARD)
    signature_header = models.CharField(max_length=100, default="X-Webhook-Signature")
    payload_style = models.CharField(max_length=10, choices=Style.choices, default=Style.STANDARD)
    retry_schedule = models.JSONField(null=True, blank=True, help_text="Seconds between tries; null = default.")
    rate_limit = models.FloatField(null=True, blank=True, help_text="Deliveries per second; null = unlimited.")
    max_in_flight = models.PositiveIntegerField(
        null=True, blank=True,
        help_text="Requests to this endpoint open at once, per worker process; null = WEBHOOKS_MAX_IN_FLIGHT.",
    )
    # A preset (webhooks/profiles.py): its template applies while `template` is null; its scheme, header,
    # style and schedule were written into the fields above when it was chosen.
    profile = models.CharField(max_length=30, null=True, blank=True, choices=profiles.CHOICES,
                               help_text="A receiver preset, e.g. realcast.")
    template = models.JSONField(null=True, blank=True,
                                help_text="Reshapes `data` per event type (webhooks/templates.py).")
    headers = models.JSONField(default=dict, blank=True, help_text="Custom request headers sent with every delivery.")

    # Fernet tokens (core/crypto.py): decrypted only by `signing_secrets()` and the owner's reveal/rotate.
    secret = EncryptedTextField()
    previous_secret = EncryptedTextField(blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)

    disabled_reason = models.CharField(max_length=200, blank=True, default="")
    disabled_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)

    # The circuit breaker (webhooks/circuit.py): open after a run of failures, probed, closed on a success.
    class Circuit(models.TextChoices):
        CLOSED = "closed", "Closed"
        OPEN = "open", "Open"
        HALF_OPEN = "half-open", "Half-open (probing)"

    circuit = models.CharField(max_length=10, choices=Circuit.choices, default=Circuit.CLOSED, editable=False)
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    circuit_opened_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When an open circuit is next probed, and how many probes have failed since it opened.
    circuit_probe_at = models.DateTimeField(null=True, blank=True, editable=False)
    circuit_probes = models.PositiveIntegerField(default=0, editable=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "is_active"], name="endpoint_tenant_active")]

    def __str__(self) -> str:
        return self.url

    def signing_secrets(self, now) -> list[str]:
        """The secrets a delivery made at `now` is signed with: the current one, and the previous one
        while its rotation overlap lasts (receivers may still hold it)."""
        secrets = [reveal(self.secret)]
        if self.previous_secret and self.previous_secret_expires_at and self.previous_secret_expires_at > now:
            secrets.append(reveal(self.previous_secret))
        return secrets


class EventType(models.Model):
    """An event type a tenant declares for its own application (`/api/v1/event-types`), beside the built-in ones."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="event_types", db_index=False)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True, default="")
    schema = models.JSONField(null=True, blank=True, help_text="JSON Schema of `data`; null accepts any object.")
    example = models.JSONField(default=dict, blank=True, help_text="An example `data`; test sends use it.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="uniq_event_type_tenant_name")]

    def __str__(self) -> str:
        return self.name


class Event(models.Model):
    """The outbox row: written in the emitter's transaction, fanned out after commit."""

    id = models.CharField(primary_key=True, max_length=40, default=new_message_id, editable=False)
    # Written on every ingest: `event_tenant_type_created` leads with the tenant, no index of its own.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="events", db_index=False)
    type = models.CharField(max_length=100)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    fanned_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["tenant", "type", "-created_at"], name="event_tenant_type_created"),
            # The sweep looks for committed events whose fan-out message was lost.
            models.Index(fields=["created_at"], condition=Q(fanned_out_at__isnull=True), name="event_not_fanned_out"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class Delivery(models.Model):
    """One event to one endpoint, across all its attempts."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    # No index of their own: the indexes below lead with them (config/tests/test_schema.py).
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    # attempt_count when the current run started (a redelivery restarts the retry schedule).
    retry_base = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A worker that claims the delivery leases it until this time; a crash lets the lease lapse.
    locked_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["event", "endpoint"], name="uniq_delivery_event_endpoint")]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=Q(status="pending"), name="delivery_due",
            ),
            models.Index(fields=["endpoint", "-created_at"], name="delivery_endpoint_created"),
            models.Index(fields=["endpoint", "status"], name="delivery_endpoint_status"),
            # The portal's delivery log: a tenant's newest first, read a page at a time.
            models.Index(fields=["tenant", "-created_at", "-id"], name="delivery_tenant_created"),
        ]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id} ({self.status})"


class Attempt(models.Model):
    """One HTTP try: what we sent (headers without secrets) and what came back."""

    # No index of its own: one of the indexes below leads with it (config/tests/test_schema.py).
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts", db_index=False)
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    url = models.URLField(max_length=2000)
    request_headers = models.JSONField(default=dict)
    # What was sent and the answer's headers, for the portal's attempt view; empty on attempts
    # recorded before the delivery engine filled them.
    request_body = models.TextField(blank=True, default="")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    response_body = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["delivery_id", "number"]
        indexes = [models.Index(fields=["delivery", "number"], name="attempt_delivery_number")]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}"
