"""Query parameters in, response shapes out (the out-serializers document the OpenAPI schema)."""

from rest_framework import serializers

from analytics.selectors import BUCKET_SIZE, BUCKETS, EARLIEST, LATEST, MAX_BUCKETS, default_window


class WindowParams(serializers.Serializer):
    """`since`/`until` within the years 1-9999 (a day's margin keeps day and hour arithmetic in range).

    `default_days` set: a missing bound defaults (`until` to now, `since` to that many days
    before it), and the validated data carries the window actually used.
    """

    since = serializers.DateTimeField(required=False, help_text="Inclusive lower bound (ISO 8601).")
    until = serializers.DateTimeField(required=False, help_text="Exclusive upper bound (ISO 8601).")
    default_days: int | None = None

    def _in_range(self, value):
        if not EARLIEST <= value <= LATEST:
            raise serializers.ValidationError(
                f"must be between {EARLIEST.date().isoformat()} and {LATEST.date().isoformat()}")
        return value

    validate_since = validate_until = _in_range

    def validate(self, attrs):
        since, until = attrs.get("since"), attrs.get("until")
        if self.default_days is not None:
            since, until = default_window(since, until, days=self.default_days)
            attrs = {**attrs, "since": since, "until": until}
        if since and until and since >= until:
            if "since" not in self.initial_data:  # only `until` was given, before the earliest default
                raise serializers.ValidationError({"until": [f"must be later than {EARLIEST.date().isoformat()}"]})
            if "until" in self.initial_data:
                raise serializers.ValidationError({"until": ["must be later than since"]})
            raise serializers.ValidationError({"since": ["must be earlier than until (now, when not given)"]})
        return attrs


class GenreTrendsParams(WindowParams):
    platform = serializers.CharField(required=False, max_length=50, help_text="Session platform, exactly.")
    dj = serializers.CharField(required=False, max_length=200, help_text="DJ username, exactly.")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=1000,
                                     help_text="At most this many rows (1-1000), most played first.")
    characteristics = serializers.IntegerField(
        required=False, min_value=1, max_value=100, default=10,
        help_text="How many of the most frequent characteristics each row lists (1-100, default 10).")


class BucketedParams(WindowParams):
    """A window cut into `bucket`s; at most MAX_BUCKETS of them, so a response stays small."""

    bucket = serializers.ChoiceField(choices=BUCKETS, required=False, default="day")

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if (attrs["until"] - attrs["since"]) / BUCKET_SIZE[attrs["bucket"]] > MAX_BUCKETS:
            raise serializers.ValidationError({"bucket": [f"more than {MAX_BUCKETS} buckets; widen the bucket"]})
        return attrs


class DeliveryHealthParams(BucketedParams):
    default_days = 7


class EngagementParams(BucketedParams):
    default_days = 30
    platform = serializers.CharField(required=False, max_length=50, help_text="Session platform, exactly.")
    dj = serializers.CharField(required=False, max_length=200, help_text="DJ username, exactly.")


# --- responses (schema only: the selectors build plain dicts) -----------------------------


class GenreTrendSerializer(serializers.Serializer):
    main_genre = serializers.CharField()
    subgenre = serializers.CharField()
    total_plays = serializers.IntegerField()
    total_engagement = serializers.IntegerField(help_text="Sum of response_count of chat linked to these plays.")
    average_confidence = serializers.FloatField(allow_null=True, help_text="Mean confidence, 4 decimals.")
    popular_characteristics = serializers.DictField(child=serializers.IntegerField(),
                                                    help_text="Plays per characteristic, the most frequent "
                                                              "first (top 10 unless `characteristics` says).")


class GenreTrendsSerializer(serializers.Serializer):
    trends = GenreTrendSerializer(many=True)


