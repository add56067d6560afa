"""REAL capture: a private PulseAudio with a null sink, a -20 dBFS sine played into it, and
`sample_audio --source device --device vsink.monitor` metering it through PortAudio → ALSA's
pulse plugin → PulseAudio. Never skipped: without pulseaudio, paplay or sox it fails and says why.
"""

import re
import signal
import statistics
import time

import pytest

from audio.models import ListeningSession
from audio.tests.helpers import (
    TICK,
    PulseServer,
    command_env,
    read_line,
    sox_make,
    sox_stats,
    start_command,
    stop_process,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pulse(tmp_path):
    # Started before any process imports sounddevice: PortAudio enumerates devices once, at import.
    server = PulseServer(tmp_path).start()
    yield server
    server.stop()


def _ticks(lines: list[str]) -> list[tuple[float, float]]:
    return [(float(m[1]), float(m[2])) for m in (TICK.search(line) for line in lines) if m]


def test_device_capture_reads_a_minus_20_dbfs_sine_like_sox(pulse, tenant, tmp_path):
    sine = sox_make(tmp_path / "sine-20.wav", "synth", "3", "sine", "1000", "vol", "-20dB", rate=44100)
    env = command_env(**pulse.env)
    sampler = start_command("--source", "device", "--device", "vsink.monitor", "--duration", "30",
                            "--tenant", "acme", env=env)
    player = None
    try:
        # The first level (silence from the idle sink) proves the stream runs before we play.
        read_line(sampler, TICK, timeout=30)
        player = pulse.play(sine)
        _, lines = read_line(sampler, r"rms=-2[0-9]\.", timeout=15)
        _, more = read_line(sampler, TICK, timeout=5)
        lines += more
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            lines += read_line(sampler, TICK, timeout=5)[1]
        assert player.wait(15) == 0, player.stderr.read()
    finally:
        stop_process(player)
        stop_process(sampler, signal.SIGTERM)
    out, err = sampler.communicate(timeout=10)
    lines += out.splitlines()
    assert sampler.returncode == 0, err
    # Ticks entirely inside the tone (the first and last straddle its edges).
    loud = [t for t in _ticks(lines) if t[0] > -30][1:-1]
    assert len(loud) >= 15, lines
    rms = statistics.median(t[0] for t in loud)
    peak = statistics.median(t[1] for t in loud)
    assert rms == pytest.approx(-23.01, abs=0.1), loud
    assert peak == pytest.approx(-20.0, abs=0.1), loud
    assert all(abs(t[0] + 23.01) <= 0.1 for t in loud), loud
    session = ListeningSession.objects.get()
    assert session.status == "stopped" and "vsink.monitor" in session.source
    assert session.max_rms_dbfs == pytest.approx(-23.01, abs=0.1)


def test_list_devices_through_pulseaudio(pulse):
    proc = start_command("--list-devices", env=command_env(**pulse.env))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert re.search(r"^\[\d+\] pulse \(ALSA", out, re.M), out


def test_unknown_pulse_source_ends_with_one_line_and_exit_3(pulse, tenant):
    proc = start_command("--source", "device", "--device", "nosuch.monitor", "--duration", "2", "--tenant", "acme",
                         env=command_env(**pulse.env))
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("audio unavailable: unknown device 'nosuch.monitor'"), err
    assert not ListeningSession.objects.exists()


def test_dead_sound_server_ends_with_one_line_and_exit_3(pulse, tenant):
    proc = start_command("--source", "device", "--device", "vsink.monitor", "--duration", "30", "--tenant", "acme",
                         env=command_env(**pulse.env))
    try:
        read_line(proc, TICK, timeout=30)
        pulse.stop()  # the sound server goes away mid-stream
        out, err = proc.communicate(timeout=20)
    finally:
        stop_process(proc)
    assert proc.returncode == 3, (out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("audio unavailable: stream died"), err
    assert "Traceback" not in err
    assert ListeningSession.objects.get().status == "error"


def _recording_streams(pulse) -> list[str]:
    """PulseAudio's source outputs: one per open capture stream (ours is the only client)."""
    result = pulse.ctl("list", "short", "source-outputs")
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line.strip()]


def test_follow_opens_the_device_only_while_a_session_is_active(pulse, tenant):
    from audio import services

    proc = start_command("--follow", "--source", "device", "--device", "vsink.monitor", "--tenant", "acme",
                         env=command_env(**pulse.env))
    try:
        read_line(proc, "following the listening sessions of acme", timeout=60)
        assert _recording_streams(pulse) == []  # no session: nothing is recording
        session = services.listening_start(tenant=tenant).session
        read_line(proc, f"session {session.session_id} active", timeout=30)
        read_line(proc, TICK, timeout=30)
        assert len(_recording_streams(pulse)) == 1  # the device is open
        services.listening_stop(tenant=tenant)
        read_line(proc, f"session {session.session_id} ended; waiting", timeout=30)
        assert _recording_streams(pulse) == []  # and closed again
        second = services.listening_start(tenant=tenant).session
        read_line(proc, f"session {second.session_id} active", timeout=30)
        read_line(proc, TICK, timeout=30)
        assert len(_recording_streams(pulse)) == 1
    finally:
        stop_process(proc, signal.SIGTERM)
    assert proc.returncode == 0, proc.stderr.read()
    assert _recording_streams(pulse) == []
    session.refresh_from_db()
    second.refresh_from_db()
    assert session.status == "stopped" and session.tick_count > 0
    # The API owns a followed session: SIGTERM closes the input but leaves the session to the API, so a
    # restarted follower picks it up again.
    assert second.status == "active" and "vsink.monitor" in second.source and second.tick_count > 0


@pytest.mark.parametrize("remix", [["1", "0"], ["1", "1v-1"]], ids=["left-only", "anti-phase"])
def test_device_capture_measures_every_channel_like_sox_overall(pulse, tenant, tmp_path, remix):
    """Recording one channel read a left-only stereo signal 3 dB low and an anti-phase one as silence
    (PulseAudio's downmix to mono is (L+R)/2); every channel of the source is now metered."""
    wav = sox_make(tmp_path / "stereo.wav", "synth", "3", "sine", "1000", "vol", "-20dB", "remix", *remix,
                   rate=44100, channels=2)
    sox = sox_stats(wav)
    sampler = start_command("--source", "device", "--device", "vsink.monitor", "--duration", "30",
                            "--tenant", "acme", env=command_env(**pulse.env))
    player = None
    try:
        first, _ = read_line(sampler, r"listening: session", timeout=30)
        assert first.rstrip().endswith(", 2 ch"), first
        read_line(sampler, TICK, timeout=30)
        player = pulse.play(wav)
        _, lines = read_line(sampler, r"rms=-2[0-9]\.", timeout=15)
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            lines += read_line(sampler, TICK, timeout=5)[1]
        assert player.wait(15) == 0, player.stderr.read()
    finally:
        stop_process(player)
        stop_process(sampler, signal.SIGTERM)
    loud = [t for t in _ticks(lines) if t[0] > -40][1:-1]
    assert len(loud) >= 15, lines
    assert statistics.median(t[0] for t in loud) == pytest.approx(sox["RMS lev dB"], abs=0.1), (sox, loud)
    assert statistics.median(t[1] for t in loud) == pytest.approx(sox["Pk lev dB"], abs=0.1), (sox, loud)
