""".ci/run must stop loudly, before the suite, when PostgreSQL or Redis can't be had.

The real services stay untouched: stub commands placed first on PATH play the machine's tools.
"""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _stubs(tmp_path: Path, exit_codes: dict[str, int]) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, code in {"dpkg": 0, "sleep": 0, "make": 99, **exit_codes}.items():
        stub = bin_dir / name
        stub.write_text(f"#!/bin/sh\necho \"stub {name} $*\" >> {tmp_path}/calls\nexit {code}\n")
        stub.chmod(0o755)
    return bin_dir


def _ci(bin_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CI": "true"}
    return subprocess.run(["bash", str(ROOT / ".ci" / "run")], env=env, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def test_postgres_down_and_unstartable_fails_loudly_before_the_suite(tmp_path):
    result = _ci(_stubs(tmp_path, {"pg_isready": 2, "pg_ctlcluster": 1}))
    assert result.returncode == 1
    assert "FATAL: PostgreSQL is not reachable at 127.0.0.1:5432" in result.stderr
    calls = (tmp_path / "calls").read_text()
    assert "stub pg_ctlcluster --skip-systemctl-redirect" in calls  # it tried to start it
    assert "stub make" not in calls


def test_redis_down_and_unstartable_fails_loudly_before_the_suite(tmp_path):
    result = _ci(_stubs(tmp_path, {"pg_isready": 0, "redis-cli": 1, "redis-server": 1}))
    assert result.returncode == 1
    assert "FATAL: Redis is not reachable at 127.0.0.1:6379" in result.stderr
    calls = (tmp_path / "calls").read_text()
    assert "stub redis-server --daemonize yes" in calls
    assert "stub make" not in calls
