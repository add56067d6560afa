"""The subscription API (`/api/v1/webhooks`, `/api/v1/deliveries`): parse, authorise, call a service, render.

Every queryset is scoped to the caller's tenant by `TenantScopedMixin`, and deleted endpoints
are left out of it, so another tenant's ids (or a deleted endpoint's) answer 404.
"""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from accounts.scoping import TenantScopedMixin
from core.crypto import reveal
from core.filters import DATETIME_PARAM, refuse_empty_values
from core.openapi import error_response
from core.pagination import StandardPagination
from webhooks import payloads, profiles, selectors, services
from webhooks.catalogue import catalogue_list
from webhooks.filters import DeliveryFilter, EndpointFilter
from webhooks.models import Delivery, Endpoint, Event
from webhooks.serializers import (
    CatalogueQuerySerializer,
    DeliverySerializer,
    EndpointCreatedSerializer,
    EndpointSerializer,
    EndpointStatsSerializer,
    EventTypeSerializer,
    ProfileSerializer,
    RecoveredSerializer,
    RecoverInputSerializer,
    RedeliveredSerializer,
    SecretSerializer,
    TestSendInputSerializer,
    TestSentSerializer,
)

ENDPOINT_EXAMPLE = {
    "url": "https://example.com/hooks", "description": "", "events": ["stream.live"], "is_active": True,
    "signature_scheme": "standard", "signature_header": "X-Webhook-Signature", "payload_style": "standard",
    "retry_schedule": None, "rate_limit": None, "max_in_flight": None, "profile": None, "template": None,
    "headers": {},
}
# One field makes a receiver written from RealCast's guide work: the profile sets the rest.
REALCAST_EXAMPLE = {
    "url": "https://example.com/webhooks/realcast", "events": ["stream.live", "stream.offline", "viewer.joined"],
    "profile": "realcast",
}
TEMPLATE_EXAMPLE = {
    "url": "https://example.com/hooks", "events": ["stream.live"], "headers": {"Authorization": "Bearer abc123"},
    "template": {"stream.live": {"id": "session_id", "dj": "dj_username", "source": "'streamhook'",
                                 "live_since": "started_at"}},
}
ENDPOINT_OUT = {
    "id": 1, **ENDPOINT_EXAMPLE, "circuit": "closed", "created_at": "2026-11-22T10:00:00Z",
    "updated_at": "2026-11-22T10:00:00Z",
    "disabled_reason": "", "disabled_at": None,
}
SECRET_EXAMPLE = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
DELIVERY_OUT = {
    "id": 42, "event_id": "msg_01JD7X9G2B4C8XKQ3M5N6P7R8S", "event_type": "stream.live", "endpoint_id": 1,
    "status": "succeeded", "attempt_count": 2, "next_attempt_at": None, "last_status_code": 200, "last_error": "",
    "created_at": "2026-11-22T10:00:00Z", "completed_at": "2026-11-22T10:00:05Z",
    "attempts": [
        {"number": 1, "started_at": "2026-11-22T10:00:00Z", "duration_ms": 120, "url": "https://example.com/hooks",
         "request_headers": {"webhook-id": "msg_01JD7X9G2B4C8XKQ3M5N6P7R8S", "webhook-signature": "v1,g0hM9SsE…"},
         "status_code": 503, "response_body": "busy", "error": "", "succeeded": False},
        {"number": 2, "started_at": "2026-11-22T10:00:05Z", "duration_ms": 85, "url": "https://example.com/hooks",
         "request_headers": {"webhook-id": "msg_01JD7X9G2B4C8XKQ3M5N6P7R8S", "webhook-signature": "v1,g0hM9SsE…"},
         "status_code": 200, "response_body": "OK", "error": "", "succeeded": True},
    ],
}


NOT_FOUND = error_response("No such endpoint for your tenant.", {"detail": "No Endpoint matches the given query."}, 404)
DELIVERY_NOT_FOUND = error_response("No such delivery for your tenant.",
                                    {"detail": "No Delivery matches the given query."}, 404)
INVALID_FIELD = error_response("A field is invalid; each invalid field is named.",
                               {"url": ["host 'intranet.example.net' resolves to a private address 10.0.0.7; "
                                        "webhooks are sent only to public addresses"],
                                "events": ["Unknown event type(s): stream.liev. ..."]})
