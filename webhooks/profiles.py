"""Endpoint profiles: presets that make a known receiver work with one field, `"profile": "realcast"`.

A profile is a template (webhooks/templates.py) plus the signature scheme, signature header,
envelope style and retry schedule that receiver expects. Choosing a profile writes the last four
into the endpoint's own fields, except those the same request sets explicitly, so the endpoint
shows what is really sent and each field can still be changed on its own. The template is not
copied: while the endpoint's `template` is null the profile's applies, so an endpoint follows
the profile as it improves; an explicit `template` replaces it.
"""

from dataclasses import dataclass, field

REALCAST = "realcast"
AUDIO_FRONTEND = "audio-frontend"
PRESET_FIELDS = ("signature_scheme", "signature_header", "payload_style", "retry_schedule")

_STREAM_ID = {"stream_id": "session_id"}
_RECORDING = {
    "recording_id": "recording_id",
    "stream_id": "stream_id",
    # RealCast's own recordings carry their CDN link; the recorder's carry per-file links instead.
    "cdn_url": "files.cdn || files.video || values(files)[0]",
    "duration": "duration_seconds",
    "file_size": "file_size_bytes || round(multiply(total_size_mb, `1048576`))",
}

# The data fields of RealCast's webhook guide, computed from what our stream and recording events carry.
REALCAST_TEMPLATE = {
    "stream.live": {
        **_STREAM_ID,
        # RealCast's app is the account the webhooks belong to: here, the tenant.
        "app_id": "context('tenant')",
        "title": "title",
        "streamer_id": "dj_username",
        "started_at": "started_at",
    },
    "stream.offline": {**_STREAM_ID, "duration": "duration_seconds", "peak_viewers": "peak_viewers",
                       "ended_at": "ended_at"},
    "stream.error": {**_STREAM_ID, "error_code": "error_code", "error_message": "error_message"},
    "viewer.joined": {**_STREAM_ID, "viewer_id": "viewer_id", "viewer_count": "viewer_count"},
    "viewer.count.update": {**_STREAM_ID, "viewer_count": "viewer_count", "change": "change"},
    "recording.started": {"recording_id": "recording_id", "stream_id": "stream_id"},
    "recording.ready": _RECORDING,
    "recording.updated": _RECORDING,
    "chat.message.new": {**_STREAM_ID, "message_id": "message_id", "user_id": "user_id", "user_name": "user_name",
                         "message": "message", "created_at": "created_at"},
    # Types RealCast doesn't have keep all their fields, with the stream named the RealCast way.
    "stream.updated": "merge(@, {stream_id: session_id})",
    "chat.interaction": "merge(@, {stream_id: session_id})",
    "track.classified": "merge(@, {stream_id: session_id})",
}

# The audio frontend's `{type: "audio_level" | "listening_status", data}` with exactly the fields it reads.
AUDIO_FRONTEND_TEMPLATE = {
    "audio.level": {"audioLevel": "audioLevel", "timestamp": "timestamp", "sessionId": "sessionId"},
    "listening.status": {"isListening": "isListening", "sessionId": "sessionId", "status": "status"},
}


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    template: dict
    signature_scheme: str = "standard"
    signature_header: str = "X-Webhook-Signature"
    payload_style: str = "standard"
    retry_schedule: list[int] | None = field(default=None)

    def preset(self) -> dict:
        """The endpoint fields this profile sets."""
        return {name: getattr(self, name) for name in PRESET_FIELDS}


PROFILES = {
    REALCAST: Profile(
        name=REALCAST,
        description="RealCast's webhook receivers: its data fields (stream_id, app_id, cdn_url, ...), "
                    "X-RealCast-Signature: sha256=<hex>, the `event` envelope, retries at 1 s, 5 s and 25 s.",
        template=REALCAST_TEMPLATE, signature_scheme="hmac-sha256-hex", signature_header="X-RealCast-Signature",
        payload_style="event", retry_schedule=[1, 5, 25],
    ),
    AUDIO_FRONTEND: Profile(
        name=AUDIO_FRONTEND,
        description="The audio frontend's receiver: {type: \"audio_level\" | \"listening_status\", data} with "
                    "audioLevel, timestamp, sessionId / isListening, sessionId, status.",
        template=AUDIO_FRONTEND_TEMPLATE, payload_style="underscore", retry_schedule=[1, 5],
    ),
}
CHOICES = [(name, name) for name in PROFILES]


def profile_preset(name: str | None) -> dict:
    """The fields profile `name` writes into an endpoint ({} for none)."""
    return PROFILES[name].preset() if name else {}


def effective_template(*, template: dict | None, profile: str | None) -> dict | None:
    """The template that shapes an endpoint's data: its own, else its profile's, else none."""
    if template is not None:
        return template
    return PROFILES[profile].template if profile in PROFILES else None
