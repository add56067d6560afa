"""The live meter page in headless Chromium while `sample_audio --source synth` runs (plainly, and following
the Start/Stop buttons)."""

import time

import pytest

from audio.meter import level_percent
from audio.models import ListeningSession
from audio.tests.helpers import TICK, read_line, start_command, stop_process

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shown_level(page) -> float | None:
    value = page.get_attribute("#level", "data-level")
    return float(value) if value else None


def _wait_for_level(page, expected: float, timeout_ms: int = 15000) -> None:
    page.wait_for_function(
        "([want]) => { const v = document.getElementById('level').dataset.level;"
        " return v !== '' && Math.abs(parseFloat(v) - want) <= 0.15; }",
        arg=[expected], timeout=timeout_ms,
    )


def _check_when_listening(page, timeout: float = 60) -> None:
    """An idle meter sends nothing, so a session started by the sampler shows after "Check again"."""
    deadline = time.monotonic() + timeout
    while not ListeningSession.objects.filter(status="active").exists():
        assert time.monotonic() < deadline, "the sampler never started a session"
        page.wait_for_timeout(100)
    page.click("#check")


def test_meter_follows_the_synth_level_live(logged_in_page, live_server):
    page = logged_in_page
    page.goto(f"{live_server.url}/audio/meter/")
    page.wait_for_selector("text=Not listening.")
    sampler = start_command("--source", "synth", "--level", "-20", "--tenant", "acme", "--quiet")
    try:
        _check_when_listening(page)
        # A -20 dBFS sine: RMS -23.01 dBFS, level (60 - 23.01) / 60 = 61.6.
        _wait_for_level(page, level_percent(-23.0103))
        assert page.text_content("#rms") == "-23.01"
        assert page.text_content("#peak") == "-20.00"
        assert page.text_content("#clip") == "no"
        first = page.text_content("#status")
        page.wait_for_function("(s) => document.getElementById('status').textContent !== s", arg=first,
                               timeout=5000)  # moving in real time: every tick has a new timestamp
        width = page.eval_on_selector("#bar", "el => el.style.width")
        assert width == "61.6%"
    finally:
        stop_process(sampler)
    assert sampler.returncode == 0
    page.wait_for_selector("text=Not listening.", timeout=10000)

    louder = start_command("--source", "synth", "--level", "-6", "--tenant", "acme")
    try:
        read_line(louder, TICK, timeout=60)
        _check_when_listening(page)
        _wait_for_level(page, level_percent(-9.0103))  # 85.0
        assert page.text_content("#rms") == "-9.01"
    finally:
        stop_process(louder)


def test_start_and_stop_buttons_drive_a_following_sampler(logged_in_page, live_server):
    """The operator's buttons call /api/listen/start and /stop; `sample_audio --follow` obeys them."""
    page = logged_in_page
    page.goto(f"{live_server.url}/audio/meter/")
    page.wait_for_selector("text=Not listening.")
    assert page.is_disabled("#stop")
    follower = start_command("--follow", "--source", "synth", "--level", "0", "--tenant", "acme", "--quiet")
    try:
        read_line(follower, "following the listening sessions of acme", timeout=60)
        page.click("#start")
        page.wait_for_selector("#stop:enabled", timeout=10000)  # the page saw the session start
        session = ListeningSession.objects.get(status="active")
        assert session.started_by == "api"
        read_line(follower, f"session {session.session_id} active", timeout=15)
        # A full-scale sine: RMS -3.01 dBFS (level 95.0), peak 0, and it touches full scale: clip.
        _wait_for_level(page, level_percent(-3.0103))
        assert page.text_content("#peak") == "0.00" and page.text_content("#clip") == "CLIP"
        assert page.text_content("#session") == session.session_id
        page.click("#stop")
        page.wait_for_selector("text=Not listening.", timeout=10000)
        read_line(follower, f"session {session.session_id} ended", timeout=15)
        session.refresh_from_db()
        assert session.status == "stopped" and session.tick_count > 0 and session.clip_count > 0
        assert page.get_attribute("#level", "data-level") == "" and page.is_enabled("#start")
    finally:
        stop_process(follower)
    assert follower.returncode == 0
