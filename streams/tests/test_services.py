"""The processing rules: idempotent, order-independent, event time wins."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from streams import services
from streams.models import ChatInteraction, ChatMessage, StreamError, StreamSession, TrackPlay, ViewerSample
from streams.services import StreamInfo
from webhooks.models import Event

T0 = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _stream_events():
    return Event.objects.exclude(type="user.created")


def _events(tenant):
    """A small stream as a list of calls, each independent of the others' order."""
    sid = "sess-1"
    return [
        lambda: services.session_start(tenant=tenant, session_id=sid, at=at(0),
                                       info=StreamInfo("twitch", "djunohoo", "Deep House Vibes", 10)),
        lambda: services.session_update(tenant=tenant, session_id=sid, at=at(20),
                                        info=StreamInfo(title="Liquid hour", viewer_count=150)),
        lambda: services.track_play_record(tenant=tenant, session_id=sid, at=at(5), artist="A", title="One",
                                           main_genre="house", subgenre="deep house",
                                           info=StreamInfo(viewer_count=40)),
        lambda: services.track_play_record(tenant=tenant, session_id=sid, at=at(12), artist="B", title="Two",
                                           main_genre="drum and bass", subgenre="liquid dnb",
                                           info=StreamInfo(viewer_count=90)),
        lambda: services.chat_interaction_record(tenant=tenant, session_id=sid, at=at(6), message_sent="deep!",
                                                 engagement_type="educational", response_count=3),
        lambda: services.chat_interaction_record(tenant=tenant, session_id=sid, at=at(13), message_sent="liquid!",
                                                 engagement_type="hype", response_count=8),
        lambda: services.session_end(tenant=tenant, session_id=sid, at=at(60), info=StreamInfo(viewer_count=0)),
    ]


def _state(tenant) -> dict:
    session = StreamSession.objects.get(tenant=tenant, session_id="sess-1")
    return {
        "session": {f: getattr(session, f) for f in (
            "platform", "dj_username", "title", "status", "started_at", "ended_at", "duration_seconds",
            "current_viewers", "peak_viewers", "last_event_at")},
        "tracks": sorted(TrackPlay.objects.filter(session=session).values_list("played_at", "artist",
                                                                              "viewers_at_play")),
        "chat": sorted(ChatInteraction.objects.filter(session=session).values_list("at", "track__title")),
        "samples": sorted(ViewerSample.objects.filter(session=session).values_list("at", "viewer_count")),
        "events": sorted(_stream_events().filter(tenant=tenant).values_list("type", flat=True)),
    }


@pytest.mark.django_db
def test_any_order_and_any_replay_gives_the_same_state(tenant):
    calls = _events(tenant)
    for call in calls:
        call()
    expected = _state(tenant)
    assert expected["session"]["status"] == "offline"
    assert expected["session"]["title"] == "Liquid hour"
    assert expected["session"]["duration_seconds"] == 3600
    assert expected["session"]["peak_viewers"] == 150
    assert expected["chat"] == [(at(6), "One"), (at(13), "Two")]
    assert expected["events"] == sorted(["stream.live", "stream.updated", "track.classified", "track.classified",
                                         "chat.interaction", "chat.interaction", "stream.offline"])

    orders = list(itertools.permutations(range(len(calls))))
    for order in orders[1::397]:  # a spread of the 5040 orders keeps the test quick
        StreamSession.objects.all().delete()
        Event.objects.all().delete()
        for i in order:
            calls[i]()
        for i in order[:3]:  # and replays
            calls[i]()
        state = _state(tenant)
        assert state["session"] == expected["session"], order
        assert state["tracks"] == expected["tracks"], order
        assert state["chat"] == expected["chat"], order
        assert state["samples"] == expected["samples"], order
        assert set(state["events"]) >= {"stream.offline", "track.classified", "chat.interaction"}
        assert state["events"].count("track.classified") == 2
        assert state["events"].count("chat.interaction") == 2
        # Not "now live" for a start processed after the (newer) end.
        assert state["events"].count("stream.live") == (order.index(0) < order.index(6)), order
        assert state["events"].count("stream.offline") == 1


