"""Property: genre trends served from rollups equal the naive aggregate over raw rows, whatever
happens between refreshes — plays and chat arriving late and out of order (a play landing in an
hour already rolled up, chat re-linked to a late track), replayed events, and windows whose
edges fall inside hours and days.
"""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from accounts.models import Tenant
from analytics.rollups import rollup_refresh
from analytics.selectors import genre_trends
from streams import services

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 22, 0, tzinfo=UTC)  # two hours before a day boundary
SPAN = 3 * 24 * 3600  # seconds of stream time the events fall in
GENRES = [("house", "deep house"), ("techno", "minimal techno"), ("drum and bass", "liquid dnb")]
TRAITS = ["atmospheric", "jazzy", "dark", "groovy"]
_tenants = itertools.count()

moments = st.integers(min_value=0, max_value=SPAN)
play = st.tuples(st.just("play"), st.integers(0, 1), moments, st.sampled_from(GENRES),
                 st.one_of(st.none(), st.floats(0, 1, allow_nan=False).map(lambda x: round(x, 3))),
                 st.lists(st.sampled_from(TRAITS), max_size=3, unique=True))
chat = st.tuples(st.just("chat"), st.integers(0, 1), moments, st.integers(0, 20))
operation = st.one_of(play, chat, st.just(("refresh",)), st.tuples(st.just("replay"), st.integers(0, 1000)))
bound = st.one_of(st.none(), st.integers(-3600, SPAN + 3600).map(lambda s: T0 + timedelta(seconds=s)))
window = st.tuples(bound, bound).filter(lambda w: None in w or w[0] < w[1])


def apply(tenant: Tenant, op: tuple, index: int) -> None:
    kind, session, second, *rest = op
    at, session_id = T0 + timedelta(seconds=second), f"s{session}"
    if kind == "play":
        (genre, subgenre), confidence, traits = rest
        services.track_play_record(tenant=tenant, session_id=session_id, at=at, artist="A", title=f"t{index}",
                                   main_genre=genre, subgenre=subgenre, confidence=confidence,
                                   characteristics=traits)
    else:
        services.chat_interaction_record(tenant=tenant, session_id=session_id, at=at, message_sent=f"m{index}",
                                         engagement_type="hype", response_count=rest[0])


def assert_rollups_match_raw(tenant: Tenant, windows) -> None:
    for since, until in [(None, None), *windows]:
        raw = genre_trends(tenant=tenant, since=since, until=until, use_rollups=False)
        assert genre_trends(tenant=tenant, since=since, until=until) == raw, (since, until)


