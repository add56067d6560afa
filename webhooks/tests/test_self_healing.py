"""A Redis crash under load never ends delivery: Redis is SIGKILLed and restarted empty while events
flow, and every (event, endpoint) pair arrives within 60 s of its return with no process restarted by
the test, under `make run`'s runner and under the processes production runs (gunicorn, `celery worker
-c 2`, beat, production settings) supervised as the shipped systemd units supervise them.

The worker usually reconnects by itself. Sometimes (a kombu bug: restoring unacknowledged messages on
a connection that is already gone) it exits with "Unrecoverable error: AttributeError(... 'hostname')";
then the supervisor starts it again, which is why every documented way of running has one.

The stack runs on a `redis-server` of the test's own, on a free loopback port, so killing it never
touches the Redis other runs share. Needs REDIS_URL (CI sets it): the crash is a Redis crash.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from bench.receiver import ReceiverProcess
from conftest import _test_database_url
from webhooks import events
from webhooks.events import emit
from webhooks.models import Delivery, Event
from webhooks.tests.engine import endpoint_make
from webhooks.tests.test_integration_delivery import PrivateRedis, _free_port

ROOT = Path(__file__).resolve().parents[2]
ENDPOINTS = 4
RATE = 40  # events a second, each to every endpoint


def _stack_env(redis_url: str, stack: str, receiver_port: int) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "REDIS_URL": redis_url,
           "CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE, "WEBHOOKS_SWEEP_INTERVAL": "1",
           "LOG_LEVEL": "INFO"}
    if stack == "make-run":
        env["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    else:
        env.update({
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": "self-healing-test-" + "x" * 40, "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "false", "STREAMHOOK_ALLOW_SQLITE": "true",
            # The test database's secrets are sealed with the test settings' key.
            "STREAMHOOK_ENCRYPTION_KEYS": ",".join(settings.STREAMHOOK_ENCRYPTION_KEYS),
            # Production refuses private targets; the receiver is named as the one allowed exception.
            "WEBHOOKS_ALLOWED_HOSTS": f"127.0.0.1,127.0.0.1:{receiver_port}",
        })
    return env


def _start(stack: str, env: dict[str, str], log: Path) -> list[subprocess.Popen]:
    """The stack under a supervisor that restarts what dies: `make run`'s runner with Procfile.dev's
    programs, or the same runner standing in for systemd (Restart=always in deploy/systemd/) with the
    commands and settings production uses."""
    beat = f"{sys.executable} -m celery -A config beat -l INFO -s {log.with_suffix('.beat')}"
    worker = f"{sys.executable} -m celery -A config worker -l INFO -c 2 -Q {env['CELERY_QUEUE']}"
    if stack == "make-run":
        web = f"{sys.executable} manage.py runserver --noreload 127.0.0.1:{_free_port()}"
    else:
        web = (f"{sys.executable} -m gunicorn config.wsgi:application -c gunicorn.conf.py "
               f"--bind 127.0.0.1:{_free_port()}")
    procfile = log.with_suffix(".procfile")
    procfile.write_text(f"web: {web}\nworker: {worker}\nbeat: {beat}\n")
    return [subprocess.Popen([sys.executable, "config/devrun.py", str(procfile)], cwd=ROOT, env=env,
                             stdout=log.open("ab"), stderr=subprocess.STDOUT)]


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(40)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.integration
@pytest.mark.timeout(300)
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("stack", ["make-run", "production"])
def test_a_redis_crash_under_load_heals_without_anyone_restarting_anything(stack, tenant, tmp_path, monkeypatch):
    if not os.environ.get("REDIS_URL"):
        pytest.skip("a Redis crash needs Redis: CI runs this with REDIS_URL set")
    if shutil.which("redis-server") is None:
        pytest.fail("REDIS_URL is set but redis-server is not installed")
    redis = PrivateRedis(tmp_path)
    redis.start()
    receiver = ReceiverProcess().start()
    log = tmp_path / f"{stack}.log"
    procs: list[subprocess.Popen] = []
    try:
        from config.celery import app

        connection = app.connection_for_write(redis.url)
        refused: list[Exception] = []

        def fan_out_privately(event_id: str | None) -> None:  # emit()'s after-commit message, to our Redis
            try:
                app.send_task("webhooks.fan_out_event", args=(event_id,), connection=connection,
                              queue=settings.CELERY_TASK_DEFAULT_QUEUE, retry=False)
            except Exception as exc:  # Redis is down: the sweep finds the event once it is back
                refused.append(exc)

        monkeypatch.setattr(events, "fan_out_soon", fan_out_privately)
        for i in range(ENDPOINTS):
            endpoint_make(tenant, receiver.url(f"/e{i}"))
        procs = _start(stack, _stack_env(redis.url, stack, receiver.port), log)
        pids = [p.pid for p in procs]

        def emit_for(seconds: float) -> None:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                emit("webhook.test", {"at": time.time()}, tenant=tenant)
                time.sleep(1 / RATE)

        deadline = time.monotonic() + 90
        while not receiver.records():  # the stack is up and delivering
            assert time.monotonic() < deadline, log.read_text()[-4000:]
            emit("webhook.test", {"warm-up": True}, tenant=tenant)
            time.sleep(0.5)
        emit_for(4)
        redis.stop()  # SIGKILL, nothing persisted: every queued message is gone
        emit_for(3)
        redis.start()  # back, empty
        back = time.monotonic()
        emit_for(3)

        emitted = Event.objects.filter(type="webhook.test").values_list("id", flat=True)
        expected = {(event_id, f"/e{i}") for event_id in emitted for i in range(ENDPOINTS)}
        while time.monotonic() < back + 60:
            received = Counter((msg_id, path) for path, msg_id, _, _ in receiver.records())
            if expected <= received.keys():
                break
            time.sleep(0.5)
        healed_in = time.monotonic() - back
        missing = expected - received.keys()
        rows = list(Delivery.objects.filter(event_id__in={event_id for event_id, _ in missing}).values_list(
            "event_id", "status", "attempt_count", "locked_until", "next_attempt_at", "last_error"))
        unfanned = list(Event.objects.filter(id__in={e for e, _ in missing}).values_list(
            "id", "created_at", "fanned_out_at"))
        assert not missing, (f"{len(missing)} of {len(expected)} deliveries missing 60 s after Redis came back "
                             f"(at {back}): rows {rows}, events {unfanned}\n" + log.read_text()[-3000:])
        restarts = log.read_text().count("; restarting it")
        print(f"\n{stack}: {len(expected)} deliveries ({len(refused)} fan-out messages refused while Redis was "
              f"down), all arrived {healed_in:.1f} s after Redis's return; {restarts} process(es) restarted "
              "by the supervisor")
        assert [p.pid for p in procs] == pids and all(p.poll() is None for p in procs), log.read_text()[-4000:]
    finally:
        _stop(procs)
        receiver.stop()
        redis.stop()
