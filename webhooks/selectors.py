"""Reads on subscriptions and deliveries: tenant-scoped querysets and statistics."""

import math
import time
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from accounts.models import Tenant
from webhooks.models import Attempt, Delivery, Endpoint
from webhooks.retention.rollups import latency_key, merge_histograms, nearest_rank, rollups_in


def endpoint_list(*, tenant: Tenant | None = None) -> QuerySet[Endpoint]:
    """Live (not deleted) endpoints, of one tenant when given."""
    qs = Endpoint.objects.filter(deleted_at__isnull=True)
    return qs.filter(tenant=tenant) if tenant is not None else qs


def delivery_list(*, tenant: Tenant | None = None, endpoint: Endpoint | None = None) -> QuerySet[Delivery]:
    """Deliveries with their event and attempts loaded (two queries for a page, whatever its size)."""
    qs = Delivery.objects.select_related("event").prefetch_related(
        Prefetch("attempts", queryset=Attempt.objects.order_by("number"))
    )
    if tenant is not None:
        qs = qs.filter(tenant=tenant)
    if endpoint is not None:
        qs = qs.filter(endpoint=endpoint)
    return qs.order_by("-created_at", "-id")


def deliveries_for_redelivery(
    *, since: datetime, endpoint_id: int | None = None, status: str | None = Delivery.Status.FAILED
) -> QuerySet[Delivery]:
    """What `redeliver --since` re-sends: deliveries created since then, of active endpoints, oldest first."""
    qs = Delivery.objects.filter(created_at__gte=since, endpoint__deleted_at__isnull=True, endpoint__is_active=True)
    if endpoint_id is not None:
        qs = qs.filter(endpoint_id=endpoint_id)
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("endpoint", "event").order_by("created_at", "id")


def delivery_wait(*, delivery_id: int, timeout: float, interval: float = 0.2) -> Delivery:
    """The delivery once its first attempt (or a final state) is recorded, or as it is when `timeout` runs out."""
    deadline = time.monotonic() + timeout
    while True:
        delivery = Delivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
        if delivery.attempt_count or delivery.status != Delivery.Status.PENDING or time.monotonic() >= deadline:
            return delivery
        time.sleep(interval)


@dataclass(frozen=True)
class EndpointStats:
    total: int
    succeeded: int
    failed: int
    pending: int
    success_rate: float | None  # succeeded / (succeeded + failed); None until something completed
    avg_latency_ms: float | None
    p95_latency_ms: int | None
    circuit: str = Endpoint.Circuit.CLOSED
    consecutive_failures: int = 0


def endpoint_stats(*, endpoint: Endpoint) -> EndpointStats:
    """Counts and latencies over all its deliveries: the live rows, plus the rollups of purged ones.

    Aggregated in the database (no rows are loaded to count them). Latencies are `Attempt.duration_ms`
    of successful attempts. p95 is the nearest-rank percentile: the ceil(0.95 n)-th smallest duration,
    fetched as a single row with OFFSET while nothing was purged; once rollups exist it is read from
    their histograms plus the live durations (exact below 1 s, 3 significant digits above).
    """
    counts = Delivery.objects.filter(endpoint=endpoint).aggregate(
        total=Count("id"),
        succeeded=Count("id", filter=Q(status=Delivery.Status.SUCCEEDED)),
        failed=Count("id", filter=Q(status=Delivery.Status.FAILED)),
        pending=Count("id", filter=Q(status=Delivery.Status.PENDING)),
    )
    ok_attempts = Attempt.objects.filter(delivery__endpoint=endpoint, succeeded=True)
    latency = ok_attempts.aggregate(n=Count("id"), total_ms=Sum("duration_ms"))
    n, total_ms = latency["n"], latency["total_ms"] or 0
    rollups = rollups_in(endpoint_ids=[endpoint.pk])
    rolled = rollups.aggregate(succeeded=Sum("succeeded"), failed=Sum("failed"), n=Sum("ok_attempts"),
                               total_ms=Sum("ok_duration_ms"))
    p95 = None
    if rolled["n"] is not None:  # something was purged
        counts["succeeded"] += rolled["succeeded"]
        counts["failed"] += rolled["failed"]
        counts["total"] += rolled["succeeded"] + rolled["failed"]
        n, total_ms = n + rolled["n"], total_ms + rolled["total_ms"]
        histogram = merge_histograms(rollups.values_list("ok_latencies", flat=True))
        for duration, count in ok_attempts.values_list("duration_ms").annotate(count=Count("id")).order_by():
            histogram[latency_key(duration)] += count
        p95 = nearest_rank(histogram, 95)
    elif n:
        rank = math.ceil(0.95 * n)
        p95 = ok_attempts.order_by("duration_ms").values_list("duration_ms", flat=True)[rank - 1]
    completed = counts["succeeded"] + counts["failed"]
    return EndpointStats(
        **counts,
        success_rate=round(counts["succeeded"] / completed, 4) if completed else None,
        avg_latency_ms=round(total_ms / n, 1) if n else None,
        p95_latency_ms=p95,
        circuit=endpoint.circuit,
        consecutive_failures=endpoint.consecutive_failures,
    )


def endpoint_success_rates(*, endpoint_ids: list[int]) -> dict[int, float | None]:
    """Success rate per endpoint in one grouped query (the admin's list column)."""
    rows = (
        Delivery.objects.filter(endpoint_id__in=endpoint_ids)
        .values("endpoint_id")
        .annotate(
            ok=Count("id", filter=Q(status=Delivery.Status.SUCCEEDED)),
            bad=Count("id", filter=Q(status=Delivery.Status.FAILED)),
        )
    )
    return {r["endpoint_id"]: (r["ok"] / (r["ok"] + r["bad"]) if r["ok"] + r["bad"] else None) for r in rows}
