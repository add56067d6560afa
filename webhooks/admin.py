"""The operators' console for outbound webhooks. Rows are read-only; every change is an action calling a service."""

import json
from datetime import timedelta

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.html import format_html

from core.crypto import Sealed
from webhooks import services
from webhooks.models import Attempt, Delivery, Endpoint, Event

BADGE_COLOURS = {
    "active": "#1a7f37", "succeeded": "#1a7f37", "pending": "#9a6700", "disabled": "#cf222e", "failed": "#cf222e",
    "deleted": "#6e7781",
}


def badge(label: str):
    return format_html(
        '<span style="color:#fff;background:{};padding:1px 8px;border-radius:8px;font-size:11px">{}</span>',
        BADGE_COLOURS.get(label, "#6e7781"), label,
    )


def mask(secret: Sealed | str) -> str:
    """Set or not, and since when: read from the token's clear timestamp, without decrypting the secret."""
    if not secret:
        return "—"
    if isinstance(secret, Sealed):
        return f"•••••••• (encrypted {secret.encrypted_at():%Y-%m-%d %H:%M} UTC)"
    return "••••••••"


def _count(endpoint_status: str):
    """Deliveries of the row's endpoint in one status, as a correlated subquery (computed for the page's rows only)."""
    counts = (
        Delivery.objects.filter(endpoint=OuterRef("pk"), status=endpoint_status)
        .order_by().values("endpoint").annotate(n=Count("id")).values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


class EndpointStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", "active"), ("disabled", "disabled"), ("deleted", "deleted")]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(is_active=True, deleted_at__isnull=True)
        if self.value() == "disabled":
            return queryset.filter(is_active=False, deleted_at__isnull=True)
        if self.value() == "deleted":
            return queryset.filter(deleted_at__isnull=False)
        return queryset


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "tenant", "status_badge", "success_rate", "signature_scheme", "created_at"]
    list_filter = [EndpointStatusFilter, "signature_scheme", "payload_style", "tenant"]
    list_select_related = ["tenant"]
    search_fields = ["url", "description", "tenant__slug"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["tenant", "url", "description", "events", "status_badge"]}),
        ("Signing", {"fields": ["signature_scheme", "signature_header", "payload_style", "masked_secret",
                                "masked_previous_secret", "previous_secret_expires_at"]}),
        ("Delivery", {"fields": ["retry_schedule", "rate_limit", "success_rate"]}),
        ("State", {"fields": ["is_active", "disabled_reason", "disabled_at", "failing_since", "deleted_at",
                              "created_at", "updated_at"]}),
    ]
    readonly_fields = [
        "tenant", "url", "description", "events", "status_badge", "signature_scheme", "signature_header",
        "payload_style", "masked_secret", "masked_previous_secret", "previous_secret_expires_at", "retry_schedule",
        "rate_limit", "success_rate", "is_active", "disabled_reason", "disabled_at", "failing_since", "deleted_at",
        "created_at", "updated_at",
    ]
    actions = ["send_test_event", "enable", "disable", "rotate_secret"]

    def has_add_permission(self, request) -> bool:
        return False  # endpoints are created through the API, which vets the URL and issues the secret

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            delivered_ok=_count(Delivery.Status.SUCCEEDED), delivered_failed=_count(Delivery.Status.FAILED),
        )

    @admin.display(description="status")
    def status_badge(self, obj: Endpoint):
        if obj.deleted_at:
            return badge("deleted")
        return badge("active" if obj.is_active else "disabled")

    @admin.display(description="success rate")
    def success_rate(self, obj: Endpoint) -> str:
        ok, bad = getattr(obj, "delivered_ok", None), getattr(obj, "delivered_failed", None)
        if ok is None:  # the change page's object comes from get_object(), annotated as well; belt and braces
            return "—"
        return f"{ok / (ok + bad):.1%} of {ok + bad}" if ok + bad else "—"

    @admin.display(description="secret")
    def masked_secret(self, obj: Endpoint) -> str:
        return mask(obj.secret)

    @admin.display(description="previous secret")
    def masked_previous_secret(self, obj: Endpoint) -> str:
        return mask(obj.previous_secret)

    def _each(self, request, queryset, verb: str, call) -> None:
        done, refused = 0, []
        for endpoint in queryset:
            try:
                call(endpoint)
                done += 1
            except ValidationError as exc:
                refused.append(f"#{endpoint.pk}: {' '.join(exc.messages)}")
        if done:
            self.message_user(request, f"{verb} {done} endpoint(s).", messages.SUCCESS)
        if refused:
            self.message_user(request, "Not done for " + "; ".join(refused), messages.WARNING)

    @admin.action(description="Send a test event (webhook.test)", permissions=["change"])
    def send_test_event(self, request, queryset):
        self._each(request, queryset, "Sent a test event to", lambda e: services.endpoint_send_test(endpoint=e))

    @admin.action(description="Enable", permissions=["change"])
    def enable(self, request, queryset):
        self._each(request, queryset, "Enabled", lambda e: services.endpoint_enable(endpoint=e))

    @admin.action(description="Disable", permissions=["change"])
    def disable(self, request, queryset):
        reason = f"Disabled by {request.user.get_username()} in the admin."
        self._each(request, queryset.filter(is_active=True), "Disabled",
                   lambda e: services.endpoint_disable(endpoint=e, reason=reason))

    @admin.action(description="Rotate the signing secret (old one honoured for 24 h)", permissions=["change"])
    def rotate_secret(self, request, queryset):
        self._each(request, queryset.filter(deleted_at__isnull=True), "Rotated the secret of",
                   lambda e: services.endpoint_rotate_secret(endpoint=e))


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["id", "type", "tenant", "created_at", "fanned_out_at"]
    list_filter = ["type", "tenant"]
    list_select_related = ["tenant"]
    search_fields = ["id", "type"]
    date_hierarchy = "created_at"
    fields = ["id", "tenant", "type", "data_pretty", "created_at", "fanned_out_at"]
    readonly_fields = fields

    @admin.display(description="data")
    def data_pretty(self, obj: Event):
        return format_html("<pre>{}</pre>", json.dumps(obj.data, indent=2, ensure_ascii=False))

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    can_delete = False
    fields = ["number", "started_at", "duration_ms", "status_code", "headers_sent", "response_body", "error",
              "succeeded"]
    readonly_fields = fields
    ordering = ["number"]

    @admin.display(description="request headers")
    def headers_sent(self, obj: Attempt):
        # Stored already redacted by the engine (signatures shortened), so nothing here can be replayed.
        return format_html("<pre>{}</pre>", json.dumps(obj.request_headers, indent=1, ensure_ascii=False))

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "event_type", "endpoint", "tenant", "status_badge", "attempt_count", "last_status_code",
                    "next_attempt_at", "created_at"]
    list_filter = ["status", "event__type", "tenant", "endpoint"]
    list_select_related = ["event", "endpoint", "tenant"]
    raw_id_fields = ["event", "endpoint", "tenant"]
    search_fields = ["event__id", "endpoint__url"]
    date_hierarchy = "created_at"
    inlines = [AttemptInline]
    fields = ["event", "endpoint", "tenant", "status", "attempt_count", "next_attempt_at", "locked_until",
              "last_status_code", "last_error", "created_at", "updated_at", "completed_at"]
    readonly_fields = fields
    actions = ["redeliver", "recover_since_24h"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="event type", ordering="event__type")
    def event_type(self, obj: Delivery) -> str:
        return obj.event.type

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Delivery):
        return badge(obj.status)

    @admin.action(description="Redeliver (same webhook-id)", permissions=["change"])
    def redeliver(self, request, queryset):
        done, refused = 0, 0
        for delivery in queryset.select_related("endpoint"):
            try:
                services.delivery_redeliver(delivery=delivery)
                done += 1
            except ValidationError:
                refused += 1
        self.message_user(request, f"Queued {done} delivery(ies) again.", messages.SUCCESS)
        if refused:
            self.message_user(request, f"{refused} skipped: their endpoint is disabled or deleted.", messages.WARNING)

    @admin.action(description="Recover: re-send what failed in the last 24 h on these deliveries' endpoints",
                  permissions=["change"])
    def recover_since_24h(self, request, queryset):
        since = timezone.now() - timedelta(hours=24)
        endpoint_ids = set(queryset.values_list("endpoint_id", flat=True))
        total, endpoints = 0, 0
        live = Endpoint.objects.filter(pk__in=endpoint_ids, deleted_at__isnull=True, is_active=True)
        for endpoint in live:
            total += services.endpoint_recover(endpoint=endpoint, since=since)
            endpoints += 1
        self.message_user(request, f"Queued {total} failed delivery(ies) again on {endpoints} endpoint(s).",
                          messages.SUCCESS)
        if len(endpoint_ids) > endpoints:
            self.message_user(request, f"{len(endpoint_ids) - endpoints} endpoint(s) skipped: disabled or deleted "
                                       "(enable them first).", messages.WARNING)
