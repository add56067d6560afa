"""`manage.py sample_audio`: modes, tenants, signals, and the one-line exit 3."""

import io
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.services import tenant_create
from audio import services
from audio.models import ListeningSession
from audio.tests.helpers import ROOT, TICK, command_env, read_line, sox_make, start_command, stop_process


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("sample_audio", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_fast_synth_prints_a_line_per_tick_and_closes_its_session(tenant):
    out = run("--source", "synth", "--level", "-20", "--fast", "--duration", "1")
    ticks = TICK.findall(out)
    assert len(ticks) == 10
    assert all(t == ("-23.01", "-20.00", "61.6", "no") for t in ticks)
    assert "t=0.1s rms=-23.01 dBFS peak=-20.00 dBFS level=61.6 clip=no" in out
    assert "done: 10 ticks, max rms=-23.01 dBFS, max peak=-20.00 dBFS, clipped ticks=0" in out
    session = ListeningSession.objects.get()
    assert session.status == "stopped" and session.started_by == "command" and session.tenant == tenant
    assert session.tick_count == 10 and session.max_rms_dbfs == -23.01 and session.max_peak_dbfs == -20.0
    assert session.mean_rms_dbfs == pytest.approx(-23.01, abs=0.01)
    assert session.source == "synth sine at -20 dBFS"


@pytest.mark.django_db
def test_fast_wav_meters_the_whole_file(tenant, tmp_path):
    wav = sox_make(tmp_path / "clip.wav", "synth", "0.5", "sine", "1000", "vol", "0dB")
    out = run("--source", "wav", "--wav", str(wav), "--fast", "--quiet")
    assert "done: 5 ticks" in out and "clipped ticks=5" in out
    assert not TICK.search(out)  # --quiet
    assert ListeningSession.objects.get().clip_count == 5


@pytest.mark.django_db
def test_realtime_synth_runs_for_its_duration(tenant):
    began = time.monotonic()
    out = run("--source", "synth", "--synth", "noise", "--level", "-6", "--duration", "0.5", "--interval", "0.05")
    assert time.monotonic() - began >= 0.45  # real time: not faster than the audio
    assert 5 <= len(TICK.findall(out)) <= 10  # ten 50 ms deadlines (a loaded machine may skip some)


@pytest.mark.django_db
def test_tenant_is_required_when_ambiguous(tenant, other_tenant):
    with pytest.raises(CommandError, match="--tenant SLUG"):
        run("--source", "synth", "--fast", "--duration", "0.1")
    assert "done: 1 ticks" in run("--source", "synth", "--fast", "--duration", "0.1", "--tenant", "globex")
    assert ListeningSession.objects.get().tenant == other_tenant
    with pytest.raises(CommandError, match="no tenant 'nope'"):
        run("--source", "synth", "--tenant", "nope")


@pytest.mark.django_db
def test_no_tenant_at_all_is_a_clear_error():
    with pytest.raises(CommandError, match="create_tenant"):
        run("--source", "synth", "--fast")


@pytest.mark.django_db
@pytest.mark.parametrize(("args", "message"), [
    (["--source", "wav"], "--wav FILE"),
    (["--interval", "0"], "positive"),
    (["--source", "device", "--fast"], "--fast is for"),
])
def test_bad_arguments(tenant, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        run(*args)


@pytest.mark.django_db
def test_missing_wav_ends_with_one_line_and_exit_3(tenant, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        call_command("sample_audio", "--source", "wav", "--wav", str(tmp_path / "none.wav"))
    assert exc.value.code == 3
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


@pytest.mark.django_db(transaction=True)
def test_follow_samples_only_while_a_session_is_active(tenant):
    out = io.StringIO()

    def follow():
        try:
            call_command("sample_audio", "--follow", "--source", "synth", "--duration", "6", "--quiet",
                         "--tenant", "acme", stdout=out)
        finally:
            connection.close()

    thread = threading.Thread(target=follow)
    thread.start()
    try:
        time.sleep(1.0)
        assert "following the listening sessions of acme" in out.getvalue()
        assert "active: sampling" not in out.getvalue()  # no session: the input stays closed
        session = services.listening_start(tenant=tenant).session
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            session.refresh_from_db()
            if session.tick_count:
                break
            time.sleep(0.1)
        assert session.tick_count > 0, out.getvalue()
        assert session.source == "synth sine at -20 dBFS"
        services.listening_stop(tenant=tenant)
        deadline = time.monotonic() + 3
        while "ended; waiting for the next one" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "ended; waiting for the next one" in out.getvalue()
    finally:
        thread.join(10)
    assert not thread.is_alive()


@pytest.mark.django_db(transaction=True)
def test_sigterm_stops_cleanly_and_closes_the_session(tenant):
    proc = start_command("--source", "synth", "--tenant", "acme")
    try:
        read_line(proc, TICK, timeout=60)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    finally:
        stop_process(proc)
    assert proc.returncode == 0, err
    assert "done:" in out and "Traceback" not in err
    assert ListeningSession.objects.get().status == "stopped"


@pytest.mark.django_db(transaction=True)
def test_sigint_stops_cleanly(tenant):
    proc = start_command("--source", "synth", "--tenant", "acme")
    try:
        read_line(proc, TICK, timeout=60)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        stop_process(proc)
    assert proc.returncode == 0 and "done:" in out and "Traceback" not in err


@pytest.mark.django_db(transaction=True)
def test_no_input_device_ends_with_one_line_and_exit_3(tmp_path):
    """No sound server and no sound card: the device cannot be found; no session is left behind."""
    tenant_create(slug="solo", owner_email="o@solo.test", password="pw")
    env = command_env(XDG_RUNTIME_DIR=str(tmp_path), HOME=str(tmp_path), PULSE_SERVER=f"unix:{tmp_path}/none")
    env.pop("PULSE_SOURCE", None)
    proc = subprocess.run([sys.executable, "manage.py", "sample_audio", "--source", "device", "--duration", "1"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3
    assert proc.stderr.strip().splitlines() == ["audio unavailable: no input device; devices: none"]
    assert not ListeningSession.objects.exists()


@pytest.mark.django_db
def test_aes17_and_ballistics_options(tenant):
    out = run("--source", "synth", "--level", "-20", "--fast", "--duration", "0.3", "--aes17")
    assert TICK.findall(out)[0][:2] == ("-20.00", "-20.00")  # AES17: a sine's RMS equals its peak
    out = run("--source", "synth", "--synth", "silence", "--fast", "--duration", "0.3", "--ballistics")
    assert TICK.findall(out)[0][0] == "-120.00"
