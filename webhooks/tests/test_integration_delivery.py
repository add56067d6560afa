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
BURST = 200  # events committed together just before Redis is killed
WHILE_DOWN = 50  # events emitted while Redis is down


def _as_supervised(worker, start):
    """What the supervisor of every documented way of running does (test_self_healing.py runs the real
    ones): a worker that exited on kombu's known Redis-restart crash ("Unrecoverable error: AttributeError
    ... 'hostname'", which it hits now and then, not always) is started again. Any other exit fails."""
    if worker.proc.poll() is None:
        return worker
    log = worker.log_path.read_text(errors="replace")  # the whole log: the traceback that follows is long
    assert "Unrecoverable error: AttributeError(\"'NoneType' object has no attribute 'hostname'\")" in log, (
        f"the worker died:\n{worker.output()}")
    print("the worker exited on kombu's Redis-restart crash; started again, as its supervisor would")
    return start()


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
    worker_factory, tenant, receiver, private_redis, monkeypatch, record_property,
):
    env = {"WEBHOOKS_LEASE_SECONDS": "6", "WEBHOOKS_SWEEP_INTERVAL": "1"}
    lost: list[Exception] = []
    if private_redis is not None:
        env["REDIS_URL"] = private_redis.url
        from config.celery import app

        connection = app.connection_for_write(private_redis.url)

        def enqueue_privately(event_id: str) -> None:  # emit()'s on-commit hook, aimed at our redis
            try:
                app.send_task("webhooks.fan_out_event", args=(event_id,), connection=connection,
                              queue=settings.CELERY_TASK_DEFAULT_QUEUE, retry=False)
            except Exception as exc:  # broker down: exactly the case the sweep exists for
                lost.append(exc)

        monkeypatch.setattr(events, "fan_out_soon", enqueue_privately)

    for i in range(ENDPOINTS):
        endpoint_make(tenant, receiver.url(f"/e{i}"))

    def start_worker():
        return worker_factory(env=env, beat=True, concurrency=2)

    worker = start_worker()

    started = time.monotonic()
    # The first third commits at once; the worker is killed once deliveries are arriving, mid-run.
    with transaction.atomic():
        for n in range(EVENTS // 3):
            emit("webhook.test", {"n": n}, tenant=tenant)
    deadline = time.monotonic() + 60
    while len(receiver.records()) < 100:
        assert time.monotonic() < deadline, f"no deliveries arrived before the kill:\n{worker.output()}"
        time.sleep(0.05)
    worker.kill()
    in_flight = ENDPOINTS * (EVENTS // 3) - len(receiver.records())
    print(f"SIGKILLed the worker with {in_flight} of {ENDPOINTS * (EVENTS // 3)} deliveries not yet received")
    assert in_flight > 0, "the worker had finished before it was killed: the kill proved nothing"
    worker = start_worker()
    numbers = iter(range(EVENTS // 3, EVENTS))

    def emit_next(count: int) -> None:
        for _, n in zip(range(count), numbers, strict=False):
            emit("webhook.test", {"n": n}, tenant=tenant)

    emit_next(EVENTS // 3)
    queued_at_crash = 0
    if private_redis is not None:
        import redis

        # A burst commits together, so Redis holds a backlog of fan-out messages when it dies with them;
        # then events are emitted while it is down, their messages refused. Only the sweep can save both.
        with transaction.atomic():
            emit_next(BURST)
        queued_at_crash = redis.Redis.from_url(private_redis.url).llen(settings.CELERY_TASK_DEFAULT_QUEUE)
        private_redis.stop()
        emit_next(WHILE_DOWN)
        private_redis.start()
        print(f"killed redis with {queued_at_crash} messages queued, emitted {WHILE_DOWN} events while it was "
              f"down ({len(lost)} messages refused), restarted it; {len(receiver.records())} received so far")
        assert queued_at_crash > 0, "Redis was idle when it died: the restart proved nothing"
        assert len(lost) == WHILE_DOWN
    emit_next(EVENTS)  # the rest

    event_ids = set(Event.objects.filter(type="webhook.test").values_list("id", flat=True))
    assert len(event_ids) == EVENTS
    expected = {(event_id, f"/e{i}") for event_id in event_ids for i in range(ENDPOINTS)}

    deadline = time.monotonic() + 75
    while time.monotonic() < deadline:
        worker = _as_supervised(worker, start_worker)
        received = Counter((msg_id, path) for path, msg_id, _, _ in receiver.records())
        if expected <= received.keys():
            break
        time.sleep(1)
    missing = expected - received.keys()
    duplicates = sum(count - 1 for pair, count in received.items() if pair in expected and count > 1)
    summary = (f"{len(expected)} pairs expected, {len(expected) - len(missing)} delivered, "
               f"{len(missing)} missing, {duplicates} duplicate receipts ({sum(received.values())} requests) "
               f"in {time.monotonic() - started:.1f}s; {in_flight} in flight at the SIGKILL"
               + (f", {queued_at_crash} messages lost with Redis, {len(lost)} refused while it was down"
                  if private_redis else ""))
    print("\n" + summary)
    record_property("delivery_summary", summary)  # in the JUnit XML and `pytest -rP` output
    assert not missing, f"{len(missing)} (event, endpoint) pairs never arrived, e.g. {sorted(missing)[:5]}"
    ghosts = set(received) - expected
    ghost_ids = {event_id for event_id, _ in ghosts}
    ghost_types = sorted(Event.objects.filter(pk__in=ghost_ids).values_list("type", flat=True))
    assert not ghosts, f"requests arrived for pairs nobody emitted: {sorted(ghosts)[:5]}; their events: {ghost_types}"
    assert sum(received.values()) == len(expected) + duplicates
    # Every pair delivered at least once; the database agrees (allow its last batch to be recorded).
    deadline = time.monotonic() + 15
    while Delivery.objects.exclude(status="succeeded").exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert Delivery.objects.filter(status="succeeded", event_id__in=event_ids).count() == len(expected)
    assert worker.proc.poll() is None
