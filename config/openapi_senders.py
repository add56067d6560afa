"""The webhook senders' endpoints in the OpenAPI schema.

They are plain Django views on a lean handler (config/senders.py), which drf-spectacular can't see;
these documentation-only DRF views describe them, with the seeds' own examples
(`config/tests/test_openapi.py` posts each example to the real endpoint and checks the answer the
schema promises). The request bodies are the serializers the endpoints validate with where there is
one (seed 000, seed 004's envelope); seed 003's recorder payload is parsed by hand
(`recordings/inbound.py`), so its shape is spelled out here.
"""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.views import APIView

from streams import inbound

KEY_AUTH = (
    "Authenticated with the inbound source's key (`/api/v1/inbound-sources`): `X-API-Key: <key>` or "
    "`Authorization: Bearer <key>`; a source with signing secrets also needs its signature. Sources of "
    "another kind get 403. Senders that can't send a header use the source's URL instead (its `url` field): "
    "the same path under it, with no key (`{url}/recordings/webhook/`). Every answer is JSON; a malformed "
    "request gets a 4xx naming what is wrong, "
    "never a 500. Without a sender message id (`Idempotency-Key`, `Webhook-Id`) each request is handled."
)
_ERROR = inline_serializer("SenderError", {"status": serializers.CharField(), "message": serializers.CharField()})


def _errors(*codes: int) -> dict:
    text = {400: "Invalid JSON, or missing or wrong fields (named in `message`/`errors`)",
            401: "No key, an unknown key, or a bad or stale signature",
            403: "A source of another kind", 404: "No such user (seed 003) or source",
            409: "The recording belongs to another user", 413: "Body over the size cap (1 MiB by default)",
            422: "Valid, but processing failed; the message is stored and can be replayed",
            429: "Over the source's rate limit; `Retry-After` says when to come back"}
    return {code: OpenApiResponse(_ERROR, description=text[code]) for code in codes}


RECORDER_EXAMPLE = {
    "recording_id": 3, "title": "Meeting 2025-10-24 21:55", "created_at": "2025-10-25 01:55:59.374860",
    "duration_seconds": 77, "duration_database": 77,
    "user_info": {"username": "souvik", "email": "souvik@fyelabs.com"},
    "file_info": {"total_size_mb": 0.51,
                  "individual_sizes_mb": {"video.mkv": 0.5, "thumbnail.jpg": 0.01, "transcript.txt": 0.0}},
    "uploaded_files": {"video": "https://s3.us-west-1.idrivee2.com/fyemeet/3/video.mkv",
                       "thumbnail": "https://s3.us-west-1.idrivee2.com/fyemeet/3/thumbnail.jpg"},
    "upload_timestamp": "2025-10-24T21:57:22.775114", "upload_source": "background_thread",
    "bucket_name": "fyemeet", "region": "us-west-1",
}
_RECORDER_IN = inline_serializer("RecorderWebhook", {
    "recording_id": serializers.CharField(help_text="Integer or string; with the tenant, the upsert's key."),
    "title": serializers.CharField(required=False),
    "created_at": serializers.CharField(required=False, help_text="'2025-10-25 01:55:59.374860' or ISO 8601; UTC "
                                                                  "without an offset."),
    "duration_seconds": serializers.FloatField(required=False),
    "duration_database": serializers.FloatField(required=False),
    "user_info": inline_serializer("RecorderUserInfo", {
        "email": serializers.EmailField(help_text="Matched case-insensitively among the tenant's members."),
        "username": serializers.CharField(required=False)}),
    "file_info": inline_serializer("RecorderFileInfo", {
        "total_size_mb": serializers.FloatField(required=False),
        "individual_sizes_mb": serializers.DictField(child=serializers.FloatField(), required=False)},
        required=False),
    "uploaded_files": serializers.DictField(child=serializers.URLField(), required=False),
    "upload_timestamp": serializers.CharField(required=False),
    "upload_source": serializers.CharField(required=False),
    "bucket_name": serializers.CharField(required=False),
    "region": serializers.CharField(required=False),
})
_RECORDER_OUT = inline_serializer("RecorderWebhookAnswer", {
    "status": serializers.CharField(), "message": serializers.CharField(), "recording_id": serializers.JSONField(),
    "pk": serializers.IntegerField(), "action": serializers.ChoiceField(["created", "updated"]),
})


