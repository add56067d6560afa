from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from core.adminlists import WideChangeListMixin, short_time
from core.crypto import reveal
from webhooks.inbound.models import InboundMessage, InboundSource
from webhooks.inbound.services import (
    messages_replay,
    source_create,
    source_delete,
    source_rotate_key,
    source_rotate_url,
)
from webhooks.inbound.source_url import source_url
from webhooks.inbound.verification import REALCAST_NEEDS_SECRET, signature_header_problem, signing_secret_problem

_STATUS_COLOURS = {"received": "#777", "processed": "#2e7d32", "failed": "#c62828", "duplicate": "#999"}


class InboundSourceForm(forms.ModelForm):
    new_signing_secret = forms.CharField(
        required=False, strip=False,
        help_text="Becomes the current secret; the previous one stays accepted (rotation).",
    )

    class Meta:
        model = InboundSource
        fields = ["tenant", "name", "kind", "signature_scheme", "signature_header", "timestamp_tolerance",
                  "rate_limit", "is_active"]

    def clean_signature_header(self) -> str:
        value = self.cleaned_data["signature_header"]
        problem = signature_header_problem(value)
        if problem:
            raise forms.ValidationError(problem)
        return value

    def clean(self):
        cleaned = super().clean()
        scheme = cleaned.get("signature_scheme")
        current = self.instance.signing_secrets[:1]
        secret = cleaned.get("new_signing_secret") or None
        if secret is None and current and "signature_scheme" in self.changed_data:
            secret = reveal(current[0])  # a scheme change must still fit the current secret
        problem = scheme and secret and signing_secret_problem(scheme, secret)
        if problem:
            self.add_error("new_signing_secret", problem)
        elif cleaned.get("kind") == InboundSource.Kind.REALCAST and not (secret or current):
            self.add_error("new_signing_secret", REALCAST_NEEDS_SECRET)
        return cleaned


@admin.register(InboundSource)
class InboundSourceAdmin(WideChangeListMixin, admin.ModelAdmin):
    form = InboundSourceForm
    list_display = ["name", "kind", "tenant", "key_prefix", "secrets", "rate_limit", "is_active", "deleted_at",
                    "created_at"]
    list_filter = ["kind", "is_active", ("deleted_at", admin.EmptyFieldListFilter), "tenant"]
    list_select_related = ["tenant"]
    search_fields = ["name", "key_prefix", "tenant__slug"]
    raw_id_fields = ["tenant"]
    readonly_fields = ["key_prefix", "secrets", "source_url", "created_at", "updated_at"]
    actions = ["rotate_key", "rotate_url", "drop_previous_secrets"]

    def delete_model(self, request, obj):
        source_delete(source=obj)  # as the API's DELETE: retired, its messages kept

    def delete_queryset(self, request, queryset):
        for source in queryset.filter(deleted_at__isnull=True):
            source_delete(source=source)

    def get_deleted_objects(self, objs, request):
        """Only the sources are retired; their messages stay, as with the API."""
        objs = list(objs)
        return [f"Inbound source: {obj}" for obj in objs], {"inbound sources": len(objs)}, set(), []

    def get_fields(self, request, obj=None):
        return [*InboundSourceForm.Meta.fields, "new_signing_secret", "secrets", "key_prefix", "source_url",
                "created_at", "updated_at"]

    @admin.display(description="Source URL")
    def source_url(self, source: InboundSource) -> str:
        if not source.pk:
            return "(made when the source is saved)"
        # Absolute when STREAMHOOK_PUBLIC_URL is set; else the path, to put after this site's address.
        return source_url(source)

    @admin.display(description="Signing secrets")
    def secrets(self, source: InboundSource) -> str:
        return f"{len(source.signing_secrets)} accepted" if source.signing_secrets else "none (key only)"

    def save_model(self, request, obj, form, change):
        from webhooks.inbound.services import source_set_signing_secret

        secret = form.cleaned_data.get("new_signing_secret") or None
        if change:
            obj.save()
            if secret:
                source_set_signing_secret(source=obj, secret=secret)
            return
        source, key = source_create(
            tenant=obj.tenant, name=obj.name, kind=obj.kind, signing_secret=secret,
            signature_scheme=obj.signature_scheme,
            signature_header=obj.signature_header if form.cleaned_data.get("signature_header") != "X-Webhook-Signature"
            else None,
            timestamp_tolerance=obj.timestamp_tolerance, rate_limit=obj.rate_limit, is_active=obj.is_active,
        )
        obj.pk = source.pk
        obj.key_prefix, obj.key_hash = source.key_prefix, source.key_hash
        # The only time the key is visible: the operator copies it from this message.
        self.message_user(request, f"Source key: {key} (copy it now; it is not shown again)", messages.WARNING)

    @admin.action(description="Rotate the API key of the selected source (the old key stops working)")
    def rotate_key(self, request, queryset):
        for source in queryset:
            key = source_rotate_key(source=source)
            self.message_user(request, f"{source}: new key {key} (copy it now)", messages.WARNING)

    @admin.action(description="Rotate the source URL of the selected sources (the old URL stops working)")
    def rotate_url(self, request, queryset):
        for source in queryset:
            source_rotate_url(source=source)
        self.message_user(request, f"{queryset.count()} source URL(s) replaced; open a source to copy its new URL.",
                          messages.WARNING)

    @admin.action(description="Accept only the current signing secret (end a rotation)")
    def drop_previous_secrets(self, request, queryset):
        from webhooks.inbound.services import source_drop_previous_secrets

        for source in queryset:
            source_drop_previous_secrets(source=source)
        self.message_user(request, f"{queryset.count()} source(s) now accept only their current secret.")


