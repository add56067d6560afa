"""Read models: per-day and per-hour genre aggregates that let genre trends skip scanning every play.

They are a cache of `streams` rows, never a source of truth: `analytics.rollups` rebuilds them
and every query that reads them recomputes, from the raw rows, each day that changed since.
"""

from django.db import models

from accounts.models import Tenant


class RollupState(models.Model):
    """How far the rollups of one tenant are known to be complete.

    Every play / chat interaction with an id at or below its watermark was committed when the
    rollups were last refreshed; rows above it are "the tail" that queries read raw.
    """

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="+")
    play_watermark = models.BigIntegerField(default=0)
    interaction_watermark = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"rollups of {self.tenant_id} up to play {self.play_watermark}"


class GenreDay(models.Model):
    """Plays, confidence and engagement of one (genre, subgenre) on one UTC day."""

    # No index of its own: one of the indexes below leads with it (config/tests/test_schema.py).
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    main_genre = models.CharField(max_length=100)
    subgenre = models.CharField(max_length=100)
    plays = models.PositiveIntegerField(default=0)
    # Sum of confidences in millionths: integers add up alike in any order, floats do not.
    confidence_micros = models.BigIntegerField(default=0)
    confidence_count = models.PositiveIntegerField(default=0)
    engagement = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day", "main_genre", "subgenre"], name="uniq_genreday"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.main_genre}/{self.subgenre}: {self.plays}"


class GenreDayCharacteristic(models.Model):
    """How many plays of one (genre, subgenre) on one UTC day had a characteristic."""

    # No index of its own: one of the indexes below leads with it (config/tests/test_schema.py).
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    main_genre = models.CharField(max_length=100)
    subgenre = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    plays = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "day", "main_genre", "subgenre", "name"], name="uniq_genreday_characteristic",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.subgenre} {self.name}: {self.plays}"


class GenreHour(models.Model):
    """The same figures per UTC hour: they serve the partial days at a window's edges."""

    # No index of its own: one of the indexes below leads with it (config/tests/test_schema.py).
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    hour = models.DateTimeField()
    main_genre = models.CharField(max_length=100)
    subgenre = models.CharField(max_length=100)
    plays = models.PositiveIntegerField(default=0)
    confidence_micros = models.BigIntegerField(default=0)
    confidence_count = models.PositiveIntegerField(default=0)
    engagement = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "hour", "main_genre", "subgenre"], name="uniq_genrehour"),
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.main_genre}/{self.subgenre}: {self.plays}"


class GenreHourCharacteristic(models.Model):
    # No index of its own: one of the indexes below leads with it (config/tests/test_schema.py).
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    hour = models.DateTimeField()
    main_genre = models.CharField(max_length=100)
    subgenre = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    plays = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "hour", "main_genre", "subgenre", "name"], name="uniq_genrehour_characteristic",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.subgenre} {self.name}: {self.plays}"
