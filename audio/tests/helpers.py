"""sox, a private PulseAudio and `sample_audio` subprocesses, for the audio tests."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
TICK = re.compile(r"rms=(-?[\d.]+) dBFS peak=(-?[\d.]+) dBFS level=([\d.]+) clip=(yes|no)")


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} not found; install it (.ci/run installs sox, espeak-ng, pulseaudio, pulseaudio-utils)")
    return path


def sox_make(path: Path, *effects: str, rate: int = 48000, bits: int = 16, channels: int = 1) -> Path:
    """`sox -n` with `effects` (e.g. "synth", "2", "sine", "1000", "vol", "-20dB") into a WAV file."""
    require("sox")
    subprocess.run(["sox", "-n", "-r", str(rate), "-b", str(bits), "-c", str(channels), str(path), *effects],
                   check=True, capture_output=True)
    return path


def speech_make(path: Path, text: str, *effects: str) -> Path:
    """Real synthetic speech: espeak-ng's voice into a WAV file, then through sox `effects` (e.g. "vol", "-9dB")."""
    require("espeak-ng")
    raw = path.with_suffix(".espeak.wav")
    subprocess.run(["espeak-ng", "-w", str(raw), text], check=True, capture_output=True)
    if not effects:
        return raw
    subprocess.run(["sox", str(raw), str(path), *effects], check=True, capture_output=True)
    return path


def sox_stats(path: Path) -> dict[str, float]:
    """`RMS lev dB` and `Pk lev dB` of `sox FILE -n stats` (the Overall column for several channels)."""
    out = subprocess.run(["sox", str(path), "-n", "stats"], check=True, capture_output=True, text=True).stderr
    figures = {}
    for line in out.splitlines():
        for key in ("RMS lev dB", "Pk lev dB"):
            if line.startswith(key):
                figures[key] = float(line[len(key):].split()[0])  # first column: Overall
    assert set(figures) == {"RMS lev dB", "Pk lev dB"}, out
    return figures


def test_database_url() -> str:
    from conftest import _test_database_url

    return _test_database_url()


test_database_url.__test__ = False  # not a test


def command_env(**extra: str) -> dict[str, str]:
    """The environment for a `manage.py` child on this run's test database, cache and queue."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": test_database_url(),
        "CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def start_command(*args: str, env: dict[str, str] | None = None, log: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "sample_audio", *args], cwd=ROOT, env=env or command_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
    )


def stop_process(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
    """Stop one process we started, by its PID."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def read_line(proc: subprocess.Popen, pattern: str | re.Pattern, timeout: float) -> tuple[str, list[str]]:
    """Read stdout until a line matches; returns it and every line read. Fails on timeout or exit.

    Reads the pipe a byte at a time with os.read: a buffered readline() would pull later lines into
    Python's buffer where select() cannot see them (the wait would then time out with the line
    already read), and nothing read past the match is hidden from a later communicate().
    """
    import select

    fd = proc.stdout.fileno()
    seen: list[str] = []
    pending = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            continue
        byte = os.read(fd, 1)
        if not byte:
            break  # the process closed its stdout
        if byte != b"\n":
            pending += byte
            continue
        line = pending.decode(errors="replace")
        pending.clear()
        seen.append(line)
        if re.search(pattern, line):
            return line, seen
    stderr = ""
    if proc.poll() is not None:
        stderr = proc.stderr.read()
    pytest.fail(f"no line matching {pattern!r} within {timeout}s (rc={proc.poll()}); stdout={seen[-20:]} "
                f"stderr={stderr[-2000:]!r}")


class PulseServer:
    """A private PulseAudio with a null sink `vsink`, in its own runtime dir; stopped by PID."""

    def __init__(self, base: Path) -> None:
        self.dir = base / "pulse-runtime"
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        self.socket = self.dir / "pulse" / "native"
        self.proc: subprocess.Popen | None = None
        self.env = {
            "XDG_RUNTIME_DIR": str(self.dir), "HOME": str(self.dir), "PULSE_RUNTIME_PATH": str(self.dir / "pulse"),
            "PULSE_SERVER": f"unix:{self.socket}", "PULSE_STATE_PATH": str(self.dir / "state"),
        }
        self.env.pop("PULSE_SOURCE", None)

    def start(self, timeout: float = 15) -> "PulseServer":
        require("pulseaudio")
        require("paplay")
        self.log = open(self.dir / "pulseaudio.log", "wb")
        self.proc = subprocess.Popen(
            ["pulseaudio", "--daemonize=no", "--system=false", "--exit-idle-time=-1", "-n", "--use-pid-file=false",
             "--disable-shm=true", "--load=module-native-protocol-unix",
             "--load=module-null-sink sink_name=vsink"],
            env={**os.environ, **self.env}, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"pulseaudio exited with {self.proc.returncode}: {self.output()}")
            if self.socket.exists() and self.ctl("list", "short", "sources").returncode == 0:
                return self
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"pulseaudio did not come up within {timeout}s: {self.output()}")

    def ctl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["pactl", *args], env={**os.environ, **self.env}, capture_output=True, text=True,
                              timeout=10)

    def play(self, wav: Path) -> subprocess.Popen:
        return subprocess.Popen(["paplay", "-d", "vsink", str(wav)], env={**os.environ, **self.env},
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def output(self) -> str:
        return (self.dir / "pulseaudio.log").read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if hasattr(self, "log"):
            self.log.close()
