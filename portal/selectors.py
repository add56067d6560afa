"""Reads the portal's pages need beyond `webhooks.selectors`: health per endpoint, one page of the
delivery log, the live tail, what an attempt sent, and the tenant's members.

Every function takes the tenant and filters by it first, so a page cannot show another tenant's rows.
"""

import math
from dataclasses import dataclass

from django.db.models import Case, Count, OuterRef, QuerySet, Subquery, Value, When
from genson import SchemaBuilder

from accounts.models import Membership, Tenant
from webhooks import payloads, selectors
from webhooks.inbound.models import InboundMessage, InboundSource
from webhooks.models import Attempt, Delivery, Endpoint
from webhooks.registry import EventType, all_event_types

PAGE_SIZE = 50
TAIL_SIZE = 30
LATENCY_WINDOW = 1000


@dataclass(frozen=True)
class EndpointHealth:
    endpoint: Endpoint
    success_rate: float | None
    last_status_code: int | None
    last_delivery_status: str | None
    circuit: str | None  # "closed" / "open" / "half-open" once the delivery engine keeps one


def endpoint_health_list(*, tenant: Tenant) -> list[EndpointHealth]:
    """The tenant's live endpoints with their success rate and their latest delivery's outcome."""
    latest = Delivery.objects.filter(endpoint=OuterRef("pk")).order_by("-created_at", "-id")
    endpoints = list(
        selectors.endpoint_list(tenant=tenant)
        .annotate(last_code=Subquery(latest.values("last_status_code")[:1]),
                  last_status=Subquery(latest.values("status")[:1]))
        .order_by("-created_at", "-id")
    )
    rates = selectors.endpoint_success_rates(endpoint_ids=[e.pk for e in endpoints])
    return [
        EndpointHealth(endpoint=e, success_rate=rates.get(e.pk), last_status_code=e.last_code,
                       last_delivery_status=e.last_status, circuit=getattr(e, "circuit", None))
        for e in endpoints
    ]


@dataclass(frozen=True)
class Latency:
    samples: int
    avg_ms: float | None
    p95_ms: int | None


def endpoint_recent_latency(*, endpoint: Endpoint, window: int = LATENCY_WINDOW) -> Latency:
    """Latency of the endpoint's last `window` successful deliveries: what it is now, read in time
    bounded by the window (`endpoint_stats`' exact figures over all history grow with it)."""
    recent = (Delivery.objects.filter(endpoint=endpoint, status=Delivery.Status.SUCCEEDED)
              .order_by("-created_at", "-id").values("pk")[:window])
    durations = sorted(Attempt.objects.filter(delivery__in=Subquery(recent), succeeded=True)
                       .values_list("duration_ms", flat=True))
    if not durations:
        return Latency(samples=0, avg_ms=None, p95_ms=None)
    rank = math.ceil(0.95 * len(durations))  # nearest rank, as endpoint_stats
    return Latency(samples=len(durations), avg_ms=round(sum(durations) / len(durations), 1),
                   p95_ms=durations[rank - 1])


@dataclass(frozen=True)
class EndpointSummary:
    total: int
    succeeded: int
    failed: int
    pending: int
    success_rate: float | None  # succeeded / (succeeded + failed), as the API's stats
    latency: Latency


def endpoint_summary(*, endpoint: Endpoint) -> EndpointSummary:
    """Exact counts by status (an index-only count) and the recent latency."""
    counts = dict.fromkeys(Delivery.Status.values, 0)
    for row in Delivery.objects.filter(endpoint=endpoint).values("status").annotate(n=Count("id")).order_by():
        counts[row["status"]] = row["n"]
    completed = counts["succeeded"] + counts["failed"]
    return EndpointSummary(
        total=sum(counts.values()), succeeded=counts["succeeded"], failed=counts["failed"],
        pending=counts["pending"], success_rate=counts["succeeded"] / completed if completed else None,
        latency=endpoint_recent_latency(endpoint=endpoint),
    )


def endpoint_get(*, tenant: Tenant, endpoint_id: int) -> Endpoint:
    """A live endpoint of this tenant; raises Endpoint.DoesNotExist otherwise (another tenant's too)."""
    return selectors.endpoint_list(tenant=tenant).get(pk=endpoint_id)


@dataclass(frozen=True)
class DeliveryPage:
    deliveries: list[Delivery]
    number: int
    has_next: bool


