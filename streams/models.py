"""Live streams as senders report them: sessions, viewers, tracks played, chat, errors.

Every table carries its tenant (denormalised) so each query a request makes is a single
indexed filter. Each row that comes from an inbound event has a domain unique key, so a
replayed or duplicated event finds its row instead of adding a second one.
"""

from django.db import models

from accounts.models import Tenant


class StreamSession(models.Model):
    """One stream, keyed by the DJ stream assistant's session id or RealCast's `stream_id`.

    Events may arrive in any order. Each field (or group) remembers the event time that last
    set it (`title_at`, `dj_username_at`, `platform_at`, `status_at`, `viewers_at`), and an older
    event never overwrites a newer one; `started_at` is the earliest time seen, `ended_at` the
    latest end, peaks are maxima.
    """

    class Status(models.TextChoices):
        LIVE = "live", "Live"
        OFFLINE = "offline", "Offline"
        ERROR = "error", "Error"

    # No index of its own: one of the indexes below leads with it (config/tests/test_schema.py).
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="stream_sessions", db_index=False)
    session_id = models.CharField(max_length=200)
    platform = models.CharField(max_length=50, blank=True, default="")
    dj_username = models.CharField(max_length=200, blank=True, default="", help_text="DJ / streamer name or id.")
    title = models.CharField(max_length=500, blank=True, default="")
    # Event time of each of platform/DJ/title, so an older event never overwrites a newer one,
    # whichever arrives first; `details_at` is the newest of them.
    details_at = models.DateTimeField(null=True, blank=True)
    platform_at = models.DateTimeField(null=True, blank=True)
    dj_username_at = models.DateTimeField(null=True, blank=True)
    title_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.LIVE)
    # Time of the status event that set `status`; null while only implied by tracks or chat.
    status_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    current_viewers = models.PositiveIntegerField(default=0)
    viewers_at = models.DateTimeField(null=True, blank=True, help_text="Event time of `current_viewers`.")
    peak_viewers = models.PositiveIntegerField(default=0)
    last_event_at = models.DateTimeField(null=True, blank=True)
    # Set when `stream.live` was emitted, so a replayed start does not announce the stream twice.
    live_announced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "session_id"], name="uniq_stream_session_tenant_sid"),
        ]
        indexes = [
            models.Index(fields=["tenant", "-started_at"], name="session_tenant_started"),
            models.Index(fields=["tenant", "status"], name="session_tenant_status"),
            models.Index(fields=["tenant", "platform"], name="session_tenant_platform"),
            models.Index(fields=["tenant", "dj_username"], name="session_tenant_dj"),
        ]

    def __str__(self) -> str:
        return self.session_id


class ViewerSample(models.Model):
    """A viewer count at a moment: the viewer curve of a session."""

    # No index of their own: the indexes below lead with them (config/tests/test_schema.py).
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    session = models.ForeignKey(StreamSession, on_delete=models.CASCADE, related_name="viewer_samples", db_index=False)
    at = models.DateTimeField()
    viewer_count = models.PositiveIntegerField()

    class Meta:
        ordering = ["session_id", "at"]
        constraints = [models.UniqueConstraint(fields=["session", "at"], name="uniq_viewer_sample_session_at")]
        indexes = [models.Index(fields=["tenant", "at"], name="viewersample_tenant_at")]

    def __str__(self) -> str:
        return f"{self.viewer_count} at {self.at:%H:%M:%S}"


