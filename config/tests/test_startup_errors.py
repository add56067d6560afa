"""Bad configuration must end with one clear line, not a traceback wall."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env},
        capture_output=True, text=True, timeout=60,
    )


def test_unknown_boolean_fails_with_one_line():
    result = _manage("check", DJANGO_DEBUG="ture")
    assert result.returncode != 0
    assert result.stderr.strip() == (
        "configuration error: DJANGO_DEBUG='ture' is not a boolean; "
        "use one of ['0', '1', 'false', 'no', 'off', 'on', 'true', 'yes']"
    )


def test_production_without_secret_key_fails_with_one_line():
    result = _manage("check", DJANGO_SETTINGS_MODULE="config.settings.production")
    assert result.returncode != 0
    assert result.stderr.strip() == "configuration error: DJANGO_SECRET_KEY must be set in the environment"


def test_unreachable_database_fails_with_one_line():
    result = _manage("migrate", DATABASE_URL="postgres://nobody@127.0.0.1:1/nothing")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("database unreachable:")
