"""Event types the audio app emits (docs/audio.md, "Events")."""

from webhooks.registry import register_event_type

register_event_type(
    "listening.status",
    description="Listening started or stopped (or the input failed) for a listening session.",
    example={"isListening": True, "sessionId": "3f2c1a9e-8a43-4c55-b7f3-0c1c2b7d9a10", "status": "active"},
)
register_event_type(
    "audio.level",
    description="The microphone level, ten times a second while listening (ephemeral: latest value wins).",
    example={"audioLevel": 61.7, "timestamp": "2026-11-22T10:00:00.100Z",
             "sessionId": "3f2c1a9e-8a43-4c55-b7f3-0c1c2b7d9a10", "rmsDbfs": -23.01, "peakDbfs": -20.0,
             "clip": False},
    durable=False,
)