@pytest.mark.django_db
def test_offline_before_live_ends_offline_with_duration(tenant):
    services.session_end(tenant=tenant, session_id="rc", at=at(60), ended_at=at(60), duration_seconds=3600,
                         peak_viewers=1234)
    services.session_start(tenant=tenant, session_id="rc", at=at(0), started_at=at(0),
                           info=StreamInfo(platform="realcast", title="Epic"))
    session = StreamSession.objects.get(session_id="rc")
    assert (session.status, session.started_at, session.ended_at) == ("offline", at(0), at(60))
    assert (session.duration_seconds, session.peak_viewers, session.title) == (3600, 1234, "Epic")


@pytest.mark.django_db
def test_status_tie_at_the_same_second_is_offline_whatever_the_order(tenant):
    services.session_end(tenant=tenant, session_id="a", at=at(1))
    services.session_start(tenant=tenant, session_id="a", at=at(1))
    services.session_start(tenant=tenant, session_id="b", at=at(1))
    services.session_end(tenant=tenant, session_id="b", at=at(1))
    assert set(StreamSession.objects.values_list("status", flat=True)) == {"offline"}


@pytest.mark.django_db
def test_an_older_update_does_not_overwrite_a_newer_title_or_viewer_count(tenant):
    services.session_update(tenant=tenant, session_id="s", at=at(10), info=StreamInfo(title="new", viewer_count=5))
    services.session_update(tenant=tenant, session_id="s", at=at(5), info=StreamInfo(title="old", viewer_count=50))
    session = StreamSession.objects.get(session_id="s")
    assert (session.title, session.current_viewers, session.peak_viewers) == ("new", 5, 50)


@pytest.mark.django_db
def test_late_track_claims_the_chat_that_happened_while_it_played(tenant):
    services.track_play_record(tenant=tenant, session_id="s", at=at(0), artist="A", title="One")
    services.chat_interaction_record(tenant=tenant, session_id="s", at=at(7), message_sent="x")
    services.chat_interaction_record(tenant=tenant, session_id="s", at=at(11), message_sent="y")
    assert set(ChatInteraction.objects.values_list("track__title", flat=True)) == {"One"}
    services.track_play_record(tenant=tenant, session_id="s", at=at(5), artist="B", title="Two")
    services.track_play_record(tenant=tenant, session_id="s", at=at(10), artist="C", title="Three")
    assert dict(ChatInteraction.objects.values_list("message_sent", "track__title")) == {"x": "Two", "y": "Three"}


@pytest.mark.django_db
def test_chat_message_is_unique_per_message_id_and_error_per_time_and_code(tenant):
    for _ in range(2):
        services.chat_message_record(tenant=tenant, session_id="s", message_id="msg_1", created_at=at(1),
                                     user_name="GamerPro", message="Great stream!")
        services.session_error(tenant=tenant, session_id="s", at=at(2), error_code="ENCODER_ERROR",
                               error_message="Encoder disconnected")
    assert ChatMessage.objects.count() == 1
    assert StreamError.objects.count() == 1
    assert StreamSession.objects.get().status == "error"
    assert sorted(_stream_events().values_list("type", flat=True)) == ["chat.message.new", "stream.error"]


@pytest.mark.django_db
def test_viewer_count_update_samples_once_and_keeps_the_peak(tenant):
    for _ in range(2):
        services.viewer_count_record(tenant=tenant, session_id="s", at=at(1), viewer_count=128, change=3)
    services.viewer_count_record(tenant=tenant, session_id="s", at=at(2), viewer_count=100, change=-28)
    session = StreamSession.objects.get()
    assert (session.current_viewers, session.peak_viewers) == (100, 128)
    assert ViewerSample.objects.count() == 2
    assert list(_stream_events().values_list("type", flat=True)) == ["viewer.count.update"] * 2


@pytest.mark.django_db
def test_sessions_of_two_tenants_with_the_same_id_stay_apart(tenant, other_tenant):
    services.session_start(tenant=tenant, session_id="same", at=at(0), info=StreamInfo(title="mine"))
    services.session_start(tenant=other_tenant, session_id="same", at=at(0), info=StreamInfo(title="theirs"))
    assert StreamSession.objects.get(tenant=tenant).title == "mine"
    assert StreamSession.objects.get(tenant=other_tenant).title == "theirs"


