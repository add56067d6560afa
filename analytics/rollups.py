"""Per-day genre rollups: how they are refreshed, and which days a query must still read raw.

The rule that keeps answers exact under concurrent ingest, out-of-order events and replays:

- A refresh records, per table, a *watermark*: the highest id among rows created more than
  `ANALYTICS_ROLLUP_MARGIN` seconds ago. Ids are taken at insert time and no transaction lives
  longer than the margin (Celery's hard limit is 90 s, requests time out sooner), so every row
  with an id at or below the watermark was committed, and so counted, when the refresh read.
- Rows above the watermark are the *tail*. A day is *dirty* when a tail play or chat interaction
  belongs to a session that spans it: from the session's start to the tail row's time. That
  covers a late track re-linking earlier chat to itself (both plays are in that session, between
  its start and the new play), and replays add no rows at all (the streams services dedupe).
- A query sums rollup rows of clean whole days (per-day table), clean whole hours at the window's
  edges (per-hour table) and recomputes dirty days and partial hours from raw rows, so the answer
  equals the raw aggregate. Deleting streams rows is the one change this does
  not see; `refresh_analytics_rollups --full` (nightly on beat) rebuilds everything.
"""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, Max, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import Tenant
from analytics.aggregates import GenreTotals, genre_totals
from analytics.models import GenreDay, GenreDayCharacteristic, GenreHour, GenreHourCharacteristic, RollupState
from streams.models import ChatInteraction, StreamSession, TrackPlay


def rollup_margin() -> timedelta:
    return timedelta(seconds=getattr(settings, "ANALYTICS_ROLLUP_MARGIN", 300))


def _watermark(model, before: datetime) -> int:
    # Walks the primary key backwards from the newest row: only the last few minutes are read.
    newest_old = model.objects.filter(created_at__lt=before).order_by("-id").values_list("id", flat=True).first()
    return newest_old or 0


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# Inclusive (first, last) UTC days, sorted and merged: a set of days listed one by one would be
# millions long for a session whose events span centuries (any sender can post such timestamps).
DayRanges = list[tuple[date, date]]


def dirty_days(*, tenant: Tenant, play_watermark: int, interaction_watermark: int) -> DayRanges:
    """UTC days whose rollup rows may be stale: spanned by a session that has tail rows."""
    spans: dict[int, tuple[datetime, datetime]] = {}
    tails = (
        TrackPlay.objects.filter(tenant=tenant, id__gt=play_watermark)
        .values("session_id").order_by().annotate(first=Min("played_at"), last=Max("played_at")),
        ChatInteraction.objects.filter(tenant=tenant, id__gt=interaction_watermark)
        .values("session_id").order_by().annotate(first=Min("at"), last=Max("at")),
    )
    for rows in tails:
        for row in rows:
            first, last = spans.get(row["session_id"], (row["first"], row["last"]))
            spans[row["session_id"]] = (min(first, row["first"]), max(last, row["last"]))
    if not spans:
        return []
    starts = dict(StreamSession.objects.filter(pk__in=spans).values_list("pk", "started_at"))
    return merge_ranges(
        (min(first, starts.get(pk) or first).astimezone(UTC).date(), last.astimezone(UTC).date())
        for pk, (first, last) in spans.items()
    )


def merge_ranges(ranges) -> DayRanges:
    """Sort inclusive day ranges and merge the ones that overlap or touch."""
    merged: DayRanges = []
    for first, last in sorted(ranges):
        if merged and (first <= merged[-1][1] or first - merged[-1][1] == timedelta(days=1)):
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def days_q(days: DayRanges, field: str = "played_at") -> Q:
    """`field` (a datetime) falls on one of `days`."""
    q = Q(pk__in=[])
    for first, last in days:
        within = Q(**{f"{field}__gte": day_start(first)})
        if last < date.max:  # the last representable day has no day after it
            within &= Q(**{f"{field}__lt": day_start(last + timedelta(days=1))})
        q |= within
    return q


