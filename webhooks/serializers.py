"""Input validation and output shapes of the subscription API (field names: docs/webhooks.md, section 1)."""

import math
import re

from rest_framework import serializers

from accounts.roles import request_is_tenant_admin
from core.fields import StrictModelSerializer
from core.storable import validate_storable
from webhooks import profiles
from webhooks.catalogue import event_type_for, known_type_names
from webhooks.models import Attempt, Delivery, Endpoint, EventType
from webhooks.registry import UnknownEventType
from webhooks.signing import HIDDEN_VALUE
from webhooks.subscriptions import unknown_entries

MAX_RETRY_DELAY = 24 * 3600
MAX_RETRIES = 20
# An HTTP header field name (RFC 9110 token), short enough for any proxy.
HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}")  # used with fullmatch: no trailing newline
MIN_RATE_LIMIT = 0.001  # deliveries per second: one every 1000 s
# Headers the scheme itself writes or the HTTP stack owns: a custom signature header must not collide.
RESERVED_HEADERS = {
    "content-type", "content-length", "host", "user-agent", "connection", "transfer-encoding",
    "webhook-id", "webhook-timestamp", "webhook-signature", "x-webhook-id", "x-webhook-timestamp",
}


class NumberField(serializers.FloatField):
    """A JSON number: unlike FloatField it refuses `true` and `"5"`, which are mistakes, not numbers."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class EndpointSerializer(serializers.ModelSerializer):
    """The subscription resource (`/api/v1/webhooks`); validation only, writes go through services."""

    url = serializers.URLField(max_length=2000, help_text="http(s) URL; private and loopback hosts are refused.")
    events = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=200,
        help_text="Event types to receive (see `GET /api/v1/webhooks/events`), or prefix wildcards such as "
                  "`recording.*`; `[]` means every type.",
    )
    retry_schedule = serializers.ListField(
        child=NumberField(), required=False, allow_null=True, allow_empty=True, max_length=MAX_RETRIES,
        help_text="Seconds to wait before each retry (0 to 86400 each, at most 20), `[]` for no retries, "
                  "or null for the default schedule.",
    )
    rate_limit = NumberField(
        required=False, allow_null=True, help_text="Maximum deliveries per second, or null for no limit."
    )
    max_in_flight = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=1000,
        help_text="Requests open at once to this endpoint, per worker process; null for the deployment's "
                  "default (WEBHOOKS_MAX_IN_FLIGHT). A slow receiver never holds more than this.",
    )
    circuit = serializers.CharField(
        read_only=True, help_text="`closed` (delivering), `open` (failing: deliveries wait, probed at growing "
                                  "intervals) or `half-open` (a probe is out).",
    )
    profile = serializers.ChoiceField(
        choices=profiles.CHOICES, required=False, allow_null=True,
        help_text="A receiver preset: `realcast` or `audio-frontend`. It sets the signature scheme and header, the "
                  "envelope style and the retry schedule (unless the same request sets them) and, while `template` "
                  "is null, the template.",
    )
    template = serializers.JSONField(
        required=False, allow_null=True, validators=[validate_storable],
        help_text="Reshapes `data` per event type: `{\"stream.live\": {\"stream_id\": \"session_id\"}}`; values are "
                  "JMESPath expressions over our `data` (see docs/webhooks.md). null = the profile's, or none.",
    )
    headers = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False), required=False,
        help_text="Custom request headers, e.g. `{\"Authorization\": \"Bearer ...\"}`. Signature, webhook-*, "
                  "Host, Content-*, User-Agent and hop-by-hop headers are refused.",
    )

    class Meta:
        model = Endpoint
        fields = [
            "id", "url", "description", "events", "is_active", "signature_scheme", "signature_header",
            "payload_style", "retry_schedule", "rate_limit", "max_in_flight", "circuit", "profile", "template",
            "headers", "created_at", "updated_at", "disabled_reason", "disabled_at",
        ]
        read_only_fields = ["id", "circuit", "created_at", "updated_at", "disabled_reason", "disabled_at"]

    def to_representation(self, instance: Endpoint) -> dict:
        """Custom headers' values are the receiver's credentials: shown to owners and admins, who set
        them, and hidden from members, who see no secrets (docs/tenancy.md)."""
        data = super().to_representation(instance)
        request = self.context.get("request")
        # The role is looked up once per request (accounts.roles caches it there), not per endpoint.
        if request is not None and data.get("headers") and not request_is_tenant_admin(request):
            data["headers"] = dict.fromkeys(data["headers"], HIDDEN_VALUE)
        return data

    def validate_url(self, value: str) -> str:
        if not value.lower().startswith(("http://", "https://")):
            raise serializers.ValidationError("Only http and https URLs can receive webhooks.")
        return value

    def validate_events(self, value: list[str]) -> list[str]:
        tenant = self.context.get("tenant")
        unknown = unknown_entries(value, known=known_type_names(tenant=tenant) if tenant is not None else None)
        if unknown:
            raise serializers.ValidationError(
                f"Unknown event type(s): {', '.join(sorted(unknown))}. Use names from GET /api/v1/webhooks/events, "
                "or a prefix wildcard that matches some of them, like stream.*."
            )
        return list(dict.fromkeys(value))  # de-duplicated, order kept

    def validate_retry_schedule(self, value: list[float] | None) -> list[float] | None:
        if value is None:
            return None
        for delay in value:
            if not math.isfinite(delay) or delay < 0 or delay > MAX_RETRY_DELAY:
                raise serializers.ValidationError(
                    f"Each delay must be a number of seconds from 0 to {MAX_RETRY_DELAY} (24 h)."
                )
        return [int(d) if float(d).is_integer() else d for d in value]

    def validate_rate_limit(self, value: float | None) -> float | None:
        # Below MIN_RATE_LIMIT the wait between two deliveries outgrows any schedule (1e-300 is 1e300 s).
        if value is not None and (not math.isfinite(value) or value < MIN_RATE_LIMIT or value > 10_000):
            raise serializers.ValidationError(
                f"Must be a number of deliveries per second from {MIN_RATE_LIMIT} (one every 1000 s) to 10000, "
                "or null.")
        return value

    def validate_signature_header(self, value: str) -> str:
        if not HEADER_NAME.fullmatch(value):
            raise serializers.ValidationError("Must be a valid HTTP header name, e.g. X-RealCast-Signature.")
        if value.lower() in RESERVED_HEADERS:
            raise serializers.ValidationError(f"{value} is written by the delivery itself; choose another header.")
        return value


class EndpointCreatedSerializer(EndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="The signing secret (`whsec_...`).")

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]


class SecretSerializer(serializers.Serializer):
    secret = serializers.CharField(read_only=True, help_text="The current signing secret (`whsec_...`).")


class EventTypeSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    durable = serializers.BooleanField(help_text="Durable types are stored and retried; ephemeral ones are not.")
    declared = serializers.BooleanField(help_text="Declared by your tenant (`/api/v1/event-types`), not built in.")
    schema = serializers.JSONField(allow_null=True, help_text="The JSON Schema of `data` (declared types), or null.")
    example = serializers.JSONField(help_text="An example `data` payload; test sends use it.")
    delivered = serializers.JSONField(
        required=False,
        help_text="With `?endpoint=<id>`: the body that endpoint receives for the example, its template applied.",
    )


class ProfileSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    signature_scheme = serializers.CharField()
    signature_header = serializers.CharField()
    payload_style = serializers.CharField()
    retry_schedule = serializers.ListField(child=serializers.IntegerField(), allow_null=True)
    template = serializers.JSONField(help_text="Applied while the endpoint's own `template` is null.")


class CatalogueQuerySerializer(serializers.Serializer):
    endpoint = serializers.IntegerField(required=False, min_value=1,
                                        help_text="One of your endpoints: show what it receives for each example.")


class DeclaredEventTypeSerializer(StrictModelSerializer):
    """An event type your application declares (`/api/v1/event-types`)."""

    name = serializers.RegexField(
        regex=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$", max_length=100,
        help_text="A lower-case dot name, e.g. `match.found`; not a built-in name. Fixed once created.",
        error_messages={"invalid": "Use a lower-case dot name of at most 100 characters, like match.found or "
                                   "video.processed (letters, digits and _ in each part, at least one dot)."},
    )
    schema = serializers.DictField(required=False, allow_null=True, validators=[validate_storable],
                                   help_text="A JSON Schema (an object) that every emitted `data` must satisfy, "
                                             "or null.")
    example = serializers.DictField(validators=[validate_storable],
                                    help_text="An example `data` object; test sends use it.")

    class Meta:
        model = EventType
        fields = ["name", "description", "schema", "example", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class DeclaredEventTypeChangeSerializer(DeclaredEventTypeSerializer):
    """A declared type's description, schema and example; its name is fixed once created."""

    name = serializers.CharField(read_only=True)