@pytest.mark.django_db
def test_duration_follows_a_late_event_that_moves_the_start(tenant):
    services.session_end(tenant=tenant, session_id="s", at=at(60))
    services.session_start(tenant=tenant, session_id="s", at=at(10))
    services.track_play_record(tenant=tenant, session_id="s", at=at(5), artist="A", title="Early")
    session = StreamSession.objects.get()
    assert (session.started_at, session.duration_seconds) == (at(5), 55 * 60)


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_events_of_a_session_make_one_session_and_lose_nothing(tenant):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    def play(n: int) -> None:
        try:
            services.track_play_record(tenant=tenant, session_id="race", at=at(n), artist="A", title=f"T{n}",
                                       info=StreamInfo(viewer_count=n))
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(play, range(24)))
    session = StreamSession.objects.get(session_id="race")
    assert session.tracks.count() == 24
    assert (session.peak_viewers, session.current_viewers, session.started_at) == (23, 23, at(0))
    assert _stream_events().filter(type="track.classified").count() == 24


def _each_order(calls, read):
    """`read()` after running `calls` in every order, from an empty database each time."""
    results = set()
    for order in itertools.permutations(range(len(calls))):
        StreamSession.objects.all().delete()
        for i in order:
            calls[i]()
        results.add(read())
    return results


@pytest.mark.django_db
def test_each_detail_keeps_the_newest_event_that_said_it_whatever_the_order(tenant):
    # The newest event names only the title; the DJ comes from the newer of two older ones.
    calls = [
        lambda: services.session_update(tenant=tenant, session_id="s", at=at(10), info=StreamInfo(title="new")),
        lambda: services.session_update(tenant=tenant, session_id="s", at=at(5), info=StreamInfo(dj_username="b2b")),
        lambda: services.session_update(tenant=tenant, session_id="s", at=at(1),
                                        info=StreamInfo(dj_username="opener", title="old", platform="twitch")),
    ]
    results = _each_order(calls, lambda: StreamSession.objects.values_list("title", "dj_username", "platform").get())
    assert results == {("new", "b2b", "twitch")}


@pytest.mark.django_db
def test_a_blank_detail_does_not_erase_a_known_one(tenant):
    services.session_start(tenant=tenant, session_id="s", at=at(0), info=StreamInfo("twitch", "djunohoo", "Set"))
    services.session_update(tenant=tenant, session_id="s", at=at(5), info=StreamInfo("", "", "", 40))
    assert StreamSession.objects.values_list("platform", "dj_username", "title", "current_viewers").get() == (
        "twitch", "djunohoo", "Set", 40)


@pytest.mark.django_db
def test_two_viewer_readings_of_one_moment_keep_the_larger_whatever_the_order(tenant):
    calls = [
        lambda: services.viewer_count_record(tenant=tenant, session_id="s", at=at(1), viewer_count=10),
        lambda: services.track_play_record(tenant=tenant, session_id="s", at=at(1), artist="A", title="T",
                                           info=StreamInfo(viewer_count=20)),
        lambda: services.viewer_count_record(tenant=tenant, session_id="s", at=at(0), viewer_count=50),
    ]

    def read():
        session = StreamSession.objects.get()
        return session.current_viewers, session.peak_viewers, tuple(
            ViewerSample.objects.order_by("at").values_list("viewer_count", flat=True))

    assert _each_order(calls, read) == {(20, 50, (50, 20))}


@pytest.mark.django_db
def test_an_older_viewer_count_does_not_overwrite_a_newer_one(tenant):
    services.viewer_count_record(tenant=tenant, session_id="s", at=at(2), viewer_count=90, change=-38)
    services.viewer_count_record(tenant=tenant, session_id="s", at=at(1), viewer_count=128, change=3)
    session = StreamSession.objects.get()
    assert (session.current_viewers, session.peak_viewers, session.viewers_at) == (90, 128, at(2))


@pytest.mark.django_db
def test_a_duration_reaching_before_year_one_is_ignored_not_an_error(tenant):
    dawn = datetime(1, 1, 1, 0, 10, tzinfo=UTC)
    session = services.session_end(tenant=tenant, session_id="s", at=dawn, ended_at=dawn, duration_seconds=3600)
    assert (session.status, session.started_at, session.duration_seconds) == ("offline", dawn, 0)
