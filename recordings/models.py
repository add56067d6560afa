from django.conf import settings
from django.db import models

from accounts.models import Tenant


class Recording(models.Model):
    """A recording the recorder or RealCast reported, upserted by its id.

    `recording_id` is the sender's id as text: the recorder sends integers (3), RealCast strings
    ("rec_ghi789"), and both must be unique per tenant. RealCast names no user, so `user` may be empty.
    """

    class Origin(models.TextChoices):
        RECORDER = "recorder", "Recorder"
        REALCAST = "realcast", "RealCast"

    class Status(models.TextChoices):
        STARTED = "started", "Recording"
        READY = "ready", "Ready"

    # The unique (tenant, recording_id) constraint's index serves tenant lookups: no index of its own.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="recordings", db_index=False)
    recording_id = models.CharField(max_length=100)
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.RECORDER)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.READY)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="recordings"
    )
    username = models.CharField(max_length=150, blank=True, default="", help_text="As the sender named the user.")
    title = models.CharField(max_length=500, blank=True, default="")
    stream_id = models.CharField(max_length=200, blank=True, default="")
    recorded_at = models.DateTimeField(null=True, blank=True, help_text="The sender's `created_at` (UTC).")
    duration_seconds = models.FloatField(null=True, blank=True)
    duration_database = models.FloatField(null=True, blank=True)
    total_size_mb = models.FloatField(null=True, blank=True)
    file_sizes_mb = models.JSONField(default=dict, blank=True, help_text="File name → size in MB.")
    file_size_bytes = models.BigIntegerField(null=True, blank=True)
    files = models.JSONField(default=dict, blank=True, help_text="Kind (video, thumbnail...) → uploaded file URL.")
    uploaded_at = models.DateTimeField(null=True, blank=True)
    upload_source = models.CharField(max_length=100, blank=True, default="")
    bucket_name = models.CharField(max_length=200, blank=True, default="")
    region = models.CharField(max_length=100, blank=True, default="")
    raw_payload = models.JSONField(default=dict, blank=True)
    # RealCast events may arrive late or twice: one older than this changes nothing.
    last_event_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "recording_id"], name="uniq_recording_tenant_recording_id"),
        ]
        indexes = [
            models.Index(fields=["tenant", "-recorded_at"], name="recording_tenant_recorded"),
            models.Index(fields=["tenant", "user"], name="recording_tenant_user"),
        ]

    def __str__(self) -> str:
        return f"{self.recording_id} {self.title}".strip()
