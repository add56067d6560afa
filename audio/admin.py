from django.contrib import admin, messages
from django.utils.html import format_html

from audio import services
from audio.models import ListeningSession

_COLOURS = {"active": "#2b8a3e", "stopped": "#868e96", "error": "#c92a2a"}


@admin.register(ListeningSession)
class ListeningSessionAdmin(admin.ModelAdmin):
    list_display = ["session_id", "tenant", "status_badge", "started_by", "started_at", "stopped_at",
                    "tick_count", "mean_rms", "max_rms_dbfs", "max_peak_dbfs", "clip_count"]
    list_filter = ["status", "started_by", "tenant"]
    list_select_related = ["tenant"]
    raw_id_fields = ["tenant"]
    search_fields = ["session_id", "source"]
    date_hierarchy = "started_at"
    actions = ["stop_listening"]
    readonly_fields = ["session_id", "started_at", "stopped_at", "tick_count", "rms_power_sum", "max_rms_dbfs",
                       "max_peak_dbfs", "clip_count", "last_tick_at", "mean_rms"]

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return format_html('<b style="color:{}">{}</b>', _COLOURS.get(obj.status, "#000"), obj.get_status_display())

    @admin.display(description="mean RMS (dBFS)")
    def mean_rms(self, obj):
        return obj.mean_rms_dbfs

    @admin.action(description="Stop the selected active sessions (a following sampler closes its input)")
    def stop_listening(self, request, queryset):
        stopped = 0
        for session in queryset.filter(status=ListeningSession.Status.ACTIVE).select_related("tenant"):
            stopped += services.listening_stop(tenant=session.tenant, session_id=session.session_id) is not None
        self.message_user(request, f"Stopped {stopped} listening session(s).", messages.SUCCESS)
