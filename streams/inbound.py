"""Validation of what senders post: the DJ stream assistant's three payloads and RealCast's events.

Input serializers only check shapes and types; an error names each bad field
(`{"track_data": {"artist": ["This field is required."]}}`). The handlers call services, and the
OpenAPI schema reads these same serializers (streams/views.py).
"""

import math

from rest_framework import serializers

from streams.services import StreamInfo


class Text(serializers.CharField):
    def __init__(self, max_length: int, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(max_length=max_length, **kwargs)

    def to_internal_value(self, data):
        # DRF's CharField would quietly turn 42 or true into text.
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _is_number(data) -> bool:
    # JSON numbers only: not true/false, not "12", not 1e999 (which Python reads as infinity).
    return not isinstance(data, bool) and isinstance(data, int | float) and math.isfinite(data)


class StrictInt(serializers.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_value", 2**31 - 1)  # the columns are 32-bit integers
        kwargs.setdefault("min_value", -(2**31))
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not _is_number(data) or data != int(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloat(serializers.FloatField):
    def to_internal_value(self, data):
        if not _is_number(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class DjStream(serializers.Serializer):
    twitch_username = Text(200)
    stream_title = Text(500)
    viewer_count = StrictInt(min_value=0, required=False, allow_null=True)
    platform = Text(50)


def stream_info(validated: dict) -> StreamInfo:
    """The service's view of a validated payload's `dj_stream` (absent keys stay None: "not said")."""
    dj = validated.get("dj_stream") or {}
    return StreamInfo(platform=dj.get("platform"), dj_username=dj.get("twitch_username"),
                      title=dj.get("stream_title"), viewer_count=dj.get("viewer_count"))


class _Envelope(serializers.Serializer):
    timestamp = serializers.DateTimeField()
    session_id = Text(200, required=True, allow_blank=False)
    dj_stream = DjStream(required=False, allow_null=True)


class Classification(serializers.Serializer):
    main_genre = Text(100)
    subgenre = Text(100)
    confidence = StrictFloat(required=False, allow_null=True, min_value=0, max_value=1)
    characteristics = serializers.ListField(child=Text(100, required=True), required=False, max_length=100)


class TrackData(serializers.Serializer):
    artist = Text(300, required=True, allow_blank=False)
    title = Text(300, required=True, allow_blank=False)
    bpm = StrictFloat(required=False, allow_null=True, min_value=0, max_value=1000)
    key = Text(50, allow_null=True)
    classification = Classification(required=False, allow_null=True)


class TrackClassified(_Envelope):
    event_type = serializers.ChoiceField(choices=["track_start"])
    track_data = TrackData()


class EmojiReactions(serializers.DictField):
    """`{"🌊": 5, "🔥": 3}`: the values are counts, and the keys are text too (stored in JSON)."""

    child = StrictInt(min_value=0)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            if len(data) > 200:
                raise serializers.ValidationError("Ensure there are no more than 200 emoji.")
            key_field = Text(64, allow_blank=False)
            for key in data:
                try:
                    key_field.run_validation(key)
                except serializers.ValidationError as exc:
                    # ascii(): the key itself may be what can't be shown (a lone surrogate).
                    raise serializers.ValidationError(f"Emoji {ascii(key)[:40]}: {exc.detail[0]}") from None
        return super().to_internal_value(data)


class ChatInteractionData(serializers.Serializer):
    message_sent = Text(5000, required=True)
    engagement_type = Text(50)
    audience_reaction = Text(50)
    response_count = StrictInt(min_value=0, required=False, allow_null=True)
    emoji_reactions = EmojiReactions(required=False, allow_null=True)


class ChatInteractionIn(_Envelope):
    event_type = serializers.ChoiceField(choices=["chat_message"])
    chat_interaction = ChatInteractionData()


class StreamStats(_Envelope):
    event_type = serializers.ChoiceField(choices=["stream_start", "stream_update", "stream_end"])


# --- RealCast ------------------------------------------------------------------------


class RealCastEnvelope(serializers.Serializer):
    """Any RealCast event: what an event Streamhook doesn't process must still be."""

    event = Text(100, required=True, allow_blank=False)
    timestamp = serializers.DateTimeField()
    data = serializers.DictField()


class _RealCastData(serializers.Serializer):
    stream_id = Text(200, required=True, allow_blank=False)


class StreamLiveData(_RealCastData):
    title = Text(500)
    streamer_id = Text(200)
    app_id = Text(200)
    started_at = serializers.DateTimeField(required=False, allow_null=True)


class StreamOfflineData(_RealCastData):
    duration = StrictInt(min_value=0, max_value=10 * 365 * 86400, required=False, allow_null=True)
    peak_viewers = StrictInt(min_value=0, required=False, allow_null=True)
    ended_at = serializers.DateTimeField(required=False, allow_null=True)


class StreamErrorData(_RealCastData):
    error_code = Text(100)
    error_message = Text(5000)


class ViewerJoinedData(_RealCastData):
    viewer_id = Text(200, required=True)
    viewer_count = StrictInt(min_value=0)


class ViewerCountUpdateData(_RealCastData):
    viewer_count = StrictInt(min_value=0)
    change = StrictInt(required=False, allow_null=True)


class ChatMessageNewData(_RealCastData):
    message_id = Text(200, required=True, allow_blank=False)
    user_id = Text(200)
    user_name = Text(200)
    message = Text(10000)
    created_at = serializers.DateTimeField(required=False, allow_null=True)


class Identifier(Text):
    """An id RealCast may send as text or as a number (kept as text)."""

    def __init__(self, max_length: int, **kwargs):
        super().__init__(max_length, required=True, allow_blank=False, trim_whitespace=True, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, int) and not isinstance(data, bool):
            data = str(data)
        return super().to_internal_value(data)


class RecordingData(serializers.Serializer):
    """`recording.started` and `recording.ready`; a ready one usually says where the file is."""

    recording_id = Identifier(100)
    stream_id = Text(200, allow_null=True)
    cdn_url = Text(2000, allow_null=True)
    duration = StrictFloat(min_value=0, max_value=1e18, required=False, allow_null=True)
    file_size = StrictFloat(min_value=0, max_value=1e18, required=False, allow_null=True)


# One serializer per event RealCast sends: the envelope, with that event's `data`.


class StreamLive(RealCastEnvelope):
    event = serializers.ChoiceField(["stream.live"])
    data = StreamLiveData()


class StreamOffline(RealCastEnvelope):
    event = serializers.ChoiceField(["stream.offline"])
    data = StreamOfflineData()


class StreamError(RealCastEnvelope):
    event = serializers.ChoiceField(["stream.error"])
    data = StreamErrorData()


class ViewerJoined(RealCastEnvelope):
    event = serializers.ChoiceField(["viewer.joined"])
    data = ViewerJoinedData()


class ViewerCountUpdate(RealCastEnvelope):
    event = serializers.ChoiceField(["viewer.count.update"])
    data = ViewerCountUpdateData()


class ChatMessageNew(RealCastEnvelope):
    event = serializers.ChoiceField(["chat.message.new"])
    data = ChatMessageNewData()


class RecordingStarted(RealCastEnvelope):
    event = serializers.ChoiceField(["recording.started"])
    data = RecordingData()


class RecordingReady(RealCastEnvelope):
    event = serializers.ChoiceField(["recording.ready"])
    data = RecordingData()


REALCAST_EVENTS: dict[str, type[RealCastEnvelope]] = {
    "stream.live": StreamLive,
    "stream.offline": StreamOffline,
    "stream.error": StreamError,
    "viewer.joined": ViewerJoined,
    "viewer.count.update": ViewerCountUpdate,
    "chat.message.new": ChatMessageNew,
    "recording.started": RecordingStarted,
    "recording.ready": RecordingReady,
}
