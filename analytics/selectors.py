"""Read-only queries over streams and webhooks rows: genre trends, session summaries, engagement,
delivery health. Every figure is exact: counts and sums come from the database, ratios are
rounded once at the end (4 decimals for confidence and rates, 2 for averages per minute/viewer),
and percentiles use the nearest-rank method (see `nearest_rank`), identical on every database.
"""

import math
from bisect import bisect_right
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Trunc

from accounts.models import Tenant
from analytics.aggregates import MICROS, GenreTotals, as_utc, characteristic_counts, genre_totals
from analytics.models import GenreDay, GenreDayCharacteristic, GenreHour, GenreHourCharacteristic, RollupState
from analytics.rollups import dates_q, day_start, days_q, dirty_days
from streams.models import ChatInteraction, StreamSession, TrackPlay
from webhooks.models import Attempt, Delivery, Endpoint
from webhooks.retention.rollups import merge_histograms, rollups_in
from webhooks.retention.rollups import nearest_rank as histogram_rank

BUCKETS = ("hour", "day", "week")
BUCKET_SIZE = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}
MAX_BUCKETS = 1000
# The window's bounds stay a day inside datetime's range, so day and hour arithmetic never overflows.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)


def iso(moment: datetime | None) -> str | None:
    # isoformat pads the year to four digits (strftime's %Y does not for years before 1000)
    return moment.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z" if moment else None


