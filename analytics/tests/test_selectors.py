import pytest

from analytics.selectors import delivery_health, engagement, nearest_rank, session_summary
from analytics.tests import factories as f

pytestmark = pytest.mark.django_db


def test_session_summary_exact_figures(tenant, streams):
    summary = session_summary(tenant=tenant, session_id="s1")
    assert summary["session"] == {
        "session_id": "s1", "dj_username": "djunohoo", "platform": "twitch", "title": "Deep House Vibes",
        "status": "offline", "started_at": "2026-01-05T20:00:00Z", "ended_at": "2026-01-05T20:20:00Z",
        "total_tracks": 3, "total_interactions": 4, "total_responses": 20, "peak_viewers": 200,
        "duration_seconds": 1200,
        # 100x300 s + 150x300 s + 120x300 s + 200x300 s = 171,000 viewer-seconds over 1,200 s
        "average_viewers": 142.5, "viewer_minutes": 2850.0,
        "chat_messages": 5, "unique_chatters": 3, "messages_per_minute": 0.25,
        "peak_chat_minute": {"minute": "2026-01-05T20:01:00Z", "messages": 3},
    }
    assert summary["genre_breakdown"] == [
        {"main_genre": "drum and bass", "subgenre": "liquid dnb", "count": 2},
        {"main_genre": "house", "subgenre": "deep house", "count": 1},
    ]
    assert summary["interaction_stats"] == [
        {"type": "educational", "count": 2, "avg_response": 6.0},
        {"type": "hype", "count": 2, "avg_response": 4.0},
    ]
    assert summary["viewer_timeline"] == [
        {"at": "2026-01-05T20:00:00Z", "viewers": 100}, {"at": "2026-01-05T20:05:00Z", "viewers": 150},
        {"at": "2026-01-05T20:10:00Z", "viewers": 120}, {"at": "2026-01-05T20:15:00Z", "viewers": 200},
    ]
    assert summary["chat_timeline"] == [
        {"minute": "2026-01-05T20:01:00Z", "messages": 3, "interactions": 1, "responses": 8},
        {"minute": "2026-01-05T20:06:00Z", "messages": 0, "interactions": 1, "responses": 5},
        {"minute": "2026-01-05T20:07:00Z", "messages": 1, "interactions": 1, "responses": 3},
        {"minute": "2026-01-05T20:11:00Z", "messages": 0, "interactions": 1, "responses": 4},
        {"minute": "2026-01-05T20:12:00Z", "messages": 1, "interactions": 0, "responses": 0},
    ]
    changes = [(t["title"], t["engagement"], t["viewers_start"], t["viewers_end"], t["viewer_change"])
               for t in summary["tracks"]]
    assert changes == [
        ("Music", 8, 100, 150, 50),
        ("liquid dnb at 20:05", 8, 150, 120, -30),
        ("deep house at 20:10", 4, 120, 200, 80),  # the last track plays until the stream ends
    ]
    assert [t["title"] for t in summary["top_tracks"]] == ["Music", "liquid dnb at 20:05", "deep house at 20:10"]


def test_session_summary_of_a_live_session_without_samples(tenant, streams):
    summary = session_summary(tenant=tenant, session_id="s2")
    # live: measured to the latest row heard of (the interaction at 10:05), not to the clock
    assert summary["session"]["duration_seconds"] == 300
    assert summary["session"]["average_viewers"] is None
    assert summary["session"]["viewer_minutes"] == 0
    assert summary["session"]["messages_per_minute"] == 0.0
    assert summary["tracks"][0]["viewer_change"] is None


def test_unknown_or_foreign_session_is_none(tenant, other_tenant, streams):
    assert session_summary(tenant=tenant, session_id="nope") is None
    assert session_summary(tenant=other_tenant, session_id="s2") is None


def test_engagement_per_subgenre_and_characteristic(tenant, streams):
    result = engagement(tenant=tenant, since=f.at(5, 0), until=f.at(8, 0), bucket="day")
    assert result["since"] == "2026-01-05T00:00:00Z"
    assert [(s["subgenre"], s["plays"], s["engagement"], s["series"]) for s in result["subgenres"]] == [
        ("liquid dnb", 2, 16, [{"start": "2026-01-05T00:00:00Z", "plays": 2, "engagement": 16}]),
        ("minimal", 1, 10, [{"start": "2026-01-07T00:00:00Z", "plays": 1, "engagement": 10}]),
        ("deep house", 2, 4, [{"start": "2026-01-05T00:00:00Z", "plays": 1, "engagement": 4},
                              {"start": "2026-01-07T00:00:00Z", "plays": 1, "engagement": 0}]),
    ]
    assert [(c["name"], c["plays"], c["engagement"]) for c in result["characteristics"]] == [
        ("atmospheric", 2, 16), ("melodic", 2, 16), ("jazzy", 1, 8), ("groovy", 2, 4), ("soulful", 1, 0),
    ]
    groovy = next(c for c in result["characteristics"] if c["name"] == "groovy")
    assert groovy["series"] == [{"start": "2026-01-05T00:00:00Z", "plays": 1, "engagement": 4},
                                {"start": "2026-01-07T00:00:00Z", "plays": 1, "engagement": 0}]


