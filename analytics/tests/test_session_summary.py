"""Session summaries of streams recorded through the streams services (the path inbound events take)."""

from datetime import UTC, datetime, timedelta

import pytest

from analytics.selectors import session_summary
from streams import services
from streams.services import StreamInfo

pytestmark = pytest.mark.django_db

T = datetime(2026, 1, 10, 21, 0, tzinfo=UTC)


def s(seconds: int) -> datetime:
    return T + timedelta(seconds=seconds)


@pytest.fixture
def live(tenant):
    """A live stream with viewer readings at uneven intervals: 0 s, 60 s, 240 s, 250 s."""
    services.session_start(tenant=tenant, session_id="live-1", at=s(0),
                           info=StreamInfo(platform="twitch", dj_username="djunohoo", viewer_count=10))
    services.viewer_count_record(tenant=tenant, session_id="live-1", at=s(60), viewer_count=40)
    services.track_play_record(tenant=tenant, session_id="live-1", at=s(30), artist="A", title="One",
                               main_genre="house", subgenre="deep house")
    services.track_play_record(tenant=tenant, session_id="live-1", at=s(200), artist="B", title="Two",
                               main_genre="techno", subgenre="minimal techno")
    services.viewer_count_record(tenant=tenant, session_id="live-1", at=s(240), viewer_count=25)
    services.viewer_count_record(tenant=tenant, session_id="live-1", at=s(250), viewer_count=100)
    services.chat_interaction_record(tenant=tenant, session_id="live-1", at=s(100), message_sent="deep!",
                                     engagement_type="educational", response_count=6)
    services.chat_interaction_record(tenant=tenant, session_id="live-1", at=s(210), message_sent="hype!",
                                     engagement_type="hype", response_count=9)
    for i, (at, user) in enumerate(((61, "u1"), (65, "u2"), (119, "u1"), (600, "u3"))):
        services.chat_message_record(tenant=tenant, session_id="live-1", message_id=f"m{i}", created_at=s(at),
                                     user_id=user, user_name=user.upper(), message="hi")
    # the same session id in another tenant must not leak in
    return tenant


def test_time_weighted_average_over_uneven_samples_while_live(live, other_tenant):
    services.viewer_count_record(tenant=other_tenant, session_id="live-1", at=s(5), viewer_count=9999)
    summary = session_summary(tenant=live, session_id="live-1")
    figures = summary["session"]
    assert figures["status"] == "live" and figures["ended_at"] is None
    # live: up to the last thing heard, the chat message at 600 s
    assert figures["duration_seconds"] == 600
    # 10 x 60 + 40 x 180 + 25 x 10 + 100 x 350 = 43,050 viewer-seconds over 600 s
    # (the plain mean of the four readings would be 43.75)
    assert figures["viewer_minutes"] == 717.5
    assert figures["average_viewers"] == 71.75
    assert figures["peak_viewers"] == 100
    assert figures["chat_messages"] == 4 and figures["unique_chatters"] == 3
    assert figures["messages_per_minute"] == 0.4  # 4 messages in 10 minutes
    assert figures["peak_chat_minute"] == {"minute": "2026-01-10T21:01:00Z", "messages": 3}
    assert (figures["total_tracks"], figures["total_interactions"], figures["total_responses"]) == (2, 2, 15)
    tracks = [(t["title"], t["interactions"], t["engagement"], t["viewers_start"], t["viewers_end"],
               t["viewer_change"]) for t in summary["tracks"]]
    # One: 30 s (10 viewers) to 200 s (40); Two: 200 s (40) to the end so far, 600 s (100)
    assert tracks == [("One", 1, 6, 10, 40, 30), ("Two", 1, 9, 40, 100, 60)]
    assert [t["title"] for t in summary["top_tracks"]] == ["Two", "One"]
    assert summary["viewer_timeline"] == [
        {"at": "2026-01-10T21:00:00Z", "viewers": 10}, {"at": "2026-01-10T21:01:00Z", "viewers": 40},
        {"at": "2026-01-10T21:04:00Z", "viewers": 25}, {"at": "2026-01-10T21:04:10Z", "viewers": 100},
    ]


def test_ending_the_stream_extends_the_last_reading_to_the_end(live):
    services.session_end(tenant=live, session_id="live-1", at=s(900))
    figures = session_summary(tenant=live, session_id="live-1")["session"]
    assert figures["status"] == "offline" and figures["duration_seconds"] == 900
    # 43,050 + 100 x 300 = 73,050 viewer-seconds over 900 s = 81.1666...
    assert (figures["viewer_minutes"], figures["average_viewers"]) == (1217.5, 81.17)
    assert figures["messages_per_minute"] == 0.27  # 4 x 60 / 900


def test_a_late_track_takes_over_the_chat_that_played_under_it(live):
    """Chat at 210 s was under "Two"; a track reported late at 205 s is what really played then."""
    services.track_play_record(tenant=live, session_id="live-1", at=s(205), artist="C", title="Late",
                               main_genre="breaks", subgenre="florida breaks")
    summary = session_summary(tenant=live, session_id="live-1")
    assert [(t["title"], t["engagement"]) for t in summary["tracks"]] == [("One", 6), ("Two", 0), ("Late", 9)]
    assert summary["genre_breakdown"] == [
        {"main_genre": "breaks", "subgenre": "florida breaks", "count": 1},
        {"main_genre": "house", "subgenre": "deep house", "count": 1},
        {"main_genre": "techno", "subgenre": "minimal techno", "count": 1},
    ]


def test_chat_counts_for_the_track_on_at_its_moment(tenant):
    """Before any track: counted for no genre; at a track's first second: that track's."""
    from analytics.selectors import genre_trends

    for at, text, responses in ((s(5), "before any track", 4), (s(60), "on the change", 7), (s(59), "just before", 2)):
        services.chat_interaction_record(tenant=tenant, session_id="x", at=at, message_sent=text,
                                         response_count=responses)
    services.track_play_record(tenant=tenant, session_id="x", at=s(10), artist="A", title="One",
                               main_genre="house", subgenre="deep house")
    services.track_play_record(tenant=tenant, session_id="x", at=s(60), artist="B", title="Two",
                               main_genre="techno", subgenre="minimal techno")
    assert [(r["subgenre"], r["total_engagement"]) for r in genre_trends(tenant=tenant, use_rollups=False)] == [
        ("deep house", 2), ("minimal techno", 7)]
    summary = session_summary(tenant=tenant, session_id="x")
    assert [(t["title"], t["interactions"], t["engagement"]) for t in summary["tracks"]] == \
        [("One", 1, 2), ("Two", 1, 7)]
    assert summary["session"]["total_responses"] == 13  # the 4 before any track count for the session only
