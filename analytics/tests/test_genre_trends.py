from datetime import timedelta

import pytest

from analytics.models import GenreDay
from analytics.rollups import rollup_refresh
from analytics.selectors import genre_trends
from analytics.tests import factories as f

LIQUID = {
    "main_genre": "drum and bass", "subgenre": "liquid dnb", "total_plays": 2, "total_engagement": 16,
    "average_confidence": 0.93, "popular_characteristics": {"atmospheric": 2, "melodic": 2, "jazzy": 1},
}
DEEP = {
    "main_genre": "house", "subgenre": "deep house", "total_plays": 2, "total_engagement": 4,
    "average_confidence": 0.75, "popular_characteristics": {"groovy": 2, "soulful": 1},
}
MINIMAL = {
    "main_genre": "techno", "subgenre": "minimal", "total_plays": 1, "total_engagement": 10,
    "average_confidence": None, "popular_characteristics": {},
}

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["raw", "rollups"])
def mode(request, settings, tenant, streams):
    """Every figure must be the same whether or not rollups serve part of the query."""
    settings.ANALYTICS_ROLLUP_MARGIN = 0
    if request.param == "rollups":
        rollup_refresh(tenant=tenant)
        assert GenreDay.objects.filter(tenant=tenant).count() == 4
    return request.param


def test_all_time_trends_sorted_by_plays(tenant, mode):
    assert genre_trends(tenant=tenant) == [LIQUID, DEEP, MINIMAL]


def test_platform_dj_and_limit_filters(tenant, mode):
    assert genre_trends(tenant=tenant, platform="twitch") == [
        LIQUID, {**DEEP, "total_plays": 1, "average_confidence": 0.8, "popular_characteristics": {"groovy": 1}},
    ]
    assert genre_trends(tenant=tenant, dj="other") == [
        {**DEEP, "total_plays": 1, "total_engagement": 0, "average_confidence": 0.7,
         "popular_characteristics": {"groovy": 1, "soulful": 1}},
        MINIMAL,
    ]
    assert genre_trends(tenant=tenant, limit=1) == [LIQUID]


@pytest.mark.parametrize(("since", "until", "expected"), [
    # whole days only
    (f.at(6, 0), None, ["deep house:1:0", "minimal:1:10"]),
    (None, f.at(6, 0), ["liquid dnb:2:16", "deep house:1:4"]),
    # partial days at both ends: 20:05 <= played_at < 10:02 two days later
    (f.at(5, 20, 5), f.at(7, 10, 2), ["deep house:2:4", "liquid dnb:1:8"]),
    # inside one day
    (f.at(5, 20, 1), f.at(5, 20, 6), ["liquid dnb:1:8"]),
    (f.at(8, 0), f.at(9, 0), []),
    # a whole day between two edges, each with whole and partial hours
    (f.at(4, 22, 30), f.at(7, 10, 2), ["liquid dnb:2:16", "deep house:2:4"]),
    (f.at(5, 19, 59), f.at(7, 11, 30), ["liquid dnb:2:16", "deep house:2:4", "minimal:1:10"]),
])
def test_time_window(tenant, mode, since, until, expected):
    rows = genre_trends(tenant=tenant, since=since, until=until)
    assert [f"{r['subgenre']}:{r['total_plays']}:{r['total_engagement']}" for r in rows] == expected


def test_clean_days_come_from_the_rollup(settings, tenant, streams):
    settings.ANALYTICS_ROLLUP_MARGIN = 0
    rollup_refresh(tenant=tenant)
    # Tamper with a rollup row: the answer shows it, proving the raw rows were not re-read.
    GenreDay.objects.filter(tenant=tenant, subgenre="minimal").update(plays=7)
    assert genre_trends(tenant=tenant)[0]["subgenre"] == "minimal"
    assert genre_trends(tenant=tenant, use_rollups=False) == [LIQUID, DEEP, MINIMAL]


