from django.db import models


class Ping(models.Model):
    """One emitted event: saving it is what makes django-webhook send (its post_save signal)."""

    n = models.PositiveIntegerField()
    emitted_at = models.FloatField(help_text="unix time of the save, read back by the receiver")

    def __str__(self) -> str:
        return f"ping {self.n}"
