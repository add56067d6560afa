import django_filters

from recordings.models import Recording


class RecordingFilter(django_filters.FilterSet):
    user_email = django_filters.CharFilter(field_name="user__email", lookup_expr="iexact")
    since = django_filters.IsoDateTimeFilter(field_name="recorded_at", lookup_expr="gte",
                                             label="Recorded at or after (ISO 8601)")
    until = django_filters.IsoDateTimeFilter(field_name="recorded_at", lookup_expr="lt",
                                             label="Recorded before (ISO 8601)")
    date = django_filters.DateFilter(field_name="recorded_at", lookup_expr="date", label="Recorded on (YYYY-MM-DD)")

    class Meta:
        model = Recording
        fields = ["recording_id", "origin", "status", "stream_id", "user_email", "since", "until", "date"]
