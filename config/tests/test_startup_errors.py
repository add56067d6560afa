"""Bad configuration must end with one clear line, not a traceback wall, from every entry point."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BOOLEANS = "use one of ['0', '1', 'false', 'no', 'off', 'on', 'true', 'yes']"
# Production settings with everything they require, for tests that break one thing at a time.
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "a-test-secret-key-that-is-long-enough-for-the-deploy-check-0123456789",
    "DJANGO_ALLOWED_HOSTS": "streamhook.example",
    "DATABASE_URL": "postgres://nobody@127.0.0.1:1/nothing",
    "REDIS_URL": "redis://127.0.0.1:1/0",
    "STREAMHOOK_ENCRYPTION_KEYS": "3q1vHkqC0ZAcHn0m6kGdxv0Xr3j6u0o8t8bqzG6Jq3k=",
}


def _run(cmd: list[str], env: dict[str, str], tmp_path: Path, timeout: int = 60) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "CELERY_", "STREAMHOOK_"))}
    clean["STREAMHOOK_VAR_DIR"] = str(tmp_path / "var")  # never the checkout's own var/
    return subprocess.run(cmd, cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=timeout)


def _manage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return _run([sys.executable, "manage.py", *args], env, tmp_path)


def _one_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_unknown_boolean_fails_with_one_line(tmp_path):
    assert _one_line(_manage(tmp_path, "check", DJANGO_DEBUG="ture")) == (
        f"configuration error: DJANGO_DEBUG='ture' is not a boolean; {BOOLEANS}"
    )


def test_production_without_secret_key_fails_with_one_line(tmp_path):
    result = _manage(tmp_path, "check", DJANGO_SETTINGS_MODULE="config.settings.production")
    assert _one_line(result) == "configuration error: DJANGO_SECRET_KEY must be set in the environment"


def test_production_without_allowed_hosts_fails_with_one_line(tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_ALLOWED_HOSTS"}
    assert "DJANGO_ALLOWED_HOSTS" in _one_line(_manage(tmp_path, "check", **env))
    assert "DJANGO_ALLOWED_HOSTS" in _one_line(_manage(tmp_path, "check", **{**env, "DJANGO_ALLOWED_HOSTS": " "}))


def test_production_without_redis_fails_with_one_line(tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if k != "REDIS_URL"}
    assert _one_line(_manage(tmp_path, "check", **env)) == (
        "configuration error: production needs REDIS_URL (the broker every web, worker and beat process shares)"
    )
    assert _manage(tmp_path, "check", **env, STREAMHOOK_ALLOW_EMBEDDED_BROKER="true").returncode == 0


def test_unreachable_database_fails_with_one_line(tmp_path):
    line = _one_line(_manage(tmp_path, "migrate", DATABASE_URL="postgres://nobody:pw@127.0.0.1:1/nothing"))
    assert line.startswith("database unreachable:")
    assert "port 1" in line


@pytest.mark.parametrize(("url", "says"), [
    ("postgres//nope", "unsupported scheme"),
    ("mongodb://db/x", "unsupported scheme 'mongodb'"),
    ("postgres://u:hunter2@127.0.0.1:notaport/db", "not a valid database URL"),
    ("postgres://u:hunter2@127.0.0.1", "names no database"),
])
def test_malformed_database_url_fails_with_one_line_that_hides_the_password(tmp_path, url, says):
    line = _one_line(_manage(tmp_path, "check", DATABASE_URL=url))
    assert line.startswith("configuration error: DATABASE_URL ")
    assert says in line
    assert "hunter2" not in line


@pytest.mark.parametrize(("name", "value", "kind"), [
    ("CELERY_TASK_TIME_LIMIT", "ninety", "int"),
    ("WEBHOOKS_SWEEP_INTERVAL", "soon", "float"),
])
def test_malformed_number_names_the_variable(tmp_path, name, value, kind):
    assert _one_line(_manage(tmp_path, "check", **{name: value})) == (
        f"configuration error: {name}={value!r} is not a valid {kind}"
    )


@pytest.mark.parametrize("program", ["worker", "beat"])
def test_celery_entry_points_fail_with_one_line(tmp_path, program):
    celery = [str(BIN / "celery"), "-A", "config", program]
    assert _one_line(_run(celery, {"DJANGO_SETTINGS_MODULE": "config.settings.local", "DJANGO_DEBUG": "maybe"},
                          tmp_path)) == f"configuration error: DJANGO_DEBUG='maybe' is not a boolean; {BOOLEANS}"
    # With no settings named, Celery gets production's like wsgi does, and so needs its secrets.
    assert _one_line(_run(celery, {}, tmp_path)) == (
        "configuration error: DJANGO_SECRET_KEY must be set in the environment"
    )


def test_celery_worker_refuses_to_start_without_its_database(tmp_path):
    result = _run([str(BIN / "celery"), "-A", "config", "worker", "-Q", "startup-test", "-P", "solo"],
                  {**PRODUCTION, "DATABASE_URL": "postgres://nobody:hunter2@127.0.0.1:1/nothing"}, tmp_path)
    assert result.returncode == 3
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("database unreachable:") and "port 1" in last
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr


def test_gunicorn_stops_with_the_configuration_error(tmp_path):
    result = _run([str(BIN / "gunicorn"), "config.wsgi:application", "--bind", "127.0.0.1:0", "--no-control-socket"],
                  {"DJANGO_SETTINGS_MODULE": "config.settings.production"}, tmp_path)
    assert result.returncode == 3  # gunicorn's "worker failed to boot": the master stops too
    assert "configuration error: DJANGO_SECRET_KEY must be set in the environment" in result.stderr.splitlines()
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("module", ["config.wsgi", "config.asgi"])
def test_wsgi_and_asgi_default_to_production_settings(tmp_path, module):
    """config/__init__ imports the Celery app first; its default must not win with DEBUG on."""
    code = f"import {module}; from django.conf import settings; print(settings.SETTINGS_MODULE, settings.DEBUG)"
    result = _run([sys.executable, "-c", code], {k: v for k, v in PRODUCTION.items()
                                                  if k != "DJANGO_SETTINGS_MODULE"}, tmp_path)
    assert result.stdout.split() == ["config.settings.production", "False"], result.stderr
    assert _one_line(_run([sys.executable, "-c", f"import {module}"], {}, tmp_path)) == (
        "configuration error: DJANGO_SECRET_KEY must be set in the environment"
    )


def test_a_trusted_proxy_that_is_no_address_fails_with_one_line(tmp_path):
    result = _manage(tmp_path, "check", STREAMHOOK_TRUSTED_PROXIES="unix,nginx.internal")
    assert _one_line(result) == ("configuration error: STREAMHOOK_TRUSTED_PROXIES: 'nginx.internal' is not an IP "
                                 "address, a network (10.0.0.0/8) or unix")
