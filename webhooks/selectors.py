"""Reads on subscriptions and deliveries: tenant-scoped querysets and statistics."""

import math
import time
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Avg, Count, Prefetch, Q, QuerySet

from accounts.models import Tenant
from webhooks.models import Attempt, Delivery, Endpoint


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
    """Exact counts and latencies, aggregated in the database (no rows are loaded to count them).

    Latencies are `Attempt.duration_ms` of successful attempts. p95 is the nearest-rank
    percentile: the ceil(0.95 n)-th smallest duration, fetched as a single row with OFFSET.
    """
    counts = Delivery.objects.filter(endpoint=endpoint).aggregate(
        total=Count("id"),
        succeeded=Count("id", filter=Q(status=Delivery.Status.SUCCEEDED)),
        failed=Count("id", filter=Q(status=Delivery.Status.FAILED)),
        pending=Count("id", filter=Q(status=Delivery.Status.PENDING)),
    )
    ok_attempts = Attempt.objects.filter(delivery__endpoint=endpoint, succeeded=True)
    latency = ok_attempts.aggregate(n=Count("id"), avg=Avg("duration_ms"))
    p95 = None
    if latency["n"]:
        rank = math.ceil(0.95 * latency["n"])
        p95 = ok_attempts.order_by("duration_ms").values_list("duration_ms", flat=True)[rank - 1]
    completed = counts["succeeded"] + counts["failed"]
    return EndpointStats(
        **counts,
        success_rate=round(counts["succeeded"] / completed, 4) if completed else None,
        avg_latency_ms=round(latency["avg"], 1) if latency["avg"] is not None else None,
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
