"""Output serializers of the read API (`/api/v1/streams`, `/tracks`, `/chat-messages`, `/chat-interactions`)."""

from rest_framework import serializers

from streams.models import ChatInteraction, ChatMessage, StreamSession, TrackPlay


class StreamSessionSerializer(serializers.ModelSerializer):
    class Meta:
        model = StreamSession
        fields = [
            "session_id", "platform", "dj_username", "title", "status", "started_at", "ended_at",
            "duration_seconds", "current_viewers", "peak_viewers", "last_event_at", "created_at", "updated_at",
        ]
        read_only_fields = fields


class _InSession(serializers.ModelSerializer):
    session_id = serializers.CharField(source="session.session_id", read_only=True)


class TrackPlaySerializer(_InSession):
    class Meta:
        model = TrackPlay
        fields = [
            "id", "session_id", "played_at", "artist", "title", "bpm", "key", "main_genre", "subgenre",
            "confidence", "characteristics", "viewers_at_play", "created_at",
        ]
        read_only_fields = fields


class ChatInteractionSerializer(_InSession):
    track_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = ChatInteraction
        fields = [
            "id", "session_id", "at", "message_sent", "engagement_type", "audience_reaction", "response_count",
            "emoji_reactions", "track_id", "created_at",
        ]
        read_only_fields = fields


class ChatMessageSerializer(_InSession):
    class Meta:
        model = ChatMessage
        fields = ["id", "session_id", "message_id", "user_id", "user_name", "message", "created_at"]
        read_only_fields = fields
