"""Event types the recordings app emits (listed in docs/recordings.md), each with an example `data` payload."""

from webhooks.registry import register_event_type

_EXAMPLE = {
    "id": 1,
    "recording_id": "3",
    "origin": "recorder",
    "status": "ready",
    "title": "Meeting 2025-10-24 21:55",
    "user_email": "souvik@fyelabs.com",
    "username": "souvik",
    "stream_id": "",
    "recorded_at": "2025-10-25T01:55:59.374Z",
    "duration_seconds": 77.0,
    "total_size_mb": 0.51,
    "file_size_bytes": None,
    "files": {
        "video": "https://s3.us-west-1.idrivee2.com/fyemeet/3/video.mkv",
        "thumbnail": "https://s3.us-west-1.idrivee2.com/fyemeet/3/thumbnail.jpg",
    },
    "bucket_name": "fyemeet",
    "region": "us-west-1",
}

register_event_type(
    "recording.started",
    description="A recording started (RealCast `recording.started`); its files are not ready yet.",
    example={**_EXAMPLE, "recording_id": "rec_ghi789", "origin": "realcast", "status": "started", "title": "",
             "user_email": None, "username": "", "stream_id": "stream_abc123", "recorded_at": None,
             "duration_seconds": None, "total_size_mb": None, "files": {}, "bucket_name": "", "region": ""},
)
register_event_type(
    "recording.ready",
    description="A recording was uploaded and is ready (recorder webhook create, or RealCast `recording.ready`).",
    example=_EXAMPLE,
)
register_event_type(
    "recording.updated",
    description="A known recording's metadata changed (the recorder posted it again).",
    example={**_EXAMPLE, "duration_seconds": 120.0},
)