def nearest_rank(sorted_values: list[int], percentile: float) -> int | None:
    """The nearest-rank percentile: the smallest value with at least `percentile` % of values at or below it."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(percentile / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def _ratio(numerator: float, denominator: float, digits: int) -> float | None:
    return round(numerator / denominator, digits) if denominator else None


# --- genre trends ---------------------------------------------------------------------------


def _filtered_plays(*, tenant: Tenant, since=None, until=None, platform=None, dj=None) -> QuerySet:
    plays = TrackPlay.objects.filter(tenant=tenant)
    if platform is not None:
        plays = plays.filter(session__platform=platform)
    if dj is not None:
        plays = plays.filter(session__dj_username=dj)
    if since is not None:
        plays = plays.filter(played_at__gte=since)
    if until is not None:
        plays = plays.filter(played_at__lt=until)
    return plays


def genre_trends(
    *, tenant: Tenant, since: datetime | None = None, until: datetime | None = None, platform: str | None = None,
    dj: str | None = None, limit: int | None = None, characteristics: int = 10, use_rollups: bool = True,
) -> list[dict]:
    """Plays, engagement, confidence and characteristics per (genre, subgenre), most played first.

    `popular_characteristics` holds the `characteristics` most frequent ones (ties by name): senders
    name characteristics freely, and a subgenre may collect hundreds of one-off ones.

    `since` is inclusive, `until` exclusive. Rollups serve whole clean days when there is no
    platform/DJ filter (those are session attributes that may change after the fact).
    """
    plays = _filtered_plays(tenant=tenant, since=since, until=until, platform=platform, dj=dj)
    state = None
    if use_rollups and platform is None and dj is None:
        state = RollupState.objects.filter(tenant=tenant, refreshed_at__isnull=False).first()
    if state is None:
        totals = {(g, s): t for (_, g, s), t in genre_totals(plays).items()}
    else:
        totals = _rolled_up_totals(tenant=tenant, plays=plays, since=since, until=until, state=state)
    trends = [
        {
            "main_genre": genre,
            "subgenre": subgenre,
            "total_plays": t.plays,
            "total_engagement": t.engagement,
            "average_confidence": _ratio(t.confidence_micros, t.confidence_count * MICROS, 4),
            "popular_characteristics": dict(
                sorted(t.characteristics.items(), key=lambda kv: (-kv[1], kv[0]))[:characteristics]),
        }
        for (genre, subgenre), t in totals.items()
        if t.plays
    ]
    trends.sort(key=lambda row: (-row["total_plays"], row["main_genre"], row["subgenre"]))
    return trends[:limit] if limit is not None else trends


def _rolled_up_totals(*, tenant, plays, since, until, state: RollupState) -> dict[tuple[str, str], GenreTotals]:
    """Whole clean days from the day rollup, whole clean hours at the edges from the hour rollup,
    dirty days and partial hours from raw rows (`plays` already carries the window's bounds)."""
    dirty = dirty_days(tenant=tenant, play_watermark=state.play_watermark,
                       interaction_watermark=state.interaction_watermark)
    first = _ceil_day(since) if since is not None else None
    last = until.astimezone(UTC).date() if until is not None else None  # whole days end before `until`'s day
    day_q = Q(pk__in=[])
    if first is not None and last is not None and first >= last:
        edges = [(since, until)]  # no whole day inside the window
    else:
        day_q = Q(day__gte=first) if first is not None else Q()
        if last is not None:
            day_q &= Q(day__lt=last)
        edges = [(a, b) for a, b in ((since, first and day_start(first)), (last and day_start(last), until))
                 if a is not None and b is not None and a < b]
    raw_q, hour_q = days_q(dirty), Q(pk__in=[])
    for a, b in edges:
        whole_from, whole_to = _ceil_hour(a), b.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        if whole_from < whole_to:
            hour_q |= Q(hour__gte=whole_from, hour__lt=whole_to)
            raw_q |= Q(played_at__gte=a, played_at__lt=whole_from) | Q(played_at__gte=whole_to, played_at__lt=b)
        else:
            raw_q |= Q(played_at__gte=a, played_at__lt=b)

    totals: dict[tuple[str, str], GenreTotals] = defaultdict(GenreTotals)
    for (_, genre, subgenre), t in genre_totals(plays.filter(raw_q)).items():
        totals[genre, subgenre].add(t)
    clean_days = Q(tenant=tenant) & ~dates_q(dirty)
    clean_hours = Q(tenant=tenant) & ~days_q(dirty, "hour")
    _add_rollups(totals, GenreDay, GenreDayCharacteristic, clean_days & day_q)
    _add_rollups(totals, GenreHour, GenreHourCharacteristic, clean_hours & hour_q)
    return totals


def _add_rollups(totals, model, characteristic_model, q: Q) -> None:
    rows = (
        model.objects.filter(q).values("main_genre", "subgenre").order_by()
        .annotate(n=Sum("plays"), csum=Sum("confidence_micros"), ccount=Sum("confidence_count"), e=Sum("engagement"))
    )
    for row in rows:
        totals[row["main_genre"], row["subgenre"]].add(
            GenreTotals(plays=row["n"], confidence_micros=row["csum"], confidence_count=row["ccount"],
                        engagement=row["e"])
        )
    for row in characteristic_model.objects.filter(q).values("main_genre", "subgenre", "name").order_by() \
            .annotate(n=Sum("plays")):
        totals[row["main_genre"], row["subgenre"]].characteristics[row["name"]] += row["n"]


def _ceil_hour(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    floor = moment.replace(minute=0, second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(hours=1)


def _ceil_day(moment: datetime) -> date:
    moment = moment.astimezone(UTC)
    return moment.date() if moment == day_start(moment.date()) else moment.date() + timedelta(days=1)


# --- session summary -----------------------------------------------------------------------------


class _Viewers:
    """The viewer curve as a step function: each sample holds until the next one."""

    def __init__(self, samples: list[tuple[datetime, int]]):
        self.times = [at for at, _ in samples]
        self.counts = [count for _, count in samples]

    def at(self, moment: datetime) -> int | None:
        i = bisect_right(self.times, moment)
        return self.counts[i - 1] if i else None

    def integral_us(self, end: datetime | None) -> tuple[int, int]:
        """(viewer-microseconds, covered microseconds) from the first sample to `end` (or the last sample)."""
        if not self.times:
            return 0, 0
        end = max(end or self.times[-1], self.times[-1])
        bounds = [*self.times[1:], end]
        us = timedelta(microseconds=1)
        area = sum(c * ((b - a) // us) for a, b, c in zip(self.times, bounds, self.counts, strict=True))
        return area, (end - self.times[0]) // us


def session_summary(*, tenant: Tenant, session_id: str, top: int = 5) -> dict | None:
    """The DJ stream assistant's session summary plus Twitch-style stream figures; None for an unknown session.

    A live session (no end yet) is measured up to the latest thing we heard from it (its last
    event, sample, track or chat), not to the wall clock: a sender that died without sending
    `stream_end` must not make the stream look longer and emptier with every refresh.
    """
    session = StreamSession.objects.filter(tenant=tenant, session_id=session_id).first()
    if session is None:
        return None
    # One read per table; the figures are folded in Python (a session has hundreds of rows, not millions).
    viewers = _Viewers(list(session.viewer_samples.order_by("at").values_list("at", "viewer_count")))
    interactions = list(session.chat_interactions.values_list("at", "engagement_type", "response_count", "track_id"))
    plays = list(session.tracks.order_by("played_at", "id").values(
        "id", "played_at", "artist", "title", "main_genre", "subgenre", "confidence", "viewers_at_play",
    ))
    messages = list(session.chat_messages.values_list("created_at", "user_id", "user_name"))
    heard = [session.last_event_at, viewers.times[-1] if viewers.times else None,
             plays[-1]["played_at"] if plays else None, *(max(rows)[0] for rows in (interactions, messages) if rows)]
    end = session.ended_at or max((moment for moment in heard if moment is not None), default=None)
    duration = session.duration_seconds
    if duration is None and session.started_at and end:
        duration = max(0, int((end - session.started_at).total_seconds()))

    area_us, span_us = viewers.integral_us(end)
    # A single reading (or readings all at one instant) has no duration: its count is the average.
    average_viewers = _ratio(area_us, span_us, 2) if span_us else None
    if not span_us and viewers.counts:
        average_viewers = float(viewers.counts[-1])

    tracks = _session_tracks(plays, viewers, end, interactions)
    by_type: dict = defaultdict(lambda: [0, 0])
    for _, kind, responses, _ in interactions:
        by_type[kind][0] += 1
        by_type[kind][1] += responses
    interaction_stats = [{"type": kind, "count": n, "avg_response": _ratio(total, n, 2)}
                         for kind, (n, total) in by_type.items()]
    interaction_stats.sort(key=lambda row: (-row["count"], row["type"]))
    genres = Counter((t["main_genre"], t["subgenre"]) for t in tracks)
    genre_breakdown = [{"main_genre": g, "subgenre": sub, "count": n} for (g, sub), n in genres.items()]
    genre_breakdown.sort(key=lambda row: (-row["count"], row["main_genre"], row["subgenre"]))
    chat = _chat_figures(messages, duration, interactions)

    return {
        "session": {
            "session_id": session.session_id,
            "dj_username": session.dj_username,
            "platform": session.platform,
            "title": session.title,
            "status": session.status,
            "started_at": iso(session.started_at),
            "ended_at": iso(session.ended_at),
            "total_tracks": len(tracks),
            "total_interactions": len(interactions),
            "total_responses": sum(responses for _, _, responses, _ in interactions),
            "peak_viewers": max(session.peak_viewers, max(viewers.counts, default=0)),
            "duration_seconds": duration,
            "average_viewers": average_viewers,
            "viewer_minutes": round(area_us / 60_000_000, 2),
            **chat.pop("totals"),
        },
        "genre_breakdown": genre_breakdown,
        "interaction_stats": interaction_stats,
        "viewer_timeline": [{"at": iso(at), "viewers": n} for at, n in zip(viewers.times, viewers.counts, strict=True)],
        "chat_timeline": chat["timeline"],
        "tracks": tracks,
        "top_tracks": sorted(tracks, key=lambda t: (-t["engagement"], t["played_at"]))[:top],
    }


def _session_tracks(plays: list[dict], viewers: _Viewers, end: datetime | None, interactions) -> list[dict]:
    engagement: dict = defaultdict(lambda: {"n": 0, "total": 0})
    for _, _, responses, track_id in interactions:
        if track_id is not None:
            engagement[track_id]["n"] += 1
            engagement[track_id]["total"] += responses
    tracks = []
    for i, play in enumerate(plays):
        stop = plays[i + 1]["played_at"] if i + 1 < len(plays) else end
        first = viewers.at(play["played_at"])
        if first is None:
            first = play["viewers_at_play"]
        last = viewers.at(stop) if stop is not None else None
        stats = engagement.get(play["id"], {"n": 0, "total": 0})
        tracks.append({
            "position": i + 1, "played_at": iso(play["played_at"]), "artist": play["artist"], "title": play["title"],
            "main_genre": play["main_genre"], "subgenre": play["subgenre"], "confidence": play["confidence"],
            "interactions": stats["n"], "engagement": stats["total"] or 0,
            "viewers_start": first, "viewers_end": last,
            "viewer_change": last - first if first is not None and last is not None else None,
        })
    return tracks


def _minute(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def _chat_figures(messages, duration: int | None, interactions) -> dict:
    per_minute = Counter(_minute(at) for at, _, _ in messages)
    bot = defaultdict(lambda: [0, 0])
    for at, _, responses, _ in interactions:
        bot[_minute(at)][0] += 1
        bot[_minute(at)][1] += responses
    peak = min(per_minute.items(), key=lambda kv: (-kv[1], kv[0]), default=None)
    return {
        "totals": {
            "chat_messages": len(messages),
            "unique_chatters": len({user_id or name for _, user_id, name in messages}),
            "messages_per_minute": _ratio(len(messages) * 60, duration, 2) if duration else None,
            "peak_chat_minute": {"minute": iso(peak[0]), "messages": peak[1]} if peak else None,
        },
        "timeline": [
            {"minute": iso(minute), "messages": per_minute.get(minute, 0),
             "interactions": bot[minute][0] if minute in bot else 0,
             "responses": bot[minute][1] if minute in bot else 0}
            for minute in sorted(set(per_minute) | set(bot))
        ],
    }


# --- engagement over time --------------------------------------------------------------------------


def default_window(since, until, *, days: int) -> tuple[datetime, datetime]:
    """`until` defaults to now, `since` to `days` before `until` (never before EARLIEST)."""
    until = until or datetime.now(UTC)
    return since or max(until, EARLIEST + timedelta(days=days)) - timedelta(days=days), until


def engagement(
    *, tenant: Tenant, since: datetime | None = None, until: datetime | None = None, bucket: str = "day",
    platform: str | None = None, dj: str | None = None,
) -> dict:
    """Plays and audience responses per subgenre and per characteristic, per time bucket (default: 30 days)."""
    since, until = default_window(since, until, days=30)
    plays = _filtered_plays(tenant=tenant, since=since, until=until, platform=platform, dj=dj)
    start = {"start": Trunc("played_at", bucket, tzinfo=UTC)}
    responses = ChatInteraction.objects.filter(track=OuterRef("pk")).values("track").annotate(s=Sum("response_count"))
    plays = plays.annotate(**start, responses=Coalesce(Subquery(responses.values("s")), Value(0)))

    subgenres: dict = defaultdict(lambda: {"plays": 0, "engagement": 0, "series": []})
    rows = plays.values("start", "main_genre", "subgenre").order_by("start").annotate(
        n=Count("id"), e=Sum("responses"))
    for row in rows:
        entry = subgenres[row["main_genre"], row["subgenre"]]
        entry["plays"] += row["n"]
        entry["engagement"] += row["e"] or 0
        entry["series"].append({"start": iso(row["start"]), "plays": row["n"], "engagement": row["e"] or 0})

    characteristics: dict = defaultdict(lambda: {"plays": 0, "engagement": 0, "series": []})
    for start_at, name, n, e in sorted(characteristic_counts(plays, ["start"], also_sum="responses"),
                                       key=lambda r: (as_utc(r[0]), r[1])):
        entry = characteristics[name]
        entry["plays"] += n
        entry["engagement"] += e or 0
        entry["series"].append({"start": iso(as_utc(start_at)), "plays": n, "engagement": e or 0})

    by_engagement = lambda item: (-item["engagement"], -item["plays"])  # noqa: E731
    return {
        "bucket": bucket,
        "since": iso(since),
        "until": iso(until),
        "subgenres": sorted(
            ({"main_genre": g, "subgenre": s, **v} for (g, s), v in subgenres.items()),
            key=lambda item: (*by_engagement(item), item["main_genre"], item["subgenre"]),
        ),
        "characteristics": sorted(
            ({"name": name, **v} for name, v in characteristics.items()),
            key=lambda item: (*by_engagement(item), item["name"]),
        ),
    }


# --- webhook delivery health -----------------------------------------------------------------------


def delivery_health(
    *, tenant: Tenant, since: datetime | None = None, until: datetime | None = None, bucket: str = "day",
) -> dict:
    """Per endpoint: delivery outcomes, success rate, p50/p95 attempt latency, failures by status per bucket.

    Deliveries are counted by creation time, attempts by start time, both in [since, until)
    (default: the last 7 days). `success_rate` = succeeded / (succeeded + failed); pending ones wait.
    Latency percentiles are nearest-rank over every attempt's `duration_ms`.

    Purged deliveries count through their daily rollups (webhooks/retention/rollups.py): a whole UTC
    day that overlaps the window, placed at the day's start in the failure buckets, latencies exact
    below 1 s and to 3 significant digits above.
    """
    since, until = default_window(since, until, days=7)
    endpoints = list(Endpoint.objects.filter(tenant=tenant, deleted_at__isnull=True).order_by("created_at", "id"))
    outcomes: dict = defaultdict(Counter)
    for row in (
        Delivery.objects.filter(tenant=tenant, created_at__gte=since, created_at__lt=until)
        .values("endpoint_id", "status").order_by().annotate(n=Count("id"))
    ):
        outcomes[row["endpoint_id"]][row["status"]] = row["n"]
    attempts = Attempt.objects.filter(delivery__tenant=tenant, started_at__gte=since, started_at__lt=until)
    latencies: dict = defaultdict(Counter)
    for endpoint_id, duration, n in attempts.values_list("delivery__endpoint_id", "duration_ms").annotate(
            n=Count("id")).order_by():
        latencies[endpoint_id][duration] += n
    failures: dict = defaultdict(lambda: defaultdict(Counter))
    for row in (
        attempts.filter(succeeded=False).annotate(start=Trunc("started_at", bucket, tzinfo=UTC))
        .values("delivery__endpoint_id", "start", "status_code").order_by().annotate(n=Count("id"))
    ):
        code = str(row["status_code"]) if row["status_code"] is not None else "error"
        failures[row["delivery__endpoint_id"]][row["start"]][code] += row["n"]
    for rollup in rollups_in(tenant=tenant, since=since, until=until):
        outcomes[rollup.endpoint_id].update({"succeeded": rollup.succeeded, "failed": rollup.failed})
        latencies[rollup.endpoint_id].update(merge_histograms([rollup.latencies]))
        if rollup.failures:
            start = rollup.day - timedelta(days=rollup.day.weekday()) if bucket == "week" else rollup.day
            failures[rollup.endpoint_id][start].update(rollup.failures)

    result = []
    for endpoint in endpoints:
        counts, durations = outcomes[endpoint.pk], latencies[endpoint.pk]
        by_status = Counter()
        for codes in failures[endpoint.pk].values():
            by_status.update(codes)
        succeeded, failed = counts["succeeded"], counts["failed"]
        result.append({
            "endpoint_id": endpoint.pk,
            "url": endpoint.url,
            "description": endpoint.description,
            "is_active": endpoint.is_active,
            "deliveries": {"total": sum(counts.values()), "succeeded": succeeded, "failed": failed,
                           "pending": counts["pending"]},
            "success_rate": _ratio(succeeded, succeeded + failed, 4),
            "attempts": durations.total(),
            "latency_ms": {"p50": histogram_rank(durations, 50), "p95": histogram_rank(durations, 95),
                           "max": max(durations) if durations else None},
            "failures_by_status": dict(sorted(by_status.items())),
            "failures": [
                {"start": iso(start), "by_status": dict(sorted(codes.items()))}
                for start, codes in sorted(failures[endpoint.pk].items())
            ],
        })
    return {"bucket": bucket, "since": iso(since), "until": iso(until), "endpoints": result}
