"""The recorder's path, documented from its payload's serializer."""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers

from recordings.inbound import RecorderWebhook
from webhooks.inbound.openapi import KEY_AUTH, sender_errors
from webhooks.inbound.views import InboundView

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
_ANSWER = inline_serializer("RecorderWebhookAnswer", {
    "status": serializers.CharField(), "message": serializers.CharField(), "recording_id": serializers.JSONField(),
    "pk": serializers.IntegerField(), "action": serializers.ChoiceField(["created", "updated"]),
})


@extend_schema_view(post=extend_schema(
    operation_id="recorder_webhook", tags=["senders"], auth=[], request=RecorderWebhook,
    summary="The recorder reports a recording (upsert)",
    description="Creates or updates the tenant's recording with this `recording_id` and emits "
                "`recording.ready` (created) or `recording.updated`. " + KEY_AUTH,
    examples=[OpenApiExample("Recording uploaded", value=RECORDER_EXAMPLE, request_only=True)],
    responses={201: _ANSWER, 200: _ANSWER, **sender_errors(400, 401, 403, 404, 409, 413, 422, 429)},
))
class RecorderWebhookView(InboundView):
    handler, kinds, serializer_class = "recordings.webhook", frozenset({"recorder"}), RecorderWebhook
