"""Daily per-endpoint rollups of purged deliveries, and statistics that read rollups + live rows.

The purge (services.py) folds exactly the rows it is about to delete into `DeliveryRollup`
in the same transaction, so every delivery is counted once: in a rollup or as a live row, never both.
Counts, sums and averages stay exact. Latency percentiles over purged rows come from histograms
whose keys are exact below 1 s and rounded down to 3 significant digits above (at most 1 % low).
"""

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db.models import Q, QuerySet

from webhooks.models import Attempt, Delivery
from webhooks.retention.models import DeliveryRollup


def latency_key(duration_ms: int) -> int:
    """The histogram bucket of a duration: itself below 1 s, 3 significant digits above."""
    if duration_ms < 1000:
        return duration_ms
    scale = 10 ** (len(str(duration_ms)) - 3)
    return duration_ms // scale * scale


def nearest_rank(histogram: Counter, percentile: float) -> int | None:
    """The smallest value with at least `percentile` % of the counted values at or below it."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = max(1, math.ceil(percentile / 100 * total))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    return None


def merge_histograms(rows) -> Counter:
    """JSON histograms ({"ms": n}, string keys) summed into one Counter with int keys."""
    merged: Counter = Counter()
    for histogram in rows:
        for key, n in histogram.items():
            merged[int(key)] += n
    return merged


def _day(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass
class _Delta:
    tenant_id: int
    succeeded: int = 0
    failed: int = 0
    attempts: int = 0
    ok_attempts: int = 0
    ok_duration_ms: int = 0
    latencies: Counter = field(default_factory=Counter)
    ok_latencies: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)


def rollups_fold(*, delivery_ids: list[int]) -> int:
    """Add these (completed) deliveries and their attempts to the rollups; returns the attempts counted.

    Call inside the transaction that deletes them. Concurrent purges serialise on the rollup rows' locks.
    """
    deltas: dict[tuple[int, datetime], _Delta] = {}

    def delta(tenant_id: int, endpoint_id: int, moment: datetime) -> _Delta:
        return deltas.setdefault((endpoint_id, _day(moment)), _Delta(tenant_id=tenant_id))

    for tenant_id, endpoint_id, created_at, status in Delivery.objects.filter(pk__in=delivery_ids).values_list(
            "tenant_id", "endpoint_id", "created_at", "status"):
        d = delta(tenant_id, endpoint_id, created_at)
        if status == Delivery.Status.SUCCEEDED:
            d.succeeded += 1
        elif status == Delivery.Status.FAILED:
            d.failed += 1
    attempts = 0
    for tenant_id, endpoint_id, started_at, duration, ok, code in Attempt.objects.filter(
            delivery_id__in=delivery_ids).values_list(
            "delivery__tenant_id", "delivery__endpoint_id", "started_at", "duration_ms", "succeeded", "status_code"):
        attempts += 1
        d = delta(tenant_id, endpoint_id, started_at)
        d.attempts += 1
        d.latencies[latency_key(duration)] += 1
        if ok:
            d.ok_attempts += 1
            d.ok_duration_ms += duration
            d.ok_latencies[latency_key(duration)] += 1
        else:
            d.failures[str(code) if code is not None else "error"] += 1
    if not deltas:
        return attempts

    DeliveryRollup.objects.bulk_create(
        [DeliveryRollup(tenant_id=d.tenant_id, endpoint_id=endpoint_id, day=day)
         for (endpoint_id, day), d in deltas.items()],
        ignore_conflicts=True,
    )
    keys = Q()
    for endpoint_id, day in deltas:
        keys |= Q(endpoint_id=endpoint_id, day=day)
    rows = list(DeliveryRollup.objects.select_for_update().filter(keys))
    for row in rows:
        d = deltas[(row.endpoint_id, row.day)]
        row.succeeded += d.succeeded
        row.failed += d.failed
        row.attempts += d.attempts
        row.ok_attempts += d.ok_attempts
        row.ok_duration_ms += d.ok_duration_ms
        for name in ("latencies", "ok_latencies", "failures"):
            merged = Counter(getattr(row, name)) + Counter({str(k): n for k, n in getattr(d, name).items()})
            setattr(row, name, dict(merged))
    DeliveryRollup.objects.bulk_update(rows, ["succeeded", "failed", "attempts", "ok_attempts", "ok_duration_ms",
                                              "latencies", "ok_latencies", "failures"])
    return attempts


def rollups_in(*, endpoint_ids: list[int] | None = None, since: datetime | None = None,
               until: datetime | None = None, tenant=None) -> QuerySet[DeliveryRollup]:
    qs = DeliveryRollup.objects.all()
    if tenant is not None:
        qs = qs.filter(tenant=tenant)
    if endpoint_ids is not None:
        qs = qs.filter(endpoint_id__in=endpoint_ids)
    if since is not None:
        qs = qs.filter(day__gte=_day(since))
    if until is not None:
        qs = qs.filter(day__lt=until)
    return qs