def delivery_log_page(*, queryset: QuerySet[Delivery], number: int) -> DeliveryPage:
    """One page of a filtered delivery log, newest first. No COUNT(*): a tenant with millions of
    deliveries pays for the rows it sees, and one extra row says whether another page follows."""
    start = (number - 1) * PAGE_SIZE
    rows = list(queryset.select_related("event", "endpoint").order_by("-created_at", "-id")
                [start:start + PAGE_SIZE + 1])
    return DeliveryPage(deliveries=rows[:PAGE_SIZE], number=number, has_next=len(rows) > PAGE_SIZE)


def delivery_log(*, tenant: Tenant) -> QuerySet[Delivery]:
    """Every delivery of the tenant, deleted endpoints' included (they stay for the history)."""
    return Delivery.objects.filter(tenant=tenant)


def delivery_get(*, tenant: Tenant, delivery_id: int) -> Delivery:
    return (Delivery.objects.select_related("event", "endpoint")
            .prefetch_related("attempts").get(tenant=tenant, pk=delivery_id))


@dataclass(frozen=True)
class AttemptView:
    attempt: Attempt
    request_body: str
    request_body_rebuilt: bool  # True when the attempt predates stored bodies and the body was rebuilt


def attempt_views(*, delivery: Delivery) -> list[AttemptView]:
    """Each attempt with the body it sent: stored, or rebuilt from the event the way the engine builds it."""
    rebuilt = None
    views = []
    for attempt in sorted(delivery.attempts.all(), key=lambda a: a.number):
        if attempt.request_body:
            views.append(AttemptView(attempt=attempt, request_body=attempt.request_body, request_body_rebuilt=False))
            continue
        if rebuilt is None:
            rebuilt = payloads.body_for(event=delivery.event, endpoint=delivery.endpoint).decode()
        views.append(AttemptView(attempt=attempt, request_body=rebuilt, request_body_rebuilt=True))
    return views


def attempt_tail(*, tenant: Tenant, after_id: int = 0) -> list[Attempt]:
    """The tenant's latest attempts, newest first (those after `after_id` only, when given)."""
    qs = Attempt.objects.filter(delivery__tenant=tenant).select_related("delivery__event")
    if after_id:
        qs = qs.filter(pk__gt=after_id)
    return list(qs.defer("response_body", "request_body", "request_headers", "response_headers")
                .order_by("-id")[:TAIL_SIZE])


@dataclass(frozen=True)
class CatalogueEntry:
    event_type: EventType
    schema: dict


def event_catalogue() -> list[CatalogueEntry]:
    """Every registered type with a JSON Schema of its `data`, inferred from the example (the registry
    keeps examples, not schemas)."""
    entries = []
    for event_type in all_event_types():
        builder = SchemaBuilder()
        builder.add_object(event_type.example)
        entries.append(CatalogueEntry(event_type=event_type, schema=builder.to_schema()))
    return entries


def source_list(*, tenant: Tenant) -> QuerySet[InboundSource]:
    return InboundSource.objects.filter(tenant=tenant, deleted_at__isnull=True).order_by("name", "id")


def source_get(*, tenant: Tenant, source_id: int) -> InboundSource:
    return source_list(tenant=tenant).get(pk=source_id)


def source_messages(*, source: InboundSource, limit: int = PAGE_SIZE) -> list[InboundMessage]:
    return list(InboundMessage.objects.filter(tenant=source.tenant_id, source=source)
                .defer("body", "traceback").order_by("-received_at", "-id")[:limit])


def message_get(*, tenant: Tenant, message_id: int) -> InboundMessage:
    return InboundMessage.objects.select_related("source").get(tenant=tenant, pk=message_id)



def member_list(*, tenant: Tenant) -> QuerySet[Membership]:
    """The tenant's memberships, owners first, then in the order people joined."""
    rank = {Membership.Role.OWNER: 0, Membership.Role.ADMIN: 1, Membership.Role.MEMBER: 2}
    return (Membership.objects.filter(tenant=tenant).select_related("user")
            .alias(rank=Case(*(When(role=role, then=Value(n)) for role, n in rank.items()), default=Value(3)))
            .order_by("rank", "created_at", "id"))


def member_get(*, tenant: Tenant, member_id: int) -> Membership:
    """One membership of this tenant; raises Membership.DoesNotExist otherwise (another tenant's too)."""
    return Membership.objects.select_related("user").get(tenant=tenant, pk=member_id)