class TrackPlay(models.Model):
    """A track the DJ played, as the stream assistant classified it."""

    # No index of their own: the indexes below lead with them (config/tests/test_schema.py).
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    session = models.ForeignKey(StreamSession, on_delete=models.CASCADE, related_name="tracks", db_index=False)
    played_at = models.DateTimeField()
    artist = models.CharField(max_length=300)
    title = models.CharField(max_length=300)
    bpm = models.FloatField(null=True, blank=True)
    key = models.CharField(max_length=50, blank=True, default="")
    main_genre = models.CharField(max_length=100, blank=True, default="")
    subgenre = models.CharField(max_length=100, blank=True, default="")
    confidence = models.FloatField(null=True, blank=True)
    characteristics = models.JSONField(default=list, blank=True)
    viewers_at_play = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-played_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "played_at", "artist", "title"], name="uniq_trackplay_session_time_track",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "played_at"], name="trackplay_tenant_played"),
            models.Index(fields=["tenant", "main_genre", "subgenre"], name="trackplay_tenant_genre"),
            # (session, played_at) lookups use the unique constraint's index, which leads with them.
        ]

    def __str__(self) -> str:
        return f"{self.artist} - {self.title}"


class ChatInteraction(models.Model):
    """A message the stream assistant's bot posted to chat, and how the audience reacted."""

    # No index of their own: the indexes below lead with them (config/tests/test_schema.py).
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    session = models.ForeignKey(
        StreamSession, on_delete=models.CASCADE, related_name="chat_interactions", db_index=False,
    )
    at = models.DateTimeField()
    message_sent = models.TextField(blank=True, default="")
    # SHA-256 of `message_sent`: the unique key can't index an unbounded text column everywhere.
    message_hash = models.CharField(max_length=64, editable=False)
    engagement_type = models.CharField(max_length=50, blank=True, default="")
    audience_reaction = models.CharField(max_length=50, blank=True, default="")
    response_count = models.PositiveIntegerField(default=0)
    emoji_reactions = models.JSONField(default=dict, blank=True)
    # The track playing at `at` (the latest play at or before it); re-linked when a late track arrives.
    track = models.ForeignKey(
        TrackPlay, null=True, blank=True, on_delete=models.SET_NULL, related_name="chat_interactions",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "at", "message_hash"], name="uniq_chatinteraction_key"),
        ]
        indexes = [
            models.Index(fields=["tenant", "at"], name="chatinter_tenant_at"),
            models.Index(fields=["tenant", "track"], name="chatinter_tenant_track"),
            models.Index(fields=["tenant", "engagement_type"], name="chatinter_tenant_engagement"),
            # (session, at) lookups use the unique constraint's index, which leads with them.
        ]

    def __str__(self) -> str:
        return f"{self.engagement_type or 'chat'} at {self.at:%H:%M:%S}"


class ChatMessage(models.Model):
    """A viewer's chat message (RealCast `chat.message.new`), unique per message id."""

    # No index of their own: the indexes below lead with them (config/tests/test_schema.py).
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    session = models.ForeignKey(StreamSession, on_delete=models.CASCADE, related_name="chat_messages", db_index=False)
    message_id = models.CharField(max_length=200)
    user_id = models.CharField(max_length=200, blank=True, default="")
    user_name = models.CharField(max_length=200, blank=True, default="")
    message = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(help_text="When the viewer sent it.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "message_id"], name="uniq_chatmessage_tenant_msgid"),
        ]
        indexes = [
            models.Index(fields=["tenant", "created_at"], name="chatmsg_tenant_created"),
            models.Index(fields=["session", "created_at"], name="chatmsg_session_created"),
        ]

    def __str__(self) -> str:
        return self.message_id


class StreamError(models.Model):
    """An error the platform reported for a session (`stream.error`)."""

    # No index of their own: the indexes below lead with them (config/tests/test_schema.py).
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    session = models.ForeignKey(StreamSession, on_delete=models.CASCADE, related_name="errors", db_index=False)
    at = models.DateTimeField()
    error_code = models.CharField(max_length=100, blank=True, default="")
    error_message = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "at", "error_code"], name="uniq_streamerror_key"),
        ]
        indexes = [models.Index(fields=["tenant", "at"], name="streamerror_tenant_at")]

    def __str__(self) -> str:
        return f"{self.error_code} at {self.at:%H:%M:%S}"