class TestSendInputSerializer(serializers.Serializer):
    event_type = serializers.CharField(
        required=False, default="webhook.test", max_length=100,
        help_text="A built-in or declared event type; its example payload is sent.",
    )

    def validate_event_type(self, value: str) -> str:
        tenant = self.context.get("tenant")
        if tenant is None:
            return value  # the service checks it against the endpoint's tenant
        try:
            event_type_for(tenant=tenant, name=value)
        except UnknownEventType:
            raise serializers.ValidationError(f"Unknown event type {value!r}. See GET /api/v1/webhooks/events.")
        return value


class TestSentSerializer(serializers.Serializer):
    delivery_id = serializers.IntegerField()
    event_id = serializers.CharField(help_text="The message id (`msg_...`), sent as `webhook-id`.")


class RecoverInputSerializer(serializers.Serializer):
    since = serializers.DateTimeField(help_text="ISO 8601; failed deliveries created since then are sent again.")


class RecoveredSerializer(serializers.Serializer):
    redelivered = serializers.IntegerField()


class RedeliveredSerializer(serializers.Serializer):
    delivery_id = serializers.IntegerField()
    status = serializers.CharField()


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attempt
        fields = [
            "number", "started_at", "duration_ms", "url", "request_headers", "status_code",
            "response_body", "error", "succeeded",
        ]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.CharField(read_only=True)
    event_type = serializers.CharField(source="event.type", read_only=True)
    attempts = AttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id", "event_id", "event_type", "endpoint_id", "status", "attempt_count", "next_attempt_at",
            "last_status_code", "last_error", "created_at", "completed_at", "attempts",
        ]
        read_only_fields = fields


class EndpointStatsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    pending = serializers.IntegerField()
    success_rate = serializers.FloatField(
        allow_null=True, help_text="succeeded / (succeeded + failed), 0 to 1; null until a delivery completed."
    )
    avg_latency_ms = serializers.FloatField(allow_null=True, help_text="Mean duration of successful attempts.")
    p95_latency_ms = serializers.IntegerField(allow_null=True, help_text="95th percentile (nearest rank).")
    circuit = serializers.CharField(help_text="The endpoint's circuit breaker: `closed`, `open` or `half-open`.")
    consecutive_failures = serializers.IntegerField(help_text="Failed tries in a row since the last success.")
