from django.urls import reverse
from rest_framework import serializers

from accounts.roles import request_is_tenant_admin
from core.crypto import reveal
from core.fields import StrictBooleanField, StrictCharField, StrictModelSerializer
from webhooks.inbound.models import InboundMessage, InboundSource
from webhooks.inbound.source_url import source_url
from webhooks.inbound.verification import REALCAST_NEEDS_SECRET, signature_header_problem, signing_secret_problem


class InboundSourceSerializer(StrictModelSerializer):
    """`/api/v1/inbound-sources`. `signing_secret` is write-only: setting one rotates (the previous
    secret stays accepted until `drop_previous_secrets`); null removes signing."""

    signing_secret = StrictCharField(
        write_only=True, required=False, allow_null=True, min_length=8, max_length=200, trim_whitespace=False,
        help_text="The sender's signing secret, or null for none.",
    )
    signing_secret_count = serializers.SerializerMethodField()
    webhook_url = serializers.SerializerMethodField(help_text="Where a RealCast source posts (its dashboard URL).")
    drop_previous_secrets = StrictBooleanField(write_only=True, required=False, default=False)
    url = serializers.SerializerMethodField(help_text=(
        "The source URL: the sender's own paths work under it with no key (`{url}/recordings/webhook/`). "
        "A credential: shown to the tenant's owners and admins only (null for members); rotate it with "
        "`rotate-url`."))

    class Meta:
        model = InboundSource
        fields = [
            "id", "name", "kind", "signing_secret", "signing_secret_count", "signature_scheme", "signature_header",
            "timestamp_tolerance", "rate_limit", "is_active", "key_prefix", "webhook_url", "url", "created_at",
            "updated_at", "drop_previous_secrets",
        ]
        read_only_fields = ["id", "key_prefix", "created_at", "updated_at"]
        extra_kwargs = {
            "signature_header": {"required": False},
            "timestamp_tolerance": {"required": False, "max_value": 86400},
            "rate_limit": {"min_value": 1},
        }

    def get_signing_secret_count(self, source: InboundSource) -> int:
        return len(source.signing_secrets)

    def get_url(self, source: InboundSource) -> str | None:
        request = self.context.get("request")
        # The role is looked up once per request (accounts.roles caches it there), not per source.
        if request is None or not request_is_tenant_admin(request):
            return None
        return source_url(source, request)

    def get_webhook_url(self, source: InboundSource) -> str | None:
        if source.kind != InboundSource.Kind.REALCAST:
            return None
        try:
            path = reverse("streams-realcast", kwargs={"source_id": source.pk})
        except Exception:  # the streams app wires that URL; until it does there is none to show
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def validate_signature_header(self, value: str) -> str:
        problem = signature_header_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def validate(self, attrs):
        if self.instance is not None and "kind" in attrs and attrs["kind"] != self.instance.kind:
            raise serializers.ValidationError({"kind": ["A source's kind can't change; create another source."]})
        scheme = attrs.get("signature_scheme") or getattr(self.instance, "signature_scheme", None) \
            or InboundSource.Scheme.HMAC_SHA256_HEX
        if attrs.get("signing_secret"):
            secret = attrs["signing_secret"]
        elif "signing_secret" not in attrs and self.instance is not None and self.instance.signing_secrets:
            secret = reveal(self.instance.signing_secrets[0])  # a scheme change must still fit the current secret
        else:
            secret = None
        problem = secret and signing_secret_problem(scheme, secret)
        if problem:
            raise serializers.ValidationError({"signing_secret": [problem]})
        kind = attrs.get("kind") or getattr(self.instance, "kind", None)
        removing = "signing_secret" in attrs and attrs["signing_secret"] is None
        if kind == InboundSource.Kind.REALCAST and (removing or (self.instance is None and not secret)):
            # Its endpoint checks the signature alone: without a secret the source could never post.
            raise serializers.ValidationError({"signing_secret": [REALCAST_NEEDS_SECRET]})
        return attrs


class InboundSourceCreatedSerializer(InboundSourceSerializer):
    api_key = serializers.CharField(read_only=True, help_text="The source's key. Shown only in this response.")

    class Meta(InboundSourceSerializer.Meta):
        fields = [*InboundSourceSerializer.Meta.fields, "api_key"]


class InboundMessageSerializer(serializers.ModelSerializer):
    """What a sender's tenant sees of a message: enough to find failures and replay them."""

    class Meta:
        model = InboundMessage
        fields = [
            "id", "source", "message_id", "received_at", "handler", "status", "error", "attempts",
            "processed_at", "response_status", "duplicate_of", "duplicate_count", "last_duplicate_at", "sha256",
        ]
        read_only_fields = fields


class InboundMessageDetailSerializer(InboundMessageSerializer):
    """Adds the stored headers (credentials never stored), the answer given, and the raw body as text.

    The traceback stays in the admin: it describes our code, not the sender's request.
    """

    body = serializers.SerializerMethodField(help_text="The raw body decoded as UTF-8 (invalid bytes replaced).")
    body_size = serializers.SerializerMethodField()

    class Meta(InboundMessageSerializer.Meta):
        fields = [*InboundMessageSerializer.Meta.fields, "headers", "response_body", "body_size", "body"]
        read_only_fields = fields

    def get_body(self, message: InboundMessage) -> str:
        return bytes(message.body or b"").decode("utf-8", errors="replace")

    def get_body_size(self, message: InboundMessage) -> int:
        return len(message.body or b"")