# No shrinking phase: each example is a few hundred queries, and shrinking one would outlast
# the suite's timeout; the failure report shows the generated operations as they were.
@settings(max_examples=60, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(before=st.lists(st.one_of(play, chat), min_size=1, max_size=15),
       after=st.lists(operation, min_size=1, max_size=20), windows=st.lists(window, max_size=4))
def test_rollups_equal_the_raw_aggregate(django_settings, before, after, windows):
    """`before` is rolled up; `after` arrives later, in any order and with refreshes in between."""
    django_settings.ANALYTICS_ROLLUP_MARGIN = 0
    tenant = Tenant.objects.create(slug=f"prop-{next(_tenants)}")
    done: list[tuple[tuple, int]] = []
    ops = [*before, ("refresh",), *after]
    for index, op in enumerate(ops):
        if op[0] == "refresh":
            rollup_refresh(tenant=tenant)
            assert_rollups_match_raw(tenant, windows)
        elif op[0] == "replay":
            if done:  # the same event again, as a sender retry or an operator replay delivers it
                apply(tenant, *done[op[1] % len(done)])
        else:
            apply(tenant, op, index)
            done.append((op, index))
    assert_rollups_match_raw(tenant, windows)
    rollup_refresh(tenant=tenant)
    assert_rollups_match_raw(tenant, windows)


@pytest.fixture
def django_settings(settings):
    return settings


# --- the same situations, one by one, with the figures spelled out -------------------------


def test_a_late_track_takes_chat_away_from_a_play_of_the_day_before(settings, tenant):
    """Chat at 00:10 was under the 23:50 house track (rolled up on day 1); a techno track reported
    late at 00:05 is what really played then: day 1 must lose the responses, not keep them."""
    settings.ANALYTICS_ROLLUP_MARGIN = 0
    day2 = datetime(2026, 3, 2, tzinfo=UTC)
    services.track_play_record(tenant=tenant, session_id="s", at=day2 - timedelta(minutes=10), artist="A",
                               title="House", main_genre="house", subgenre="deep house")
    services.chat_interaction_record(tenant=tenant, session_id="s", at=day2 + timedelta(minutes=10),
                                     message_sent="wow", response_count=7)
    rollup_refresh(tenant=tenant)
    assert [(r["subgenre"], r["total_engagement"]) for r in genre_trends(tenant=tenant)] == [("deep house", 7)]

    services.track_play_record(tenant=tenant, session_id="s", at=day2 + timedelta(minutes=5), artist="B",
                               title="Techno", main_genre="techno", subgenre="minimal techno")
    expected = [("deep house", 1, 0), ("minimal techno", 1, 7)]
    for _ in ("tail", "refreshed"):
        assert [(r["subgenre"], r["total_plays"], r["total_engagement"]) for r in genre_trends(tenant=tenant)] \
            == expected
        assert genre_trends(tenant=tenant) == genre_trends(tenant=tenant, use_rollups=False)
        assert [(r["subgenre"], r["total_engagement"]) for r in genre_trends(tenant=tenant, until=day2)] == \
            [("deep house", 0)]
        rollup_refresh(tenant=tenant)


def test_a_replayed_inbound_message_changes_no_figure(settings, tenant):
    """The DJ stream assistant's events posted over HTTP, rolled up, then replayed by an operator: nothing is
    added or dirtied."""
    from rest_framework.test import APIClient

    from webhooks.inbound.models import InboundMessage
    from webhooks.inbound.services import message_process, source_create

    settings.ANALYTICS_ROLLUP_MARGIN = 0
    client = APIClient()
    key = source_create(tenant=tenant, name="assistant", kind="stream-assistant")[1]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    stream = {"twitch_username": "djunohoo", "platform": "twitch", "viewer_count": 127}
    track = {"timestamp": "2026-03-01T20:30:00Z", "dj_stream": stream, "session_id": "sess",
             "event_type": "track_start", "track_data": {"artist": "LTJ Bukem", "title": "Music", "classification": {
                 "main_genre": "drum and bass", "subgenre": "liquid dnb", "confidence": 0.96,
                 "characteristics": ["atmospheric", "jazzy"]}}}
    chat = {"timestamp": "2026-03-01T20:30:15Z", "dj_stream": stream, "session_id": "sess",
            "event_type": "chat_message",
            "chat_interaction": {"message_sent": "Liquid!", "engagement_type": "educational", "response_count": 8}}
    assert client.post("/api/webhook/track-classified", track, format="json").status_code == 201
    assert client.post("/api/webhook/chat-interaction", chat, format="json").status_code == 201
    rollup_refresh(tenant=tenant)
    before = genre_trends(tenant=tenant)
    assert [(r["total_plays"], r["total_engagement"], r["average_confidence"]) for r in before] == [(1, 8, 0.96)]

    for message in InboundMessage.objects.filter(tenant=tenant):
        assert message_process(message_pk=message.pk, force=True).status == 201
    assert client.post("/api/webhook/track-classified", track, format="json").status_code == 201  # a sender retry
    assert genre_trends(tenant=tenant) == before == genre_trends(tenant=tenant, use_rollups=False)
    assert rollup_refresh(tenant=tenant) == 0  # no new rows: no day was dirty


@pytest.mark.django_db(transaction=True)
def test_refreshes_running_beside_concurrent_ingest_stay_exact(settings):
    """Three writers ingest out-of-order plays and chat (with replays) while a fourth thread refreshes
    the rollups back to back; afterwards the rollup answer equals the raw one, before and after a
    last refresh. The margin (1 s) is far longer than any of these transactions."""
    import random
    import threading

    from django.db import connection

    settings.ANALYTICS_ROLLUP_MARGIN = 1
    tenant = Tenant.objects.create(slug="concurrent")
    rollup_refresh(tenant=tenant)
    writers_done, errors, refreshes = threading.Event(), [], []

    def write(worker: int) -> None:
        rng = random.Random(worker)
        try:
            ops = []
            for i in range(40):
                kind, session, second = rng.choice(["play", "chat"]), rng.randrange(2), rng.randrange(SPAN)
                details = (rng.choice(GENRES), 0.5, rng.sample(TRAITS, 2)) if kind == "play" else (rng.randrange(20),)
                ops.append(((kind, session, second, *details), worker * 1000 + i))
            for op, index in ops + rng.sample(ops, 10):  # ten replays
                apply(tenant, op, index)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    def refresh() -> None:
        try:
            while not writers_done.is_set():
                refreshes.append(rollup_refresh(tenant=tenant))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    refresher = threading.Thread(target=refresh)
    writers = [threading.Thread(target=write, args=(n,)) for n in range(3)]
    refresher.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    writers_done.set()
    refresher.join()
    assert not errors, errors
    assert refreshes  # the refresher really ran beside the writers
    windows = [(T0 + timedelta(hours=5, minutes=17), T0 + timedelta(days=2, minutes=3)), (None, T0 + timedelta(days=1))]
    assert_rollups_match_raw(tenant, windows)
    assert sum(r["total_plays"] for r in genre_trends(tenant=tenant)) > 0
    rollup_refresh(tenant=tenant)
    assert_rollups_match_raw(tenant, windows)
