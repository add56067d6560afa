"""`/api/v1/event-types`: the event types an integrator's application declares, scoped to its tenant.

Looked up by name (`/api/v1/event-types/match.found`); another tenant's names answer 404.
Writes go through `webhooks/catalogue.py`, which checks names, schemas and examples.
"""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from accounts.scoping import TenantScopedMixin
from core.openapi import error_response
from webhooks import catalogue
from webhooks.models import EventType
from webhooks.serializers import DeclaredEventTypeChangeSerializer, DeclaredEventTypeSerializer

MATCH_FOUND = {
    "name": "match.found", "description": "A query video matched a known one.",
    "schema": {"type": "object", "required": ["match_id", "confidence"],
               "properties": {"match_id": {"type": "integer"}, "query_video_id": {"type": "string"},
                              "matched_video_id": {"type": "string"},
                              "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                              "segment_start": {"type": "number"}, "segment_end": {"type": "number"}}},
    "example": {"match_id": 42, "query_video_id": "dQw4w9WgXcQ", "matched_video_id": "9bZkp7q19f0",
                "confidence": 0.95, "segment_start": 30.5, "segment_end": 45.2},
}
OUT = {**MATCH_FOUND, "created_at": "2026-11-22T10:00:00Z", "updated_at": "2026-11-22T10:00:00Z"}
NOT_FOUND = error_response("No such declared event type for your tenant.",
                           {"detail": "No EventType matches the given query."}, 404)
INVALID = error_response("A field is invalid; each invalid field is named.",
                         {"name": ["stream.live is a built-in event type; declare a name of your own."],
                          "example": ["Does not match the schema: $.confidence: 'high' is not of type 'number'"]})


@extend_schema(tags=["event-types"])
@extend_schema_view(
    list=extend_schema(summary="List the event types your tenant declared"),
    retrieve=extend_schema(summary="Get one declared event type", responses={200: DeclaredEventTypeSerializer,
                                                                              404: NOT_FOUND}),
    destroy=extend_schema(
        summary="Delete a declared event type",
        description="Events already sent keep their type in the history; the type can no longer be emitted, "
                    "test-sent or newly subscribed to.",
        responses={204: None, 404: NOT_FOUND},
    ),
)
class EventTypeViewSet(
    TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Event types of your own application, beside the built-in catalogue (`GET /api/v1/webhooks/events`)."""

    queryset = EventType.objects.order_by("name")
    serializer_class = DeclaredEventTypeSerializer
    lookup_field = "name"
    lookup_value_regex = r"[a-z0-9_.]+"
    filter_backends: list = []

    @extend_schema(
        summary="Declare an event type",
        description="Then subscribe endpoints to it, test-send it and `emit()` it. With a `schema`, the example and "
                    "every emitted payload must satisfy it.",
        request=DeclaredEventTypeSerializer,
        responses={201: DeclaredEventTypeSerializer, 400: INVALID,
                   409: error_response("The name is declared already.",
                                       {"name": ["match.found is declared already."]}, 409)},
        examples=[OpenApiExample("match.found", value=MATCH_FOUND, request_only=True),
                  OpenApiExample("declared", value=OUT, response_only=True, status_codes=["201"])],
    )
    def create(self, request, *args, **kwargs):
        serializer = DeclaredEventTypeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event_type = catalogue.event_type_create(tenant=self.tenant, **serializer.validated_data)
        return Response(DeclaredEventTypeSerializer(event_type).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Replace a declared event type's description, schema and example",
                   request=DeclaredEventTypeChangeSerializer,
                   responses={200: DeclaredEventTypeSerializer, 400: INVALID, 404: NOT_FOUND})
    def update(self, request, *args, **kwargs):
        return self._update(request, partial=False)

    @extend_schema(summary="Change some of a declared event type's description, schema and example",
                   request=DeclaredEventTypeChangeSerializer,
                   responses={200: DeclaredEventTypeSerializer, 400: INVALID, 404: NOT_FOUND})
    def partial_update(self, request, *args, **kwargs):
        return self._update(request, partial=True)

    def _update(self, request, *, partial: bool) -> Response:
        event_type = self.get_object()
        serializer = DeclaredEventTypeChangeSerializer(event_type, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        catalogue.event_type_update(event_type=event_type, **serializer.validated_data)
        return Response(DeclaredEventTypeSerializer(event_type).data)

    def perform_destroy(self, instance):
        catalogue.event_type_delete(event_type=instance)
