from django.contrib import admin
from django.utils.html import format_html_join

from core.adminlists import WideChangeListMixin
from recordings.models import Recording


@admin.register(Recording)
class RecordingAdmin(WideChangeListMixin, admin.ModelAdmin):
    list_display = ["recording_id", "title", "tenant", "user", "status", "origin", "recorded_at",
                    "duration_seconds", "total_size_mb", "file_links"]
    list_filter = ["status", "origin", "tenant", "region"]
    list_select_related = ["tenant", "user"]
    search_fields = ["recording_id", "title", "user__email", "username", "stream_id", "bucket_name"]
    raw_id_fields = ["tenant", "user"]
    date_hierarchy = "created_at"
    readonly_fields = ["file_links", "created_at", "updated_at", "last_event_at", "raw_payload"]
    fieldsets = [
        (None, {"fields": ["tenant", "recording_id", "title", "user", "username", "status", "origin", "stream_id"]}),
        ("Times", {"fields": ["recorded_at", "duration_seconds", "duration_database", "uploaded_at",
                              "last_event_at", "created_at", "updated_at"]}),
        ("Files", {"fields": ["file_links", "files", "file_sizes_mb", "total_size_mb", "file_size_bytes",
                              "upload_source", "bucket_name", "region"]}),
        ("As received", {"fields": ["raw_payload"], "classes": ["collapse"]}),
    ]

    @admin.display(description="Files")
    def file_links(self, recording: Recording) -> str:
        links = [
            (url, kind) for kind, url in (recording.files or {}).items()
            if isinstance(url, str) and url.startswith(("https://", "http://"))
        ]
        if not links:
            return "—"
        return format_html_join(" · ", '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>', links)
