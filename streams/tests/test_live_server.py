"""The sender client and `simulate_stream` against the real server (pytest-django's live_server)."""

import io
import itertools
import os
import random
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from streams.client import StreamAssistantWebhookClient
from streams.models import ChatInteraction, StreamSession, TrackPlay
from streams.simulation import GENRES, plan_set, play_set
from streams.tests.test_client import INFO, TRACK
from webhooks.inbound.services import source_create


@pytest.fixture
def assistant_key(transactional_db, tenant):
    return source_create(tenant=tenant, name="assistant", kind="stream-assistant")[1]


def test_client_against_the_real_server(live_server, assistant_key, tenant):
    with StreamAssistantWebhookClient(live_server.url, assistant_key, session_id="live-1") as client:
        assert client.send_stream_stats(INFO, "stream_start").ok
        track = client.send_track_classification(TRACK, INFO)
        assert track.status_code == 201 and track.body["track_play_id"]
        chat = client.send_chat_interaction({"message_sent": "🌊 Liquid!", "engagement_type": "educational",
                                             "response_count": 4, "emoji_reactions": {"🌊": 4}}, INFO)
        assert chat.ok and chat.body["track_play_id"] == track.body["track_play_id"]
        bad = client.send_track_classification({"title": "no artist"}, INFO)
        assert bad.status_code == 400 and "track_data" in bad.error
        assert client.send_stream_stats({**INFO, "viewer_count": 0}, "stream_end").ok
    session = StreamSession.objects.get(tenant=tenant, session_id="live-1")
    assert session.status == "offline" and session.tracks.count() == 1


def test_client_with_a_wrong_key_reports_401_without_raising(live_server, assistant_key):
    result = StreamAssistantWebhookClient(live_server.url, "shin_wrong").send_stream_stats(INFO)
    assert not result.ok and result.status_code == 401


def test_simulate_stream_sends_a_whole_set(live_server, assistant_key, tenant):
    out = io.StringIO()
    call_command("simulate_stream", url=live_server.url, api_key=assistant_key, tracks=8, speed=0, seed=7,
                 session="sim-1", stdout=out)
    text = out.getvalue()
    assert "[  8/8]" in text and "0 failed" in text
    session = StreamSession.objects.get(tenant=tenant, session_id="sim-1")
    assert session.status == "offline" and session.peak_viewers > 0 and session.duration_seconds > 8 * 180
    plays = TrackPlay.objects.filter(session=session)
    assert plays.count() == 8
    for play in plays:
        assert play.subgenre in GENRES[play.main_genre]["subgenres"]
        traits, tracks = GENRES[play.main_genre]["subgenres"][play.subgenre]
        assert set(play.characteristics) <= set(traits) and (play.artist, play.title) in tracks
    # Every bot message is linked to the track that was playing.
    assert not ChatInteraction.objects.filter(session=session, track__isnull=True).exists()


def test_simulated_viewers_rise_then_fall():
    _, planned = plan_set(tracks=20, rng=random.Random(1), end=datetime(2026, 1, 1, tzinfo=UTC))
    viewers = [t.viewers for t in planned]
    peak = viewers.index(max(viewers))
    assert 3 < peak < 16 and viewers[0] < max(viewers) / 2 and viewers[-1] < max(viewers) / 2
    assert all(a.at < b.at for a, b in itertools.pairwise(planned))


def test_simulate_stream_with_a_wrong_key_stops_at_once_with_one_line(live_server, assistant_key, tenant):
    with pytest.raises(CommandError) as failure:
        call_command("simulate_stream", url=live_server.url, api_key="shin_wrong", tracks=8, speed=0,
                     stdout=io.StringIO(), stderr=io.StringIO())
    assert str(failure.value) == f"gave up on {live_server.url}: HTTP 401: Invalid source key."
    assert not StreamSession.objects.exists()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(("url", "said"), [
    ("not a url", "--url must be an http(s) URL"),
    ("ftp://127.0.0.1/", "--url must be an http(s) URL"),
    ("http://127.0.0.1:{port}", "Connection refused"),
])
def test_simulate_stream_with_a_bad_url_is_one_clear_error(url, said):
    with pytest.raises(CommandError) as failure:
        call_command("simulate_stream", url=url.format(port=_closed_port()), api_key="k", tracks=3, speed=0,
                     timeout=1, stdout=io.StringIO(), stderr=io.StringIO())
    assert said in str(failure.value) and "\n" not in str(failure.value)


def test_a_stopped_set_still_ends_the_stream(live_server, assistant_key, tenant):
    lines = []
    with StreamAssistantWebhookClient(live_server.url, assistant_key, session_id="stopped-1") as client:
        summary = play_set(client, tracks=10, speed=float("inf"), rng=random.Random(3), progress=lines.append,
                           should_stop=lambda: len(lines) >= 2)
    assert summary.stopped and summary.tracks == 2 and summary.planned == 10 and summary.failed == 0
    session = StreamSession.objects.get(tenant=tenant, session_id="stopped-1")
    assert session.status == "offline" and session.tracks.count() == 2


def test_ctrl_c_ends_the_stream_cleanly(live_server, assistant_key, tenant):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "simulate_stream", "--url", live_server.url, "--api-key", assistant_key,
         "--tracks", "20", "--speed", "10", "--session", "ctrl-c"],
        cwd=Path(__file__).resolve().parents[2], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = [proc.stdout.readline(), proc.stdout.readline()]  # the header, then the first track
        assert output[1].startswith("[  1/20]"), output
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, rest
    assert "Stopped early: session ctrl-c, 1 of 20 tracks" in rest
    session = StreamSession.objects.get(tenant=tenant, session_id="ctrl-c")
    assert session.status == "offline" and session.tracks.count() == 1
