"""The DJ stream assistant's three paths and RealCast's, each documented from its payload's serializer."""

from datetime import datetime

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers

from streams import inbound
from streams.handlers import realcast_check_on_receipt
from webhooks.inbound.openapi import KEY_AUTH, sender_errors
from webhooks.inbound.views import InboundView

TRACK_EXAMPLE = {
    "timestamp": "2025-10-24T21:55:00Z",
    "dj_stream": {"twitch_username": "dj_shadow", "stream_title": "Deep House Vibes", "viewer_count": 142,
                  "platform": "twitch"},
    "track_data": {"artist": "Bonobo", "title": "Kerala", "bpm": 122, "key": "A minor",
                   "classification": {"main_genre": "electronic", "subgenre": "downtempo", "confidence": 0.92,
                                      "characteristics": ["atmospheric", "melodic"]}},
    "session_id": "stream_20251024_2155",
    "event_type": "track_start",
}
CHAT_EXAMPLE = {
    "timestamp": "2025-10-24T21:56:10Z",
    "dj_stream": {"twitch_username": "dj_shadow", "viewer_count": 150},
    "chat_interaction": {"message_sent": "This is Kerala by Bonobo!", "engagement_type": "track_info",
                         "audience_reaction": "positive", "response_count": 4, "emoji_reactions": {"🔥": 3}},
    "session_id": "stream_20251024_2155",
    "event_type": "chat_message",
}
STATS_EXAMPLE = {
    "timestamp": "2025-10-24T21:55:00Z",
    "dj_stream": {"twitch_username": "dj_shadow", "stream_title": "Deep House Vibes", "viewer_count": 120,
                  "platform": "twitch"},
    "session_id": "stream_20251024_2155",
    "event_type": "stream_start",
}
REALCAST_EXAMPLE = {"event": "viewer.count.update", "timestamp": "2024-12-09T10:05:30Z",
                    "data": {"stream_id": "stream_123", "viewer_count": 150, "change": 5}}

ASSISTANT = frozenset({"stream-assistant"})


def _answer(name: str, **ids) -> serializers.Serializer:
    return inline_serializer(name, {"status": serializers.CharField(), "session_id": serializers.CharField(), **ids})


def _assistant_schema(operation_id: str, summary: str, request, example_name: str, example: dict, emits: str,
                      answer):
    """The DJ stream assistant's endpoints differ in these only."""
    return extend_schema_view(post=extend_schema(
        operation_id=operation_id, tags=["senders"], auth=[], request=request, summary=summary,
        description=f"Emits {emits}. " + KEY_AUTH,
        examples=[OpenApiExample(example_name, value=example, request_only=True)],
        responses={201: answer, **sender_errors(400, 401, 403, 413, 422, 429)},
    ))


@_assistant_schema(
    "assistant_track_classified", "The DJ stream assistant classified the track playing", inbound.TrackClassified,
    "Track start", TRACK_EXAMPLE, "`track.classified` (and `stream.live` for a new session)",
    _answer("TrackClassifiedAnswer", track_play_id=serializers.IntegerField()))
class TrackClassifiedView(InboundView):
    handler, kinds, serializer_class = "streams.track_classified", ASSISTANT, inbound.TrackClassified


@_assistant_schema(
    "assistant_chat_interaction", "The DJ stream assistant's bot spoke in chat", inbound.ChatInteractionIn,
    "Chat message", CHAT_EXAMPLE, "`chat.interaction`",
    _answer("ChatInteractionAnswer", chat_interaction_id=serializers.IntegerField(),
            track_play_id=serializers.IntegerField(allow_null=True)))
class ChatInteractionView(InboundView):
    handler, kinds, serializer_class = "streams.chat_interaction", ASSISTANT, inbound.ChatInteractionIn


@_assistant_schema(
    "assistant_stream_stats", "The DJ stream assistant's stream start, update or end", inbound.StreamStats,
    "Stream start", STATS_EXAMPLE, "`stream.live`, `stream.updated` or `stream.offline`",
    _answer("StreamStatsAnswer", stream_session_id=serializers.IntegerField(),
            session_status=serializers.CharField()))
class StreamStatsView(InboundView):
    handler, kinds, serializer_class = "streams.stream_stats", ASSISTANT, inbound.StreamStats


@extend_schema_view(post=extend_schema(
    operation_id="realcast_webhook", tags=["senders"], auth=[],
    request=PolymorphicProxySerializer(component_name="RealCastEvent", serializers=inbound.REALCAST_EVENTS,
                                       resource_type_field_name="event"),
    summary="A RealCast event",
    description=(
        "`stream.live`, `stream.offline`, `stream.error`, `viewer.joined`, `viewer.count.update`, "
        "`recording.started`, `recording.ready`, `chat.message.new`. Authenticated by "
        "`X-RealCast-Signature: sha256=<hex HMAC-SHA256 of the raw body with the source's secret>` "
        "alone; de-duplicated by `X-RealCast-Webhook-Id` (a repeat answers 200 and is not processed "
        "again). Acknowledged at once; a Celery worker processes it."
    ),
    parameters=[
        OpenApiParameter("source_id", int, OpenApiParameter.PATH, description="The realcast source's id."),
        OpenApiParameter("X-RealCast-Signature", str, OpenApiParameter.HEADER, required=True),
        OpenApiParameter("X-RealCast-Webhook-Id", str, OpenApiParameter.HEADER,
                         description="RealCast always sends it; a request without one is handled each time."),
    ],
    examples=[OpenApiExample("Viewer count update", value=REALCAST_EXAMPLE, request_only=True)],
    responses={200: inline_serializer("RealCastAccepted", {"status": serializers.CharField(),
                                                            "id": serializers.IntegerField()}),
               **sender_errors(400, 401, 413, 429)},
))
class RealCastView(InboundView):
    """The URL pasted into RealCast's dashboard: the signature alone authenticates."""

    handler, kinds, serializer_class = "streams.realcast", frozenset({"realcast"}), inbound.RealCastEnvelope
    auth, asynchronous, source_from_url = "signature", True, True

    def check_on_receipt(self, payload: dict, received_at: datetime) -> None:
        realcast_check_on_receipt(payload, received_at)
