"""Filters of the read API: by session id, time range and genre."""

import django_filters
from django.db.models import Q

from core.filters import IdFilter, time_window
from streams.models import ChatInteraction, ChatMessage, StreamSession, TrackPlay


def _genre(prefix: str):
    def method(queryset, name, value):
        return queryset.filter(Q(**{f"{prefix}main_genre__iexact": value}) | Q(**{f"{prefix}subgenre__iexact": value}))
    return method


class StreamSessionFilter(django_filters.FilterSet):
    session = django_filters.CharFilter(field_name="session_id", help_text="The session id.")
    since, until = time_window("started_at", "Started")
    genre = django_filters.CharFilter(method="filter_genre", help_text="Played a track of this main genre or subgenre.")

    class Meta:
        model = StreamSession
        fields = ["session", "status", "platform", "dj_username", "since", "until", "genre"]

    def filter_genre(self, queryset, name, value):
        plays = TrackPlay.objects.filter(Q(main_genre__iexact=value) | Q(subgenre__iexact=value))
        return queryset.filter(pk__in=plays.values("session_id"))


class TrackPlayFilter(django_filters.FilterSet):
    session = django_filters.CharFilter(field_name="session__session_id", help_text="The session id.")
    since, until = time_window("played_at", "Played")
    genre = django_filters.CharFilter(method=_genre(""), help_text="Main genre or subgenre (case-insensitive).")
    main_genre = django_filters.CharFilter(lookup_expr="iexact")
    subgenre = django_filters.CharFilter(lookup_expr="iexact")
    artist = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = TrackPlay
        fields = ["session", "since", "until", "genre", "main_genre", "subgenre", "artist"]


class ChatInteractionFilter(django_filters.FilterSet):
    session = django_filters.CharFilter(field_name="session__session_id", help_text="The session id.")
    since, until = time_window("at", "Happened")
    genre = django_filters.CharFilter(method=_genre("track__"), help_text="Genre of the track playing at the time.")
    engagement_type = django_filters.CharFilter()
    audience_reaction = django_filters.CharFilter()
    track = IdFilter(field_name="track_id")

    class Meta:
        model = ChatInteraction
        fields = ["session", "since", "until", "genre", "engagement_type", "audience_reaction", "track"]


class ChatMessageFilter(django_filters.FilterSet):
    session = django_filters.CharFilter(field_name="session__session_id", help_text="The session id.")
    since, until = time_window("created_at", "Sent")
    user_id = django_filters.CharFilter()

    class Meta:
        model = ChatMessage
        fields = ["session", "since", "until", "user_id"]