class SessionTotalsSerializer(serializers.Serializer):
    session_id = serializers.CharField()
    dj_username = serializers.CharField()
    platform = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    total_tracks = serializers.IntegerField()
    total_interactions = serializers.IntegerField()
    total_responses = serializers.IntegerField(help_text="Sum of response_count of the bot's chat interactions.")
    peak_viewers = serializers.IntegerField()
    duration_seconds = serializers.IntegerField(
        allow_null=True, help_text="Reported, else end - start; a live session: up to the latest event heard.")
    average_viewers = serializers.FloatField(allow_null=True, help_text="Time-weighted, from the first sample.")
    viewer_minutes = serializers.FloatField()
    chat_messages = serializers.IntegerField()
    unique_chatters = serializers.IntegerField()
    messages_per_minute = serializers.FloatField(allow_null=True)
    peak_chat_minute = serializers.DictField(allow_null=True, help_text='{"minute": ISO time, "messages": n}')


class GenreCountSerializer(serializers.Serializer):
    main_genre = serializers.CharField()
    subgenre = serializers.CharField()
    count = serializers.IntegerField()


class InteractionStatSerializer(serializers.Serializer):
    type = serializers.CharField()
    count = serializers.IntegerField()
    avg_response = serializers.FloatField(allow_null=True)


class ViewerPointSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    viewers = serializers.IntegerField()


class ChatMinuteSerializer(serializers.Serializer):
    minute = serializers.DateTimeField()
    messages = serializers.IntegerField()
    interactions = serializers.IntegerField()
    responses = serializers.IntegerField()


class SessionTrackSerializer(serializers.Serializer):
    position = serializers.IntegerField(help_text="1-based order of play in the session.")
    played_at = serializers.DateTimeField()
    artist = serializers.CharField()
    title = serializers.CharField()
    main_genre = serializers.CharField()
    subgenre = serializers.CharField()
    confidence = serializers.FloatField(allow_null=True)
    interactions = serializers.IntegerField()
    engagement = serializers.IntegerField()
    viewers_start = serializers.IntegerField(allow_null=True)
    viewers_end = serializers.IntegerField(allow_null=True)
    viewer_change = serializers.IntegerField(allow_null=True)


class SessionSummarySerializer(serializers.Serializer):
    session = SessionTotalsSerializer()
    genre_breakdown = GenreCountSerializer(many=True)
    interaction_stats = InteractionStatSerializer(many=True)
    viewer_timeline = ViewerPointSerializer(many=True)
    chat_timeline = ChatMinuteSerializer(many=True)
    tracks = SessionTrackSerializer(many=True)
    top_tracks = SessionTrackSerializer(many=True)


class BucketPointSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    plays = serializers.IntegerField()
    engagement = serializers.IntegerField()


class SubgenreEngagementSerializer(serializers.Serializer):
    main_genre = serializers.CharField()
    subgenre = serializers.CharField()
    plays = serializers.IntegerField()
    engagement = serializers.IntegerField()
    series = BucketPointSerializer(many=True)


class CharacteristicEngagementSerializer(serializers.Serializer):
    name = serializers.CharField()
    plays = serializers.IntegerField()
    engagement = serializers.IntegerField()
    series = BucketPointSerializer(many=True)


class EngagementSerializer(serializers.Serializer):
    bucket = serializers.CharField()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    subgenres = SubgenreEngagementSerializer(many=True)
    characteristics = CharacteristicEngagementSerializer(many=True)


class DeliveryCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    pending = serializers.IntegerField()


class LatencySerializer(serializers.Serializer):
    p50 = serializers.IntegerField(allow_null=True)
    p95 = serializers.IntegerField(allow_null=True)
    max = serializers.IntegerField(allow_null=True)


class FailureBucketSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    by_status = serializers.DictField(child=serializers.IntegerField(), help_text='HTTP status or "error".')


class EndpointHealthSerializer(serializers.Serializer):
    endpoint_id = serializers.IntegerField()
    url = serializers.URLField()
    description = serializers.CharField()
    is_active = serializers.BooleanField()
    deliveries = DeliveryCountsSerializer()
    success_rate = serializers.FloatField(allow_null=True, help_text="succeeded / (succeeded + failed), 4 decimals.")
    attempts = serializers.IntegerField()
    latency_ms = LatencySerializer(help_text="Nearest-rank percentiles of attempt durations.")
    failures_by_status = serializers.DictField(child=serializers.IntegerField())
    failures = FailureBucketSerializer(many=True)


class DeliveryHealthSerializer(serializers.Serializer):
    bucket = serializers.CharField()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    endpoints = EndpointHealthSerializer(many=True)
