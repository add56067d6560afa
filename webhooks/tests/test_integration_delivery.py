"""At-least-once under failure: 2,000 events to 5 endpoints through a real worker that is
SIGKILLed mid-run and restarted, and (on Redis) a broker that is restarted once, losing every
queued message. Every (event, endpoint) pair must reach the receiver; duplicates are counted.

On Redis the test runs its own `redis-server` on a free loopback port, so restarting it never
touches the shared Redis other runs use; the worker and this process both publish there.
"""

import os
import shutil
import socket
import subprocess
import time
from collections import Counter

import pytest
from django.conf import settings
from django.db import transaction

from bench.receiver import ReceiverProcess
from webhooks import events
from webhooks.events import emit
from webhooks.models import Delivery, Event
from webhooks.tests.engine import endpoint_make

EVENTS = 2000
ENDPOINTS = 5


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    def __init__(self, tmp_path):
        self.port = _free_port()
        self.dir = tmp_path
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)], stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()  # no persistence: everything queued is lost, as in a crash
            self.proc.wait(10)


@pytest.fixture
def private_redis(tmp_path):
    if not os.environ.get("REDIS_URL"):
        yield None  # embedded broker: the SIGKILL half still runs, the Redis restart needs Redis
        return
    if shutil.which("redis-server") is None:
        pytest.fail("REDIS_URL is set but redis-server is not installed: the Redis-restart half can't run")
    redis = PrivateRedis(tmp_path)
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture
def receiver():
    proc = ReceiverProcess().start()
    yield proc
    proc.stop()


@pytest.mark.integration
@pytest.mark.timeout(180)
def test_every_pair_is_delivered_despite_sigkill_and_broker_restart(
    worker_factory, tenant, receiver, private_redis, monkeypatch,
):
    env = {"WEBHOOKS_LEASE_SECONDS": "6", "WEBHOOKS_SWEEP_INTERVAL": "1"}
    if private_redis is not None:
        env["REDIS_URL"] = private_redis.url
        from config.celery import app

        connection = app.connection_for_write(private_redis.url)
        lost: list[Exception] = []

        def enqueue_privately(event_id: str) -> None:  # emit()'s on-commit hook, aimed at our redis
            try:
                app.send_task("webhooks.fan_out_event", args=(event_id,), connection=connection,
                              queue=settings.CELERY_TASK_DEFAULT_QUEUE, retry=False)
            except Exception as exc:  # broker down: exactly the case the sweep exists for
                lost.append(exc)

        monkeypatch.setattr(events, "_enqueue_fan_out", enqueue_privately)

    for i in range(ENDPOINTS):
        endpoint_make(tenant, receiver.url(f"/e{i}"))
    worker = worker_factory(env=env, beat=True, concurrency=2)

    started = time.monotonic()
    # The first third commits at once, so the worker is mid-batch when it is killed.
    with transaction.atomic():
        for n in range(EVENTS // 3):
            emit("webhook.test", {"n": n}, tenant=tenant)
    time.sleep(0.3)
    worker.kill()
    in_flight = ENDPOINTS * (EVENTS // 3) - len(receiver.records())
    print(f"SIGKILLed the worker with {in_flight} of {ENDPOINTS * (EVENTS // 3)} deliveries not yet received")
    worker = worker_factory(env=env, beat=True, concurrency=2)
    for n in range(EVENTS // 3, EVENTS):
        emit("webhook.test", {"n": n}, tenant=tenant)
        if n == 2 * EVENTS // 3 and private_redis is not None:
            private_redis.stop()
            time.sleep(0.5)
            private_redis.start()
            print(f"restarted redis after {n} events; {len(receiver.records())} received so far")

    event_ids = set(Event.objects.filter(type="webhook.test").values_list("id", flat=True))
    assert len(event_ids) == EVENTS
    expected = {(event_id, f"/e{i}") for event_id in event_ids for i in range(ENDPOINTS)}

    deadline = time.monotonic() + 75
    while time.monotonic() < deadline:
        received = Counter((msg_id, path) for path, msg_id, _, _ in receiver.records())
        if expected <= received.keys():
            break
        time.sleep(1)
    missing = expected - received.keys()
    duplicates = sum(count - 1 for pair, count in received.items() if pair in expected and count > 1)
    print(f"\n{len(expected)} pairs expected, {len(expected) - len(missing)} delivered, "
          f"{len(missing)} missing, {duplicates} duplicate receipts "
          f"({sum(received.values())} requests) in {time.monotonic() - started:.1f}s")
    assert not missing, f"{len(missing)} (event, endpoint) pairs never arrived, e.g. {sorted(missing)[:5]}"
    # Every pair delivered at least once; the database agrees (allow its last batch to be recorded).
    deadline = time.monotonic() + 15
    while Delivery.objects.exclude(status="succeeded").exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert Delivery.objects.filter(status="succeeded", event_id__in=event_ids).count() == len(expected)
    assert worker.proc.poll() is None