def test_engagement_hourly_buckets(tenant, streams):
    result = engagement(tenant=tenant, since=f.at(5, 0), until=f.at(6, 0), bucket="hour")
    assert [(s["subgenre"], s["series"]) for s in result["subgenres"]] == [
        ("liquid dnb", [{"start": "2026-01-05T20:00:00Z", "plays": 2, "engagement": 16}]),
        ("deep house", [{"start": "2026-01-05T20:00:00Z", "plays": 1, "engagement": 4}]),
    ]


@pytest.mark.parametrize(("values", "p50", "p95"), [
    ([], None, None), ([7], 7, 7), ([100, 200, 300, 400, 1000], 300, 1000),
    (list(range(1, 21)), 10, 19), (list(range(1, 101)), 50, 95),
])
def test_nearest_rank(values, p50, p95):
    assert (nearest_rank(values, 50), nearest_rank(values, 95)) == (p50, p95)


def test_delivery_health_per_endpoint(tenant, other_tenant):
    good = f.endpoint(tenant, "https://good.example/hooks")
    bad = f.endpoint(tenant, "https://bad.example/hooks")
    quiet = f.endpoint(tenant, "https://quiet.example/hooks")
    day5, day6 = f.at(5, 12), f.at(6, 12)
    for duration in (100, 200, 400):
        f.delivery(good, status="succeeded", created_at=day5, attempts=[(day5, duration, 200, True)])
    f.delivery(good, status="failed", created_at=day5, attempts=[(day5, 1000, 500, False)])
    f.delivery(good, status="pending", created_at=day6, attempts=[(day6, 300, 503, False)])
    f.delivery(bad, status="failed", created_at=day5,
               attempts=[(day5, 5000, None, False), (day6, 20, 500, False), (f.at(6, 13), 30, 500, False)])
    f.delivery(f.endpoint(other_tenant, "https://other.example/"), status="failed", created_at=day5,
               attempts=[(day5, 1, 500, False)])
    f.delivery(good, status="failed", created_at=f.at(9, 0), attempts=[(f.at(9, 0), 1, 500, False)])  # outside

    result = delivery_health(tenant=tenant, since=f.at(5, 0), until=f.at(7, 0), bucket="day")
    rows = {e["url"]: e for e in result["endpoints"]}
    assert set(rows) == {good.url, bad.url, quiet.url}
    assert rows[good.url]["deliveries"] == {"total": 5, "succeeded": 3, "failed": 1, "pending": 1}
    assert rows[good.url]["success_rate"] == 0.75
    assert rows[good.url]["attempts"] == 5
    assert rows[good.url]["latency_ms"] == {"p50": 300, "p95": 1000, "max": 1000}
    assert rows[good.url]["failures_by_status"] == {"500": 1, "503": 1}
    assert rows[good.url]["failures"] == [
        {"start": "2026-01-05T00:00:00Z", "by_status": {"500": 1}},
        {"start": "2026-01-06T00:00:00Z", "by_status": {"503": 1}},
    ]
    assert rows[bad.url]["success_rate"] == 0.0
    assert rows[bad.url]["latency_ms"] == {"p50": 30, "p95": 5000, "max": 5000}
    assert rows[bad.url]["failures"] == [
        {"start": "2026-01-05T00:00:00Z", "by_status": {"error": 1}},
        {"start": "2026-01-06T00:00:00Z", "by_status": {"500": 2}},
    ]
    assert rows[quiet.url] == {
        "endpoint_id": quiet.pk, "url": quiet.url, "description": "", "is_active": True,
        "deliveries": {"total": 0, "succeeded": 0, "failed": 0, "pending": 0}, "success_rate": None,
        "attempts": 0, "latency_ms": {"p50": None, "p95": None, "max": None}, "failures_by_status": {},
        "failures": [],
    }
