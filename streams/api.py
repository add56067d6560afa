"""The read API: sessions, tracks and chat of the caller's tenant, filtered and paginated."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from accounts.scoping import TenantScopedMixin
from streams.filters import ChatInteractionFilter, ChatMessageFilter, StreamSessionFilter, TrackPlayFilter
from streams.models import ChatInteraction, ChatMessage, StreamSession, TrackPlay
from streams.serializers import (
    ChatInteractionSerializer,
    ChatMessageSerializer,
    StreamSessionSerializer,
    TrackPlaySerializer,
)


@extend_schema_view(
    list=extend_schema(summary="Stream sessions", tags=["streams"]),
    retrieve=extend_schema(summary="One stream session, by its session id", tags=["streams"]),
)
class StreamSessionViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    queryset = StreamSession.objects.all()
    serializer_class = StreamSessionSerializer
    filterset_class = StreamSessionFilter
    lookup_field = "session_id"
    lookup_value_regex = "[^/\\x00]+"  # any session id; NUL can't be in one (PostgreSQL refuses it)
    ordering_fields = ["started_at", "ended_at", "peak_viewers", "last_event_at"]


@extend_schema_view(
    list=extend_schema(summary="Tracks played", tags=["streams"]),
    retrieve=extend_schema(summary="One track play", tags=["streams"]),
)
class TrackPlayViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    queryset = TrackPlay.objects.select_related("session")
    serializer_class = TrackPlaySerializer
    filterset_class = TrackPlayFilter
    ordering_fields = ["played_at", "bpm", "confidence", "viewers_at_play"]


@extend_schema_view(
    list=extend_schema(summary="The bot's chat interactions", tags=["streams"]),
    retrieve=extend_schema(summary="One chat interaction", tags=["streams"]),
)
class ChatInteractionViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    queryset = ChatInteraction.objects.select_related("session")
    serializer_class = ChatInteractionSerializer
    filterset_class = ChatInteractionFilter
    ordering_fields = ["at", "response_count"]


@extend_schema_view(
    list=extend_schema(summary="Viewers' chat messages", tags=["streams"]),
    retrieve=extend_schema(summary="One chat message", tags=["streams"]),
)
class ChatMessageViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    queryset = ChatMessage.objects.select_related("session")
    serializer_class = ChatMessageSerializer
    filterset_class = ChatMessageFilter
    ordering_fields = ["created_at"]
