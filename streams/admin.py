from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core.adminlists import WideChangeListMixin
from streams import services
from streams.models import ChatInteraction, ChatMessage, StreamError, StreamSession, TrackPlay, ViewerSample

_STATUS_COLOURS = {"live": "#1a7f37", "offline": "#57606a", "error": "#cf222e"}


INLINE_ROWS = 50  # per inline on a session's page: an 8-hour stream has thousands of chat messages


class _LatestRows(BaseInlineFormSet):
    """The inline's latest `INLINE_ROWS` rows (by its `ordering`), shown oldest first: the page of a
    long session stays quick, and the session's "recorded" line links to all of them."""

    def get_queryset(self):
        if not hasattr(self, "_latest"):
            rows = super().get_queryset()
            newest_first = [f[1:] if f.startswith("-") else f"-{f}" for f in [*rows.query.order_by, "pk"]]
            latest = list(rows.order_by(*newest_first).values_list("pk", flat=True)[:INLINE_ROWS])
            self._latest = rows.filter(pk__in=latest)
        return self._latest


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True
    formset = _LatestRows

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def __init__(self, parent_model, admin_site):
        super().__init__(parent_model, admin_site)  # (the admin builds its inlines anew for every request)
        self.verbose_name_plural = f"{self.model._meta.verbose_name_plural} (the latest {INLINE_ROWS})"


class TrackPlayInline(_ReadOnlyInline):
    model = TrackPlay
    fields = ["played_at", "artist", "title", "bpm", "key", "main_genre", "subgenre", "confidence",
              "viewers_at_play"]
    ordering = ["played_at"]


class ChatInteractionInline(_ReadOnlyInline):
    model = ChatInteraction
    fields = ["at", "message_sent", "engagement_type", "audience_reaction", "response_count", "track"]
    ordering = ["at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("track")  # each row names its track


class ChatMessageInline(_ReadOnlyInline):
    model = ChatMessage
    fields = ["created_at", "user_name", "message", "message_id"]
    ordering = ["created_at"]


class StreamErrorInline(_ReadOnlyInline):
    model = StreamError
    fields = ["at", "error_code", "error_message"]
    ordering = ["at"]


@admin.register(StreamSession)
class StreamSessionAdmin(WideChangeListMixin, admin.ModelAdmin):
    list_display = ["session_id", "tenant", "platform", "dj_username", "title", "status_badge", "started_at",
                    "duration_seconds", "peak_viewers"]
    list_filter = ["status", "platform", "tenant"]
    list_select_related = ["tenant"]
    search_fields = ["session_id", "dj_username", "title"]
    date_hierarchy = "started_at"
    readonly_fields = ["tenant", "session_id", "recorded", "details_at", "platform_at", "dj_username_at", "title_at",
                       "status_at", "viewers_at", "last_event_at", "live_announced_at", "created_at", "updated_at"]
    inlines = [TrackPlayInline, ChatInteractionInline, ChatMessageInline, StreamErrorInline]
    actions = ["end_now"]

    @admin.action(description="End the selected live sessions now (a sender that never sent its end)")
    def end_now(self, request, queryset):
        now = timezone.now()
        live = queryset.filter(status=StreamSession.Status.LIVE).select_related("tenant")
        for session in live:
            services.session_end(tenant=session.tenant, session_id=session.session_id, at=now)
        self.message_user(request, f"Ended {len(live)} session(s); subscribers get stream.offline.")

    @admin.display(description="recorded")
    def recorded(self, obj: StreamSession):
        """Every row the session has, counted, each kind linking to its full list (the inlines show
        only the latest)."""
        kinds = [(TrackPlay, obj.tracks), (ChatInteraction, obj.chat_interactions), (ChatMessage, obj.chat_messages),
                 (StreamError, obj.errors), (ViewerSample, obj.viewer_samples)]
        return format_html_join(
            " · ", '<a href="{}?session__id__exact={}">{} {}</a>',
            ((reverse(f"admin:streams_{model._meta.model_name}_changelist"), obj.pk, rows.count(),
              model._meta.verbose_name_plural) for model, rows in kinds),
        )

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: StreamSession):
        return format_html('<b style="color:{}">{}</b>', _STATUS_COLOURS.get(obj.status, "#000"), obj.status)


@admin.register(TrackPlay)
class TrackPlayAdmin(admin.ModelAdmin):
    list_display = ["played_at", "artist", "title", "main_genre", "subgenre", "confidence", "session"]
    list_filter = ["main_genre", "tenant"]
    list_select_related = ["session", "tenant"]
    search_fields = ["artist", "title", "subgenre", "session__session_id"]
    raw_id_fields = ["session", "tenant"]


@admin.register(ChatInteraction)
class ChatInteractionAdmin(admin.ModelAdmin):
    list_display = ["at", "engagement_type", "audience_reaction", "response_count", "session", "track"]
    list_filter = ["engagement_type", "audience_reaction", "tenant"]
    list_select_related = ["session", "track", "tenant"]
    search_fields = ["message_sent", "session__session_id"]
    raw_id_fields = ["session", "tenant", "track"]


@admin.register(ChatMessage)
class ChatMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user_name", "message", "session"]
    list_filter = ["tenant"]
    list_select_related = ["session", "tenant"]
    search_fields = ["message_id", "user_name", "message", "session__session_id"]
    raw_id_fields = ["session", "tenant"]


@admin.register(StreamError)
class StreamErrorAdmin(admin.ModelAdmin):
    list_display = ["at", "error_code", "error_message", "session"]
    list_filter = ["error_code", "tenant"]
    list_select_related = ["session", "tenant"]
    raw_id_fields = ["session", "tenant"]


@admin.register(ViewerSample)
class ViewerSampleAdmin(admin.ModelAdmin):
    list_display = ["at", "viewer_count", "session"]
    list_select_related = ["session"]
    raw_id_fields = ["session", "tenant"]