TEST_INVALID = error_response("`event_type` is unknown, or the endpoint is disabled.",
                              {"event_type": ["Unknown event type 'no.such'. See GET /api/v1/webhooks/events."]})
FILTER_INVALID = error_response("A filter is invalid.",
                                {"status": ["Select a valid choice. lost is not one of the available choices."]})
SINCE_INVALID = error_response("`since` is missing or invalid, or the endpoint is disabled.",
                               {"since": ["This field is required."]})
ENDPOINT_PARAM_INVALID = error_response("`endpoint` is not an id.",
                                        {"endpoint": ["A valid integer is required."]})
DISABLED = error_response("The endpoint is disabled or deleted.",
                          {"is_active": ["The endpoint is disabled; enable it before redelivering."]})


@extend_schema(tags=["webhooks"])
@extend_schema_view(
    list=extend_schema(summary="List your webhook endpoints", responses=EndpointSerializer(many=True)),
    retrieve=extend_schema(summary="Get one webhook endpoint", responses={200: EndpointSerializer, 404: NOT_FOUND},
                           examples=[OpenApiExample("endpoint", value=ENDPOINT_OUT, response_only=True)]),
    destroy=extend_schema(
        summary="Delete a webhook endpoint",
        description="Nothing is sent to it any more; its deliveries and attempts are kept for the history.",
        responses={204: None, 404: NOT_FOUND},
    ),
)
class EndpointViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Webhook subscriptions: where to send which events, signed how."""

    queryset = Endpoint.objects.filter(deleted_at__isnull=True).order_by("-created_at", "-id")
    serializer_class = EndpointSerializer
    # Members read and operate (test sends, recovery); changing endpoints and their secrets is for admins,
    # and creating one answers its secret.
    admin_actions = {"secret"}
    member_actions = {"test", "recover"}
    lookup_value_regex = r"\d+"
    filterset_class = EndpointFilter

    @extend_schema(
        summary="Create a webhook endpoint",
        description="The response is the only one besides `GET /{id}/secret` that shows the signing secret.",
        request=EndpointSerializer,
        responses={201: EndpointCreatedSerializer, 400: INVALID_FIELD},
        examples=[
            OpenApiExample("Standard Webhooks receiver", value=ENDPOINT_EXAMPLE, request_only=True),
            OpenApiExample("RealCast receiver (a profile)", value=REALCAST_EXAMPLE, request_only=True),
            OpenApiExample("Own data shape and a header", value=TEMPLATE_EXAMPLE, request_only=True),
            OpenApiExample("created", value={**ENDPOINT_OUT, "secret": SECRET_EXAMPLE}, response_only=True,
                           status_codes=["201"]),
        ],
    )
    def create(self, request, *args, **kwargs):
        serializer = EndpointSerializer(data=request.data, context={"tenant": self.tenant})
        serializer.is_valid(raise_exception=True)
        endpoint = services.endpoint_create(tenant=self.tenant, **serializer.validated_data)
        return Response(EndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Replace a webhook endpoint's settings", request=EndpointSerializer,
                   responses={200: EndpointSerializer, 400: INVALID_FIELD,
                              404: NOT_FOUND})
    def update(self, request, *args, **kwargs):
        return self._update(request, partial=False)

    @extend_schema(summary="Change some of a webhook endpoint's settings", request=EndpointSerializer,
                   responses={200: EndpointSerializer, 400: INVALID_FIELD,
                              404: NOT_FOUND},
                   examples=[OpenApiExample("pause", value={"is_active": False}, request_only=True),
                             OpenApiExample("subscribe to more", value={"events": ["stream.live", "stream.offline"]},
                                            request_only=True)])
    def partial_update(self, request, *args, **kwargs):
        return self._update(request, partial=True)

    def _update(self, request, *, partial: bool) -> Response:
        endpoint = self.get_object()
        serializer = EndpointSerializer(endpoint, data=request.data, partial=partial, context={"tenant": self.tenant})
        serializer.is_valid(raise_exception=True)
        services.endpoint_update(endpoint=endpoint, **serializer.validated_data)
        return Response(EndpointSerializer(endpoint).data)

    def perform_destroy(self, instance):
        services.endpoint_delete(endpoint=instance)

    @extend_schema(
        summary="The event-type catalogue",
        description="Every type you can subscribe to: the built-in ones, then those your tenant declared "
                    "(`/api/v1/event-types`), each with a description, its JSON Schema if declared with one, and an "
                    "example `data` payload. An endpoint's `events` takes these names or prefix wildcards such as "
                    "`recording.*`; `[]` subscribes to every type. With `?endpoint=<id>` each entry also shows the "
                    "body that endpoint receives for the example (`delivered`: its envelope, template or profile "
                    "applied).",
        parameters=[CatalogueQuerySerializer],
        responses={200: EventTypeSerializer(many=True), 400: ENDPOINT_PARAM_INVALID, 404: NOT_FOUND},
        # drf-spectacular wraps list examples itself: one item here is shown as `[item]`.
        examples=[OpenApiExample("catalogue entry", response_only=True, value={
            "name": "stream.live", "description": "A stream session started (sent once, at its first start).",
            "durable": True, "declared": False, "schema": None,
            "example": {"session_id": "stream_abc123", "dj_username": "djunohoo", "title": "Deep House Vibes"},
            "delivered": {"event": "stream.live", "timestamp": "2026-11-22T10:00:00.000Z",
                          "data": {"stream_id": "stream_abc123", "app_id": "acme", "title": "Deep House Vibes",
                                   "streamer_id": "djunohoo", "started_at": "2026-11-22T20:00:00.000Z"}}})],
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def events(self, request):
        query = CatalogueQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        endpoint = None
        if "endpoint" in query.validated_data:
            endpoint = self.get_queryset().filter(pk=query.validated_data["endpoint"]).first()
            if endpoint is None:  # unknown and another tenant's alike, as for every id in the API
                raise NotFound("No such endpoint for your tenant.")
        entries = []
        for t in catalogue_list(tenant=self.tenant):
            entry = {"name": t.name, "description": t.description, "durable": t.durable, "declared": t.declared,
                     "schema": t.schema, "example": t.example}
            if endpoint is not None:
                event = Event(id="msg_example", tenant=endpoint.tenant, type=t.name, data=t.example,
                              created_at=endpoint.updated_at)
                entry["delivered"] = payloads.delivered_payload(event=event, endpoint=endpoint)
            entries.append(entry)
        return Response(EventTypeSerializer(entries, many=True).data)

    @extend_schema(
        summary="The endpoint profiles",
        description="Presets for known receivers: `\"profile\": \"realcast\"` on an endpoint sets these fields "
                    "(unless the same request sets them) and, while its `template` is null, shapes `data` with this "
                    "template.",
        responses=ProfileSerializer(many=True),
        examples=[OpenApiExample("realcast", response_only=True, value={
            "name": "realcast", "description": "RealCast's webhook receivers: ...",
            "signature_scheme": "hmac-sha256-hex", "signature_header": "X-RealCast-Signature",
            "payload_style": "event", "retry_schedule": [1, 5, 25],
            "template": {"stream.live": {"stream_id": "session_id", "app_id": "context('tenant')"}}})],
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def profiles(self, request):
        return Response(ProfileSerializer(list(profiles.PROFILES.values()), many=True).data)

    @extend_schema(
        summary="Send a test event to this endpoint",
        description="Sends one event of `event_type` (default `webhook.test`) with the catalogue's example "
                    "payload, to this endpoint only, through the normal signed delivery path.",
        request=TestSendInputSerializer,
        responses={202: TestSentSerializer, 400: TEST_INVALID,
                   404: NOT_FOUND},
        examples=[
            OpenApiExample("stream.live", value={"event_type": "stream.live"}, request_only=True),
            OpenApiExample("queued", value={"delivery_id": 42, "event_id": "msg_01JD7X9G2B4C8XKQ3M5N6P7R8S"},
                           response_only=True, status_codes=["202"]),
        ],
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        endpoint = self.get_object()
        serializer = TestSendInputSerializer(data=request.data, context={"tenant": self.tenant})
        serializer.is_valid(raise_exception=True)
        sent = services.endpoint_send_test(endpoint=endpoint, event_type=serializer.validated_data["event_type"])
        return Response({"delivery_id": sent.delivery.pk, "event_id": sent.event.pk}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="This endpoint's deliveries, newest first, each with its attempts",
        parameters=[
            OpenApiParameter("status", str, enum=[c for c, _ in Delivery.Status.choices]),
            OpenApiParameter("event_type", str, description="e.g. `stream.live`"),
            OpenApiParameter("since", DATETIME_PARAM, description="Created at or after (ISO 8601)."),
            OpenApiParameter("until", DATETIME_PARAM, description="Created before (ISO 8601)."),
            OpenApiParameter("page", {"type": "integer", "minimum": 1}),
            OpenApiParameter("page_size", {"type": "integer", "minimum": 1},
                             description=f"At most {StandardPagination.max_page_size} are returned."),
        ],
        responses={200: DeliverySerializer(many=True), 400: FILTER_INVALID,
                   404: NOT_FOUND},
        examples=[OpenApiExample("delivery", response_only=True, value=DELIVERY_OUT)],  # paginated by spectacular
        filters=False,
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def deliveries(self, request, pk=None):
        endpoint = self.get_object()
        filterset = DeliveryFilter(request.query_params, queryset=selectors.delivery_list(endpoint=endpoint))
        refuse_empty_values(filterset, request.query_params)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        page = self.paginate_queryset(filterset.qs)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(
        summary="Delivery statistics of this endpoint",
        description="Exact counts over all its deliveries, purged ones included (docs/retention.md); latencies are "
                    "those of successful attempts. `total = succeeded + failed + pending`.",
        responses={200: EndpointStatsSerializer, 404: NOT_FOUND},
        examples=[OpenApiExample("stats", response_only=True, value={
            "total": 120, "succeeded": 110, "failed": 6, "pending": 4, "success_rate": 0.9483,
            "avg_latency_ms": 84.2, "p95_latency_ms": 210, "circuit": "closed", "consecutive_failures": 0})],
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def stats(self, request, pk=None):
        stats = selectors.endpoint_stats(endpoint=self.get_object())
        return Response(EndpointStatsSerializer(stats).data)

    @extend_schema(summary="The current signing secret", responses={200: SecretSerializer, 404: NOT_FOUND},
                   examples=[OpenApiExample("secret", value={"secret": SECRET_EXAMPLE}, response_only=True)])
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def secret(self, request, pk=None):
        return Response({"secret": reveal(self.get_object().secret)})

    @extend_schema(
        summary="Rotate the signing secret",
        description="Returns the new secret. For 24 h deliveries carry signatures made with both the new and "
                    "the old secret (`standard` scheme), so receivers can switch without losing events.",
        request=None,
        responses={200: SecretSerializer, 404: NOT_FOUND},
        examples=[OpenApiExample("rotated", value={"secret": SECRET_EXAMPLE}, response_only=True)],
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        return Response({"secret": services.endpoint_rotate_secret(endpoint=self.get_object())})

    @extend_schema(
        summary="Re-send everything that failed since a time",
        request=RecoverInputSerializer,
        responses={202: RecoveredSerializer, 400: SINCE_INVALID,
                   404: NOT_FOUND},
        examples=[
            OpenApiExample("since", value={"since": "2026-11-22T00:00:00Z"}, request_only=True),
            OpenApiExample("queued", value={"redelivered": 17}, response_only=True, status_codes=["202"]),
        ],
    )
    @action(detail=True, methods=["post"])
    def recover(self, request, pk=None):
        endpoint = self.get_object()
        serializer = RecoverInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        count = services.endpoint_recover(endpoint=endpoint, since=serializer.validated_data["since"])
        return Response({"redelivered": count}, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["deliveries"])
@extend_schema_view(
    retrieve=extend_schema(summary="Get one delivery with its attempts",
                           responses={200: DeliverySerializer, 404: DELIVERY_NOT_FOUND},
                           examples=[OpenApiExample("delivery", value=DELIVERY_OUT, response_only=True)]),
)
class DeliveryViewSet(TenantScopedMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Deliveries of your tenant's live endpoints."""

    queryset = selectors.delivery_list().filter(endpoint__deleted_at__isnull=True)
    serializer_class = DeliverySerializer
    lookup_value_regex = r"\d+"
    filter_backends: list = []
    member_actions = {"redeliver"}

    @extend_schema(
        summary="Send a delivery again",
        description="Queues the same event (same `webhook-id`) for this endpoint again, whatever its state.",
        request=None,
        responses={202: RedeliveredSerializer, 400: DISABLED, 404: DELIVERY_NOT_FOUND},
        examples=[OpenApiExample("queued", value={"delivery_id": 42, "status": "pending"}, response_only=True,
                                 status_codes=["202"])],
    )
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        delivery = services.delivery_redeliver(delivery=self.get_object())
        return Response({"delivery_id": delivery.pk, "status": delivery.status}, status=status.HTTP_202_ACCEPTED)