def test_rows_after_the_refresh_are_read_raw_until_the_next_one(settings, tenant, streams):
    """A late track re-links earlier chat to itself; the rollup of that day is then stale, yet the answer is exact."""
    settings.ANALYTICS_ROLLUP_MARGIN = 0
    rollup_refresh(tenant=tenant)
    s1 = streams["s1"]
    late = f.play(s1, f.at(5, 20, 6, 30), "breaks", "florida breaks", confidence=0.5, characteristics=["funky"])
    # what streams.services._link_interactions does for a track that arrives late
    s1.chat_interactions.filter(at__gte=late.played_at, at__lt=f.at(5, 20, 10)).update(track=late)
    f.interaction(streams["s2"], f.at(7, 10, 6), streams["p5"], responses=2)

    expected = genre_trends(tenant=tenant, use_rollups=False)
    assert [(r["subgenre"], r["total_plays"], r["total_engagement"]) for r in expected] == [
        ("liquid dnb", 2, 13), ("deep house", 2, 4), ("florida breaks", 1, 3), ("minimal", 1, 12),
    ]
    assert genre_trends(tenant=tenant) == expected
    assert rollup_refresh(tenant=tenant) == 2  # the two dirty days
    assert genre_trends(tenant=tenant) == expected
    assert genre_trends(tenant=tenant, since=f.at(5, 0), until=f.at(5, 0) + timedelta(days=1)) == \
        genre_trends(tenant=tenant, since=f.at(5, 0), until=f.at(6, 0), use_rollups=False)


def test_whole_hours_at_the_edges_come_from_the_hour_rollup(settings, tenant, streams):
    from analytics.models import GenreHour

    settings.ANALYTICS_ROLLUP_MARGIN = 0
    rollup_refresh(tenant=tenant)
    assert GenreHour.objects.filter(tenant=tenant).count() == 4
    GenreHour.objects.filter(tenant=tenant, subgenre="minimal").update(plays=7)  # 10:00-11:00 on day 7
    rows = genre_trends(tenant=tenant, since=f.at(6, 12), until=f.at(7, 11))
    assert [(r["subgenre"], r["total_plays"]) for r in rows] == [("minimal", 7), ("deep house", 1)]
    rows = genre_trends(tenant=tenant, since=f.at(6, 12), until=f.at(7, 10, 30))  # a partial hour: raw
    assert [(r["subgenre"], r["total_plays"]) for r in rows] == [("deep house", 1), ("minimal", 1)]


def test_rows_inside_the_margin_stay_in_the_tail(settings, tenant, streams):
    settings.ANALYTICS_ROLLUP_MARGIN = 3600  # every row is younger than this: none is trusted yet
    rollup_refresh(tenant=tenant)
    GenreDay.objects.filter(tenant=tenant).update(plays=999)
    assert genre_trends(tenant=tenant) == [LIQUID, DEEP, MINIMAL]


def test_refresh_command_and_beat_task(settings, tenant, streams, capsys):
    from django.core.management import call_command

    from analytics.tasks import refresh_rollups

    settings.ANALYTICS_ROLLUP_MARGIN = 0
    call_command("refresh_analytics_rollups")
    assert "acme: 2 day(s) recomputed" in capsys.readouterr().out
    refresh_rollups(full=True)
    assert GenreDay.objects.filter(tenant=tenant).count() == 4
    assert "analytics.refresh_rollups" in {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}


def test_popular_characteristics_lists_the_top_ones(api_client, settings, tenant, streams):
    s1 = streams["s1"]
    for minute, traits in ((30, ["jazzy", "warm"]), (31, ["jazzy"]), (32, [f"one-off {n:02d}" for n in range(12)])):
        f.play(s1, f.at(5, 20, minute), "drum and bass", "liquid dnb", characteristics=traits)
    row = genre_trends(tenant=tenant)[0]
    # jazzy 3, atmospheric 2, melodic 2, then the ones seen once, by name: the top 10
    assert list(row["popular_characteristics"].items()) == [
        ("jazzy", 3), ("atmospheric", 2), ("melodic", 2), *((f"one-off {n:02d}", 1) for n in range(7))]
    response = api_client.get("/api/analytics/genre-trends", {"characteristics": 2, "limit": 1})
    assert response.json()["trends"][0]["popular_characteristics"] == {"jazzy": 3, "atmospheric": 2}
    for bad in ("0", "101", "x"):
        assert "characteristics" in api_client.get("/api/analytics/genre-trends", {"characteristics": bad}).json()
