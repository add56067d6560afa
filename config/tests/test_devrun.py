"""`make run`'s runner: web, worker and beat up together, a task flows beat -> broker -> worker,
and one Ctrl-C stops all three with nothing left running."""

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from config.devrun import Program, Runner, parse_procfile

ROOT = Path(__file__).resolve().parents[2]


def test_procfile_lines_are_parsed_and_junk_is_refused():
    programs = parse_procfile("# dev\nweb: run web\n\nworker:  run worker -c 2 \n")
    assert [(p.name, p.command) for p in programs] == [("web", "run web"), ("worker", "run worker -c 2")]
    with pytest.raises(ValueError, match="line 1"):
        parse_procfile("just a command\n")
    with pytest.raises(ValueError, match="no program"):
        parse_procfile("# nothing\n")


def test_a_program_that_keeps_dying_stops_the_others_with_its_exit_code(tmp_path):
    out = tmp_path / "out.log"
    with out.open("w") as fh:
        code = Runner([Program("crash", "sh -c 'echo boom; exit 7'"), Program("sleeper", "sleep 60")],
                      out=fh).run()
    log = out.read_text()
    assert code == 7
    assert re.search(r"crash +\| boom", log)
    assert log.count("crash exited with code 7; restarting it") == 4
    assert "crash exited with code 7 5 times in 60s; stopping the others" in log
    assert "sleeper stopped (rc=-15)" in log


def test_a_program_that_dies_once_is_started_again_and_the_others_keep_running(tmp_path):
    """A worker killed by the OOM killer, or one that lost its broker, comes back without a person."""
    out, marker = tmp_path / "out.log", tmp_path / "died-once"
    script = f"if [ -e {marker} ]; then echo second life; sleep 60; else touch {marker}; exit 3; fi"
    runner = Runner([Program("flaky", f"sh -c '{script}'"), Program("sleeper", "sleep 60")],
                    out=out.open("w"), stop_timeout=5)
    stopper = threading.Timer(3.0, runner.request_stop, args=(signal.SIGTERM, None))
    stopper.start()
    code = runner.run()
    log = out.read_text()
    assert "flaky exited with code 3; restarting it" in log
    assert re.search(r"flaky +\| second life", log)
    assert code == 0 and "sleeper stopped (rc=-15)" in log


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is not running; `ps` says so with state Z.
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True).stdout
    return bool(state.strip()) and not state.strip().startswith("Z")


def _group_members(pgid: int) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid=,pgid=,stat=,args="], capture_output=True, text=True).stdout
    return [line for line in out.splitlines()
            if line.split()[1] == str(pgid) and not line.split()[2].startswith("Z")]


def _wait_for(predicate, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not seen within {timeout}s:\n{log.read_text()[-4000:]}")
        time.sleep(0.2)


# A tenant (creating its owner emits `user.created`, which the worker fans out and sends) and an
# endpoint on the test's receiver, dated before anything it should receive.
_TENANT = """
from datetime import timedelta
from django.utils import timezone
from accounts.services import tenant_create
from webhooks.models import Endpoint
from webhooks.services import endpoint_create
tenant = tenant_create(slug="devrun", owner_email="owner@devrun.test").tenant
endpoint = endpoint_create(tenant=tenant, url="%(url)s")
Endpoint.objects.filter(pk=endpoint.pk).update(created_at=timezone.now() - timedelta(minutes=1))
"""
# An event written straight to the table, as if its fan-out message had been lost: no task is sent
# for it, so only beat's sweep, run by the worker, can deliver it.
_ORPHAN_EVENT = """
from datetime import timedelta
from django.utils import timezone
from accounts.models import Tenant
from webhooks.models import Event
event = Event.objects.create(tenant=Tenant.objects.get(slug="devrun"), type="stream.live",
                             data={"session_id": "devrun"}, created_at=timezone.now() - timedelta(seconds=30))
print("EVENT", event.pk)
"""


def _delivered(httpserver, event_id: str | None = None) -> bool:
    ids = [request.headers.get("webhook-id") for request, _ in httpserver.log]
    return bool(ids) if event_id is None else event_id in ids


def _programs_started(log: Path) -> dict[str, int]:
    return {m[1]: int(m[2]) for m in re.finditer(r"\| (\w+) started \(pid=(\d+)\)", log.read_text())}


@pytest.mark.integration
def test_make_run_runner_serves_runs_tasks_and_stops_all_three_on_one_ctrl_c(tmp_path, httpserver):
    """The real Procfile.dev on the embedded default (SQLite + filesystem broker in a private var dir)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "CELERY_"))}
    port = _free_port()
    env.update(DJANGO_SETTINGS_MODULE="config.settings.local", STREAMHOOK_VAR_DIR=str(tmp_path / "var"),
               STREAMHOOK_PORT=str(port), WEBHOOKS_SWEEP_INTERVAL="1")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=240)
    log = tmp_path / "run.log"
    with log.open("w") as fh:
        runner = subprocess.Popen([sys.executable, "config/devrun.py", "Procfile.dev"], cwd=ROOT, env=env,
                                  stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def healthy() -> bool:
            try:
                return urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).status == 200
            except OSError:
                return False

        _wait_for(healthy, 120, "/healthz 200", log)
        httpserver.expect_request("/hook", method="POST").respond_with_data("ok")

        def shell(script: str) -> str:
            return subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env,
                                  check=True, timeout=120, capture_output=True, text=True).stdout

        shell(_TENANT % {"url": httpserver.url_for("/hook")})
        _wait_for(lambda: _delivered(httpserver), 120, "user.created sent through the broker by the worker", log)
        event_id = shell(_ORPHAN_EVENT).split("EVENT ", 1)[1].strip()
        _wait_for(lambda: _delivered(httpserver, event_id), 120,
                  "the orphaned event delivered by beat's sweep on the worker", log)
        pids = _programs_started(log)
        assert set(pids) == {"web", "worker", "beat"}
        # What a terminal's Ctrl-C does: SIGINT to the foreground process group (the runner's).
        os.killpg(runner.pid, signal.SIGINT)
        assert runner.wait(60) == 0, log.read_text()
    finally:
        if runner.poll() is None:  # failed before Ctrl-C: each program has a group of its own
            for pid in [*_programs_started(log).values(), runner.pid]:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
    text = log.read_text()
    assert "Task webhooks.sweep" not in text, "the sweep's routine lines reached the console"
    for name, pid in pids.items():
        assert f"{name} stopped (rc=0)" in text
        assert not _alive(pid)
        assert _group_members(pid) == [], f"{name} left processes behind"
    assert "exited with 'signal" not in text  # no pool child was killed under the worker
    assert "killing" not in text


def test_the_ready_message_is_printed_once_the_url_answers_and_a_silent_url_is_named(tmp_path, httpserver):
    """`make run` repeats the way in below the programs' start-up lines, once the web server answers."""
    from config.devrun import announce_when_ready

    httpserver.expect_request("/healthz").respond_with_data("ok")
    out = tmp_path / "out.log"
    with out.open("w") as fh:
        runner = Runner([Program("web", "true")], out=fh)
        assert announce_when_ready(runner, httpserver.url_for("/healthz"), "Ready: come in\nCtrl-C stops it.")
        assert not announce_when_ready(runner, f"http://127.0.0.1:{_free_port()}/healthz", "never", timeout=1)
    log = out.read_text()
    assert re.search(r"system \| Ready: come in\n.*system \| Ctrl-C stops it\.\n", log)
    assert "never" not in log and "/healthz did not answer within 1s" in log