def dates_q(days: DayRanges, field: str = "day") -> Q:
    """`field` (a date) is one of `days`."""
    q = Q(pk__in=[])
    for first, last in days:
        q |= Q(**{f"{field}__gte": first, f"{field}__lte": last})
    return q


def rollup_refresh(*, tenant: Tenant, full: bool = False) -> int:
    """Bring `tenant`'s rollups up to date; returns how many days were recomputed."""
    before = timezone.now() - rollup_margin()
    play_mark, interaction_mark = _watermark(TrackPlay, before), _watermark(ChatInteraction, before)
    with transaction.atomic():
        state = _locked_state(tenant)
        plays = TrackPlay.objects.filter(tenant=tenant)
        if full or state.refreshed_at is None:
            _delete(tenant, None)
            recomputed = _store(tenant, plays)
        else:
            days = dirty_days(tenant=tenant, play_watermark=state.play_watermark,
                              interaction_watermark=state.interaction_watermark)
            _delete(tenant, days)
            recomputed = _store(tenant, plays.filter(days_q(days))) if days else 0
        state.play_watermark = max(state.play_watermark, play_mark)
        state.interaction_watermark = max(state.interaction_watermark, interaction_mark)
        state.refreshed_at = timezone.now()
        state.save()
    if (full or recomputed > 31) and connection.vendor == "postgresql":
        # Fresh statistics let the planner hash-aggregate the rollups instead of sorting them by text.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE " + ", ".join(model._meta.db_table for model in _TABLES))
    return recomputed


def _locked_state(tenant: Tenant) -> RollupState:
    try:
        with transaction.atomic():
            RollupState.objects.get_or_create(tenant=tenant)
    except IntegrityError:  # a concurrent refresh created it first
        pass
    return RollupState.objects.select_for_update().get(tenant=tenant)


_TABLES = (GenreDay, GenreDayCharacteristic, GenreHour, GenreHourCharacteristic)


def _delete(tenant: Tenant, days: DayRanges | None) -> None:
    """Drop the rollup rows of `days` (None: all of them)."""
    for model in _TABLES:
        rows = model.objects.filter(tenant=tenant)
        if days is not None:
            rows = rows.filter(dates_q(days) if hasattr(model, "day") else days_q(days, "hour"))
        rows.delete()


def _store(tenant: Tenant, plays: QuerySet) -> int:
    """Aggregate `plays` per hour once; the day rows are sums of the hour rows."""
    hours = genre_totals(plays, by_hour=True)
    days: dict[tuple[date, str, str], GenreTotals] = defaultdict(GenreTotals)
    for (hour, genre, subgenre), t in hours.items():
        days[hour.astimezone(UTC).date(), genre, subgenre].add(t)
    for model, rows in ((GenreHour, hours), (GenreDay, days)):
        field = "hour" if model is GenreHour else "day"
        model.objects.bulk_create(
            [model(tenant=tenant, **{field: key}, main_genre=genre, subgenre=subgenre, plays=t.plays,
                   confidence_micros=t.confidence_micros, confidence_count=t.confidence_count, engagement=t.engagement)
             for (key, genre, subgenre), t in rows.items()],
            batch_size=5000,
        )
    for model, rows in ((GenreHourCharacteristic, hours), (GenreDayCharacteristic, days)):
        field = "hour" if model is GenreHourCharacteristic else "day"
        model.objects.bulk_create(
            [model(tenant=tenant, **{field: key}, main_genre=genre, subgenre=subgenre, name=name, plays=n)
             for (key, genre, subgenre), t in rows.items() for name, n in t.characteristics.items()],
            batch_size=5000,
        )
    return len({day for day, _, _ in days})


def rollup_refresh_all(*, full: bool = False) -> dict[str, int]:
    """Refresh every tenant that has plays (the beat task)."""
    tenants = Tenant.objects.filter(Exists(TrackPlay.objects.filter(tenant=OuterRef("pk"))))
    return {t.slug: rollup_refresh(tenant=t, full=full) for t in tenants}