@admin.register(InboundMessage)
class InboundMessageAdmin(WideChangeListMixin, admin.ModelAdmin):
    # Narrow enough for 1400 px beside the filters: tenant and message id are a filter and a search away.
    list_display = ["id", "received", "source", "handler", "status_badge", "response_status", "attempts"]
    list_filter = ["status", "handler", "source__kind", "tenant"]
    list_select_related = ["source", "tenant"]
    search_fields = ["message_id", "sha256", "source__name", "error"]
    raw_id_fields = ["source", "tenant", "duplicate_of"]
    date_hierarchy = "received_at"
    readonly_fields = [
        "tenant", "source", "message_id", "received_at", "handler", "status", "headers", "body_text", "sha256",
        "error", "traceback", "attempts", "processed_at", "response_status", "response_body", "duplicate_of",
        "duplicate_count", "last_duplicate_at",
    ]
    exclude = ["body"]
    actions = ["replay"]

    def has_add_permission(self, request) -> bool:
        return False  # messages only ever come from senders

    @admin.display(description="received (UTC)", ordering="received_at")
    def received(self, message: InboundMessage) -> str:
        return short_time(message.received_at)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, message: InboundMessage) -> str:
        return format_html('<b style="color:{}">{}</b>', _STATUS_COLOURS.get(message.status, "#000"),
                           message.get_status_display())

    @admin.display(description="Body")
    def body_text(self, message: InboundMessage) -> str:
        raw = bytes(message.body or b"")
        text = raw[:65536].decode("utf-8", errors="replace")
        suffix = f"\n… ({len(raw)} bytes in all)" if len(raw) > 65536 else ""
        return format_html("<pre style='white-space:pre-wrap'>{}{}</pre>", text, suffix)

    @admin.action(description="Replay: run the handler again on the stored raw body")
    def replay(self, request, queryset):
        pks = list(queryset.exclude(status=InboundMessage.Status.DUPLICATE).order_by("received_at", "id")
                   .values_list("pk", flat=True))
        summary = messages_replay(message_pks=pks)
        level = messages.SUCCESS if not summary.failed else messages.WARNING
        self.message_user(request, f"Replayed {summary.total}: {summary.processed} processed, "
                                   f"{summary.failed} failed.", level)