class RecorderWebhookDoc(APIView):
    @extend_schema(
        operation_id="recorder_webhook", tags=["senders"], auth=[], request=_RECORDER_IN,
        summary="Seed 003: a recorder reports a recording (upsert)",
        description="Creates or updates the tenant's recording with this `recording_id` and emits "
                    "`recording.ready` (created) or `recording.updated`. " + KEY_AUTH,
        examples=[OpenApiExample("seed 003", value=RECORDER_EXAMPLE, request_only=True)],
        responses={201: _RECORDER_OUT, 200: _RECORDER_OUT, **_errors(400, 401, 403, 404, 409, 413, 422, 429)},
    )
    def post(self, request):  # pragma: no cover - documentation only, never routed
        raise NotImplementedError


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
def _answer(name: str, **ids) -> serializers.Serializer:
    return inline_serializer(name, {"status": serializers.CharField(), "session_id": serializers.CharField(), **ids})


def _assistant_doc(name: str, operation_id: str, summary: str, request, example: dict, emits: str,
                   answer) -> type[APIView]:
    """A documentation-only view for one of seed 000's endpoints (they differ only in these)."""

    @extend_schema(
        operation_id=operation_id, tags=["senders"], auth=[], request=request, summary=summary,
        description=f"Emits {emits}. " + KEY_AUTH,
        examples=[OpenApiExample("seed 000", value=example, request_only=True)],
        responses={201: answer, **_errors(400, 401, 403, 413, 422, 429)},
    )
    def post(self, request):  # pragma: no cover - documentation only, never routed
        raise NotImplementedError

    return type(name, (APIView,), {"post": post, "__module__": __name__})


TrackClassifiedDoc = _assistant_doc(
    "TrackClassifiedDoc", "assistant_track_classified", "Seed 000: the DJ assistant classified the track playing",
    inbound.TrackClassified, TRACK_EXAMPLE, "`track.classified` (and `stream.live` for a new session)",
    _answer("TrackClassifiedAnswer", track_play_id=serializers.IntegerField()))
ChatInteractionDoc = _assistant_doc(
    "ChatInteractionDoc", "assistant_chat_interaction", "Seed 000: the DJ assistant's bot spoke in chat",
    inbound.ChatInteractionIn, CHAT_EXAMPLE, "`chat.interaction`",
    _answer("ChatInteractionAnswer", chat_interaction_id=serializers.IntegerField(),
            track_play_id=serializers.IntegerField(allow_null=True)))
StreamStatsDoc = _assistant_doc(
    "StreamStatsDoc", "assistant_stream_stats", "Seed 000: stream start, update or end",
    inbound.StreamStats, STATS_EXAMPLE, "`stream.live`, `stream.updated` or `stream.offline`",
    _answer("StreamStatsAnswer", stream_session_id=serializers.IntegerField(), session_status=serializers.CharField()))


REALCAST_EXAMPLE = {"event": "viewer.count.update", "timestamp": "2024-12-09T10:05:30Z",
                    "data": {"stream_id": "stream_123", "viewer_count": 150, "change": 5}}


class RealCastDoc(APIView):
    @extend_schema(
        operation_id="realcast_webhook", tags=["senders"], auth=[], request=inbound.RealCastEnvelope,
        summary="Seed 004: a RealCast event",
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
        examples=[OpenApiExample("seed 004", value=REALCAST_EXAMPLE, request_only=True)],
        responses={200: inline_serializer("RealCastAccepted", {"status": serializers.CharField(),
                                                                "id": serializers.IntegerField()}),
                   **_errors(400, 401, 413, 429)},
    )
    def post(self, request, source_id):  # pragma: no cover
        raise NotImplementedError


# (path as printed, its regex, the view): added to the schema by config.openapi.with_senders.
SENDER_ENDPOINTS = [
    ("/recordings/webhook/", r"^recordings/webhook/?$", RecorderWebhookDoc),
    ("/api/webhook/track-classified", r"^api/webhook/track-classified$", TrackClassifiedDoc),
    ("/api/webhook/chat-interaction", r"^api/webhook/chat-interaction$", ChatInteractionDoc),
    ("/api/webhook/stream-stats", r"^api/webhook/stream-stats$", StreamStatsDoc),
    ("/webhooks/realcast/{source_id}", r"^webhooks/realcast/(?P<source_id>[^/]+)$", RealCastDoc),
]
