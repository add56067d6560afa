"""Event types the streams app emits (docs/streams.md, "Events out"), each with an example `data` payload."""

from webhooks.registry import register_event_type

_SESSION_EXAMPLE = {
    "session_id": "stream_abc123",
    "platform": "twitch",
    "dj_username": "djunohoo",
    "title": "Deep House Vibes",
    "status": "live",
    "started_at": "2026-11-22T20:00:00.000Z",
    "ended_at": None,
    "duration_seconds": None,
    "current_viewers": 127,
    "peak_viewers": 127,
}

register_event_type(
    "stream.live",
    description="A stream session started (sent once, at its first start).",
    example=_SESSION_EXAMPLE,
)
register_event_type(
    "stream.updated",
    description="A live session's title, DJ or viewer figures changed (stream-assistant `stream_update`).",
    example={**_SESSION_EXAMPLE, "current_viewers": 154, "peak_viewers": 161},
)
register_event_type(
    "stream.offline",
    description="A stream session ended, with its duration and peak viewers.",
    example={**_SESSION_EXAMPLE, "status": "offline", "ended_at": "2026-11-22T21:00:00.000Z",
             "duration_seconds": 3600, "current_viewers": 0, "peak_viewers": 189},
)
register_event_type(
    "stream.error",
    description="The platform reported an error on a stream.",
    example={"session_id": "stream_abc123", "error_code": "ENCODER_ERROR",
             "error_message": "Encoder disconnected unexpectedly", "at": "2026-11-22T20:30:00.000Z"},
)
register_event_type(
    "viewer.joined",
    description="A viewer joined a stream.",
    example={"session_id": "stream_abc123", "viewer_id": "viewer_def456", "viewer_count": 125,
             "at": "2026-11-22T20:05:00.000Z"},
)
register_event_type(
    "viewer.count.update",
    description="A stream's viewer count was sampled.",
    example={"session_id": "stream_abc123", "viewer_count": 128, "change": 3, "peak_viewers": 140,
             "at": "2026-11-22T20:05:30.000Z"},
)
register_event_type(
    "chat.message.new",
    description="A viewer posted a chat message.",
    example={"session_id": "stream_abc123", "message_id": "msg_jkl012", "user_id": "user_456",
             "user_name": "GamerPro", "message": "Great stream!", "created_at": "2026-11-22T20:10:00.000Z"},
)
register_event_type(
    "chat.interaction",
    description="The stream assistant's bot posted to chat; with the audience's reaction and the track playing.",
    example={"id": 42, "session_id": "stream_abc123", "at": "2026-11-22T20:30:15.000Z",
             "message_sent": "Liquid DnB detected! Notice those smooth jazz influences...",
             "engagement_type": "educational", "audience_reaction": "positive", "response_count": 8,
             "emoji_reactions": {"🌊": 5, "🔥": 3}, "track_id": 7},
)
register_event_type(
    "track.classified",
    description="A new track was detected in a stream and classified (genre, subgenre, characteristics).",
    example={"id": 7, "session_id": "stream_abc123", "played_at": "2026-11-22T20:30:00.000Z",
             "artist": "LTJ Bukem", "title": "Music", "bpm": 174.0, "key": "A minor",
             "main_genre": "drum and bass", "subgenre": "liquid dnb", "confidence": 0.96,
             "characteristics": ["atmospheric", "jazzy", "melodic"], "viewers_at_play": 127},
)
