import django_filters
from django.db.models import Q, QuerySet

from core.filters import time_window
from recordings.models import Recording


class RecordingFilter(django_filters.FilterSet):
    user = django_filters.CharFilter(method="filter_user", max_length=254,
                                     label="User: email (case-insensitive) or the username the recorder sent")
    user_email = django_filters.CharFilter(field_name="user__email", lookup_expr="iexact")
    since, until = time_window("recorded_at", "Recorded")
    date = django_filters.DateFilter(field_name="recorded_at", lookup_expr="date", label="Recorded on (YYYY-MM-DD)")

    class Meta:
        model = Recording
        fields = ["recording_id", "origin", "status", "stream_id", "user", "user_email", "since", "until", "date"]

    def filter_user(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Integrators know the recorder's user by email or by the name it sent, not by our user ids.
        return queryset.filter(Q(user__email__iexact=value) | Q(username=value))
