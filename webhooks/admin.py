"""The operators' console for outbound webhooks. Rows are read-only; every change is an action calling a service.

Endpoints are added through the same validation and service as the API (URL vetted, secret issued), deleted
softly like the API's DELETE (deliveries and attempts stay), and a secret is shown only in the response that
made it, never stored in a message.
"""

import json
import time
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from core.adminlists import WideChangeListMixin, short_time
from core.crypto import Sealed
from webhooks import services
from webhooks.models import Attempt, Delivery, Endpoint, Event, EventType
from webhooks.registry import all_event_types
from webhooks.serializers import EndpointSerializer

# How long the test-send page waits for the delivery's first answer before showing it as pending.
TEST_OUTCOME_WAIT = 5.0

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


def short_url(url: str, length: int = 48) -> str:
    return url if len(url) <= length else f"{url[:length - 1]}…"


def _event_choices() -> list[tuple[str, str]]:
    return [(t.name, f"{t.name} — {t.description}") for t in all_event_types()]


def _flat(errors) -> list[str]:
    """DRF's errors of a list field come per item ({0: [...]}); a form shows them in one list."""
    if isinstance(errors, dict):
        return [str(e) for item in errors.values() for e in _flat(item)]
    return [str(e) for e in errors]


class EndpointAddForm(forms.ModelForm):
    """The API's own validation (EndpointSerializer) behind an admin form, so both refuse the same input."""

    events = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, choices=_event_choices,
        help_text="None ticked: every event type.",
    )
    retry_schedule = forms.CharField(
        required=False, help_text="Seconds between tries, comma-separated (e.g. 1, 5, 25); empty for the default.",
    )

    class Meta:
        model = Endpoint
        fields = ["tenant", "url", "description", "events", "is_active", "signature_scheme", "signature_header",
                  "payload_style", "retry_schedule", "rate_limit", "max_in_flight"]

    def clean_retry_schedule(self) -> list[float] | None:
        text = self.cleaned_data["retry_schedule"].strip()
        if not text:
            return None
        try:
            return [float(part) for part in text.split(",")]
        except ValueError:
            raise forms.ValidationError("Enter seconds as numbers separated by commas, e.g. 1, 5, 25.") from None

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        data = {name: value for name, value in cleaned.items() if name != "tenant" and value is not None}
        data["retry_schedule"] = cleaned.get("retry_schedule")
        serializer = EndpointSerializer(data=data)
        if not serializer.is_valid():
            for field, errors in serializer.errors.items():
                self.add_error(field if field in self.fields else None, _flat(errors))
            return cleaned
        try:
            services.endpoint_url_check(url=serializer.validated_data["url"])
        except ValidationError as exc:
            self.add_error("url", exc.message_dict.get("url", exc.messages))
        self.validated = serializer.validated_data
        return cleaned


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
class EndpointAdmin(WideChangeListMixin, admin.ModelAdmin):
    list_display = ["short_url", "tenant", "status_badge", "circuit", "success_rate", "signature_scheme", "created"]
    list_filter = [EndpointStatusFilter, "circuit", "signature_scheme", "payload_style", "tenant"]
    list_select_related = ["tenant"]
    search_fields = ["url", "description", "tenant__slug"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["tenant", "url", "description", "events", "status_badge"]}),
        ("Signing", {"fields": ["signature_scheme", "signature_header", "payload_style", "masked_secret",
                                "masked_previous_secret", "previous_secret_expires_at"]}),
        ("Content", {"fields": ["profile", "template_pretty", "header_names"]}),
        ("Delivery", {"fields": ["retry_schedule", "rate_limit", "max_in_flight", "success_rate", "circuit",
                                 "consecutive_failures", "circuit_opened_at", "circuit_probe_at"]}),
        ("State", {"fields": ["is_active", "disabled_reason", "disabled_at", "failing_since", "deleted_at",
                              "created_at", "updated_at"]}),
    ]
    readonly_fields = [
        "tenant", "url", "description", "events", "status_badge", "signature_scheme", "signature_header",
        "payload_style", "masked_secret", "masked_previous_secret", "previous_secret_expires_at", "retry_schedule",
        "profile", "template_pretty", "header_names",
        "rate_limit", "success_rate", "circuit", "consecutive_failures", "circuit_opened_at", "circuit_probe_at",
        "is_active", "disabled_reason", "disabled_at", "failing_since", "deleted_at",
        "created_at", "updated_at",
    ]
    add_fieldsets = [
        (None, {"fields": ["tenant", "url", "description", "events", "is_active"]}),
        ("Signing", {"fields": ["signature_scheme", "signature_header", "payload_style"]}),
        ("Delivery", {"fields": ["retry_schedule", "rate_limit", "max_in_flight"]}),
    ]
    raw_id_fields = ["tenant"]
    actions = ["send_test_event", "enable", "disable", "rotate_secret"]
    change_form_template = "admin/webhooks/endpoint/change_form.html"

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = EndpointAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            # The in-flight cap is the one field edited here; everything else changes through actions.
            if "max_in_flight" in form.changed_data:
                services.endpoint_update(endpoint=Endpoint.objects.get(pk=obj.pk),
                                         max_in_flight=form.cleaned_data["max_in_flight"])
            return
        endpoint = services.endpoint_create(tenant=form.cleaned_data["tenant"], **form.validated)
        obj.pk = endpoint.pk
        obj.secret = endpoint.secret

    def response_add(self, request, obj, post_url_continue=None):
        return self._secret_page(request, [(obj, obj.secret)], title="Endpoint created",
                                 note="This is its signing secret. Copy it now: the admin never shows it again.")

    def delete_model(self, request, obj):
        services.endpoint_delete(endpoint=obj)

    def delete_queryset(self, request, queryset):
        for endpoint in queryset.filter(deleted_at__isnull=True):
            services.endpoint_delete(endpoint=endpoint)

    def get_deleted_objects(self, objs, request):
        """Only the endpoints are marked deleted; their deliveries and attempts stay, as with the API."""
        objs = list(objs)
        return [f"Endpoint: {obj}" for obj in objs], {"endpoints": len(objs)}, set(), []

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/rotate-secret/", wrap(self.rotate_secret_view), name="webhooks_endpoint_rotate"),
            path("<int:pk>/send-test/", wrap(self.send_test_view), name="webhooks_endpoint_send_test"),
            path("<int:pk>/send-test/<int:delivery_pk>/", wrap(self.test_outcome_view),
                 name="webhooks_endpoint_test_outcome"),
            *super().get_urls(),
        ]

    def _endpoint_for_change(self, request, pk: int) -> Endpoint:
        endpoint = get_object_or_404(Endpoint, pk=pk)
        if not self.has_change_permission(request, endpoint):
            raise PermissionDenied
        return endpoint

    def _secret_page(self, request, rotated: list[tuple[Endpoint, str]], *, title: str, note: str):
        return TemplateResponse(request, "admin/webhooks/endpoint/secret.html", {
            **self.admin_site.each_context(request), "title": title, "note": note, "rotated": rotated,
            "opts": self.model._meta,
        })

    def rotate_secret_view(self, request, pk: int):
        """GET asks to confirm; POST rotates and answers the new secret in that response only."""
        endpoint = self._endpoint_for_change(request, pk)
        if request.method == "POST":
            if endpoint.deleted_at is not None:
                self.message_user(request, "A deleted endpoint keeps its last secret.", messages.ERROR)
                return redirect("admin:webhooks_endpoint_change", endpoint.pk)
            secret = services.endpoint_rotate_secret(endpoint=endpoint)
            return self._secret_page(request, [(endpoint, secret)], title="Secret rotated", note=(
                "The new signing secret. The previous one keeps signing beside it until "
                f"{endpoint.previous_secret_expires_at:%Y-%m-%d %H:%M} UTC. Copy it now: it is not shown again."))
        return TemplateResponse(request, "admin/webhooks/endpoint/rotate_confirm.html", {
            **self.admin_site.each_context(request), "title": "Rotate the signing secret?", "endpoint": endpoint,
            "opts": self.model._meta,
        })

    def send_test_view(self, request, pk: int):
        endpoint = self._endpoint_for_change(request, pk)
        error = None
        if request.method == "POST":
            try:
                sent = services.endpoint_send_test(endpoint=endpoint, event_type=request.POST.get("event_type", ""))
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                return redirect("admin:webhooks_endpoint_test_outcome", endpoint.pk, sent.delivery.pk)
        return TemplateResponse(request, "admin/webhooks/endpoint/send_test.html", {
            **self.admin_site.each_context(request), "title": "Send a test event", "endpoint": endpoint,
            "choices": _event_choices(), "chosen": request.POST.get("event_type", services.TEST_EVENT_TYPE),
            "error": error, "opts": self.model._meta,
        })

    def test_outcome_view(self, request, pk: int, delivery_pk: int):
        """The test delivery's outcome: waits briefly for its first answer (the worker sends it meanwhile)."""
        endpoint = self._endpoint_for_change(request, pk)
        delivery = get_object_or_404(Delivery.objects.select_related("event"), pk=delivery_pk, endpoint=endpoint)
        deadline = time.monotonic() + TEST_OUTCOME_WAIT
        while delivery.attempt_count == 0 and delivery.status == Delivery.Status.PENDING \
                and time.monotonic() < deadline:
            time.sleep(0.2)
            delivery.refresh_from_db(fields=["status", "attempt_count", "last_status_code", "last_error",
                                             "completed_at", "next_attempt_at"])
        attempt = delivery.attempts.order_by("-number").first()
        return TemplateResponse(request, "admin/webhooks/endpoint/test_outcome.html", {
            **self.admin_site.each_context(request), "title": f"Test event {delivery.event.type}",
            "endpoint": endpoint, "delivery": delivery, "attempt": attempt, "opts": self.model._meta,
            "delivery_url": reverse("admin:webhooks_delivery_change", args=[delivery.pk]),
        })

    @admin.display(description="URL", ordering="url")
    def short_url(self, obj: Endpoint) -> str:
        return short_url(obj.url)

    @admin.display(description="created (UTC)", ordering="created_at")
    def created(self, obj: Endpoint) -> str:
        return short_time(obj.created_at)

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

    @admin.display(description="template")
    def template_pretty(self, obj: Endpoint):
        if obj.template is None:
            return f"the {obj.profile} profile's" if obj.profile else "—"
        return format_html("<pre>{}</pre>", json.dumps(obj.template, indent=2, ensure_ascii=False))

    @admin.display(description="custom headers")
    def header_names(self, obj: Endpoint) -> str:
        # Names only: a custom header's value is usually the receiver's credential.
        return ", ".join(obj.headers) if obj.headers else "—"

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
        rotated = [(e, services.endpoint_rotate_secret(endpoint=e)) for e in queryset.filter(deleted_at__isnull=True)]
        return self._secret_page(request, rotated, title="Secrets rotated", note=(
            "The new signing secrets; each previous one keeps signing beside it for 24 h. "
            "Copy them now: they are not shown again."))


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
    fields = ["number", "started_at", "duration_ms", "status_code", "headers_sent", "body_sent", "response_body",
              "error", "succeeded"]
    readonly_fields = fields
    ordering = ["number"]

    @admin.display(description="request body")
    def body_sent(self, obj: Attempt):
        # Attempts record the body once the engine stores it; until then the event's data is what was sent.
        body = getattr(obj, "request_body", None)
        if body is None:
            return "—"
        return format_html("<pre style='white-space:pre-wrap;max-width:420px'>{}</pre>", body)

    @admin.display(description="request headers")
    def headers_sent(self, obj: Attempt):
        # Stored already redacted by the engine (signatures shortened), so nothing here can be replayed.
        return format_html("<pre>{}</pre>", json.dumps(obj.request_headers, indent=1, ensure_ascii=False))

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(WideChangeListMixin, admin.ModelAdmin):
    # Narrow enough for 1400 px beside the filters: the tenant is a filter, the URL is shortened.
    list_display = ["id", "event_type", "endpoint_url", "status_badge", "attempts", "last_status", "next_attempt",
                    "created"]
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
    change_form_template = "admin/webhooks/delivery/change_form.html"

    def has_add_permission(self, request) -> bool:
        return False

    def get_urls(self):
        return [path("<int:pk>/resend/", self.admin_site.admin_view(require_POST(self.resend_view)),
                     name="webhooks_delivery_resend"), *super().get_urls()]

    def resend_view(self, request, pk: int):
        delivery = get_object_or_404(Delivery.objects.select_related("endpoint"), pk=pk)
        if not self.has_change_permission(request, delivery):
            raise PermissionDenied
        try:
            services.delivery_redeliver(delivery=delivery)
        except ValidationError as exc:
            self.message_user(request, f"Not resent: {' '.join(exc.messages)}", messages.ERROR)
        else:
            self.message_user(request, f"Delivery #{delivery.pk} queued again (same webhook-id).", messages.SUCCESS)
        return redirect("admin:webhooks_delivery_change", delivery.pk)

    @admin.display(description="endpoint", ordering="endpoint__url")
    def endpoint_url(self, obj: Delivery) -> str:
        return short_url(obj.endpoint.url, 36)

    @admin.display(description="event type", ordering="event__type")
    def event_type(self, obj: Delivery) -> str:
        return obj.event.type

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Delivery):
        return badge(obj.status)

    @admin.display(description="attempts", ordering="attempt_count")
    def attempts(self, obj: Delivery) -> int:
        return obj.attempt_count

    @admin.display(description="last status", ordering="last_status_code")
    def last_status(self, obj: Delivery):
        return obj.last_status_code or (obj.last_error[:30] if obj.last_error else "—")

    @admin.display(description="next attempt (UTC)", ordering="next_attempt_at")
    def next_attempt(self, obj: Delivery) -> str:
        return short_time(obj.next_attempt_at)

    @admin.display(description="created (UTC)", ordering="created_at")
    def created(self, obj: Delivery) -> str:
        return short_time(obj.created_at)

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


@admin.register(EventType)
class EventTypeAdmin(admin.ModelAdmin):
    """Event types tenants declared for their applications; they manage them through the API."""

    list_display = ["name", "tenant", "description", "has_schema", "updated_at"]
    list_filter = ["tenant"]
    list_select_related = ["tenant"]
    search_fields = ["name", "description", "tenant__slug"]
    fields = ["tenant", "name", "description", "schema_pretty", "example_pretty", "created_at", "updated_at"]
    readonly_fields = fields

    @admin.display(description="schema", boolean=True)
    def has_schema(self, obj: EventType) -> bool:
        return obj.schema is not None

    @admin.display(description="schema")
    def schema_pretty(self, obj: EventType):
        return format_html("<pre>{}</pre>", json.dumps(obj.schema, indent=2, ensure_ascii=False))

    @admin.display(description="example")
    def example_pretty(self, obj: EventType):
        return format_html("<pre>{}</pre>", json.dumps(obj.example, indent=2, ensure_ascii=False))

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
