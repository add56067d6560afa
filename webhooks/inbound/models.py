"""A sender's credentials (`InboundSource`) and every message it posted (`InboundMessage`)."""

from django.db import models
from django.db.models import Q

from accounts.models import Tenant
from core.crypto import EncryptedListField, EncryptedTextField


class InboundSource(models.Model):
    """Who may post inbound webhooks for a tenant, and how their requests are verified.

    The API key is stored as a SHA-256 only (shown once). Signing secrets can't be hashed (an HMAC
    is checked with the secret itself), so they are encrypted at rest (core/crypto.py) and decrypted
    only to verify a request or to answer their owner. Several secrets are honoured at once so a sender
    can rotate: the first is current, the rest are still accepted until removed.

    The source URL (`/s/<url_secret>/`) is a credential in the path, for senders that can't send a
    header: requests find the source by `url_secret_hash`; `url_secret` itself is kept so owners can
    be shown the URL again (unlike the key, it is pasted into tools, not into code).
    """

    class Kind(models.TextChoices):
        STREAM_ASSISTANT = "stream-assistant", "DJ stream assistant"
        RECORDER = "recorder", "Recorder"
        REALCAST = "realcast", "RealCast"
        AUDIO_FRONTEND = "audio-frontend", "Audio frontend"
        ANALYTICS = "analytics", "Analytics reader (read-only)"

    class Scheme(models.TextChoices):
        HMAC_SHA256_HEX = "hmac-sha256-hex", "sha256=<hex HMAC-SHA256(secret, body)> in one header"
        STANDARD = "standard", "Standard Webhooks (webhook-id/-timestamp/-signature)"

    # No index of its own: one of the indexes below leads with it (config/tests/test_schema.py).
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="inbound_sources", db_index=False)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    key_prefix = models.CharField(max_length=16, editable=False, help_text="First characters of the key.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    url_secret = EncryptedTextField(editable=False, help_text="The source URL's secret part (encrypted at rest).")
    url_secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    signing_secrets = EncryptedListField(
        default=list, blank=True, help_text="Accepted signing secrets, current first. Empty: no signature required."
    )
    signature_scheme = models.CharField(max_length=20, choices=Scheme.choices, default=Scheme.HMAC_SHA256_HEX)
    signature_header = models.CharField(max_length=100, default="X-Webhook-Signature")
    timestamp_tolerance = models.PositiveIntegerField(
        default=300, help_text="Seconds a signed timestamp may be off, either way (Standard Webhooks scheme)."
    )
    rate_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="Requests per window; empty = the WEBHOOKS_INBOUND_RATE_LIMIT setting."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Deleting a source through the API keeps it (inactive, out of the lists) with its message history.
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "kind"], name="inbound_source_tenant_kind")]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class InboundMessage(models.Model):
    """One request a source made, kept as the raw bytes it sent (replay re-runs the handler on them)."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"
        DUPLICATE = "duplicate", "Duplicate"

    # Every request writes a row: no index of their own for `tenant` and `source`, whose lookups the
    # composite indexes below serve (each leads with one of them).
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="inbound_messages", db_index=False)
    # RESTRICT: a source can't be deleted from under its history (deleting its tenant still removes both).
    source = models.ForeignKey(InboundSource, on_delete=models.RESTRICT, related_name="messages", db_index=False)
    message_id = models.CharField(max_length=200, blank=True, default="", help_text="The sender's id, if it sent one.")
    received_at = models.DateTimeField()
    handler = models.CharField(max_length=100)
    headers = models.JSONField(default=dict, help_text="Request headers without credentials or signatures.")
    body = models.BinaryField(help_text="The raw body, exactly as received.")
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True, default="")
    traceback = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    # A duplicate delivery gets a body-less row pointing at the original, which counts it.
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                     db_index=False)  # indexed where set only (inbound_msg_duplicate_of)
    duplicate_count = models.PositiveIntegerField(default=0)
    last_duplicate_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            # De-duplication lives in the database: two concurrent deliveries of one id can't both insert.
            models.UniqueConstraint(
                fields=["source", "message_id"],
                condition=~Q(message_id="") & ~Q(status="duplicate"),
                name="uniq_inbound_source_message_id",
            ),
        ]
        indexes = [
            models.Index(fields=["source", "status", "received_at"], name="inbound_msg_source_status"),
            models.Index(fields=["tenant", "-received_at"], name="inbound_msg_tenant_received"),
            # The sweep finds async messages whose task was lost.
            models.Index(fields=["received_at"], condition=Q(status="received"), name="inbound_msg_pending"),
            # Deleting an original finds its duplicates; most rows are no one's duplicate.
            models.Index(fields=["duplicate_of"], condition=Q(duplicate_of__isnull=False),
                         name="inbound_msg_duplicate_of"),
        ]

    def __str__(self) -> str:
        return f"{self.handler} #{self.pk} ({self.status})"
