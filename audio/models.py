import math

from django.db import models

from accounts.models import Tenant


class ListeningSession(models.Model):
    """A period during which a tenant's microphone is metered (the audio frontend's listening session)."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        STOPPED = "stopped", "Stopped"
        ERROR = "error", "Error"

    # No index of its own: one of the indexes below leads with it (config/tests/test_schema.py).
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="listening_sessions", db_index=False)
    session_id = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    started_by = models.CharField(max_length=20, default="api", help_text="api or command")
    source = models.CharField(max_length=300, blank=True, default="", help_text="What was sampled.")
    error = models.CharField(max_length=500, blank=True, default="")
    started_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    # Level statistics, updated by the sampler about once a second with F() expressions.
    tick_count = models.PositiveIntegerField(default=0)
    rms_power_sum = models.FloatField(default=0.0, help_text="Sum over ticks of the mean square (linear).")
    max_rms_dbfs = models.FloatField(null=True, blank=True)
    max_peak_dbfs = models.FloatField(null=True, blank=True)
    clip_count = models.PositiveIntegerField(default=0, help_text="Ticks with at least one clipped sample.")
    last_tick_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            # At most one active session per tenant; start() relies on it to be race-safe.
            models.UniqueConstraint(fields=["tenant"], condition=models.Q(status="active"),
                                    name="uniq_active_listening_session"),
        ]
        indexes = [models.Index(fields=["tenant", "-started_at"], name="listening_tenant_started")]

    def __str__(self) -> str:
        return f"{self.session_id} ({self.status})"

    @property
    def is_listening(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def mean_rms_dbfs(self) -> float | None:
        """Energy mean of the ticks' RMS (the RMS of the whole session), in dBFS."""
        if not self.tick_count or self.rms_power_sum <= 0:
            return None
        return round(10 * math.log10(self.rms_power_sum / self.tick_count), 2)
