"""What a purge leaves behind of the rows it deletes (webhooks/retention/services.py)."""

from django.db import models

from accounts.models import Tenant
from webhooks.models import Endpoint


class DeliveryRollup(models.Model):
    """What purged deliveries and attempts leave behind, per endpoint and UTC day (webhooks/retention/services.py).

    Filled in the purge's own transaction, from exactly the rows it deletes, so a rollup and the live
    rows never count the same delivery twice: statistics are rollups + live rows. Counts and sums are
    exact; latency percentiles come from `latencies`/`ok_latencies`, histograms {ms: n} whose keys are
    exact below 1 s and rounded down to 3 significant digits above (rollups.py).
    """

    # No index of its own: the index below leads with it.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="rollups", db_index=False)
    day = models.DateTimeField(help_text="Midnight UTC: deliveries by creation day, attempts by start day.")
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    ok_attempts = models.PositiveIntegerField(default=0)
    ok_duration_ms = models.BigIntegerField(default=0, help_text="Sum over successful attempts.")
    latencies = models.JSONField(default=dict, help_text="Every attempt's duration: {ms: count}.")
    ok_latencies = models.JSONField(default=dict, help_text="Successful attempts' durations: {ms: count}.")
    failures = models.JSONField(default=dict, help_text='Failed attempts by HTTP status or "error": {code: count}.')

    class Meta:
        ordering = ["endpoint_id", "day"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "day"], name="uniq_rollup_endpoint_day")]
        indexes = [models.Index(fields=["tenant", "day"], name="rollup_tenant_day")]

    def __str__(self) -> str:
        return f"endpoint {self.endpoint_id} on {self.day:%Y-%m-%d}"
