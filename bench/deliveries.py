"""Webhook delivery engine under load: throughput, slow receivers, a bad neighbour, latency.

    .venv/bin/python bench/deliveries.py [--scenario all|throughput|slow-receivers|bad-neighbour|latency]
                                         [--seconds N] [--no-peer] [--no-write]

Runs on PostgreSQL + Redis with the default worker settings: for each scenario a fresh Celery
worker (`-c 2`, prefork) and beat on a database (`bench_deliveries`, created and migrated) and a
Redis database (BENCH_REDIS_URL, default db 11, flushed) of their own; an asyncio receiver on
127.0.0.1 (bench/receiver.py) records every request on arrival. Events are emitted from this
process through `emit()`, several threads at a steady pace, each carrying its emit time
(`time.time()`) in its data; emit→receipt is the receiver's arrival time minus that.

- `throughput`: 8 fast endpoints, 200 events/s (1,600 deliveries/s) for 60 s.
- `slow-receivers`: 100 endpoints answering after 250 ms, 16 events/s (1,600 deliveries/s) for 60 s.
- `bad-neighbour`: tenant B, 8 fast endpoints at 200 events/s, alone first, then beside tenant A
  (20 events/s to one endpoint that never answers and one answering in 2-5 s), 30 s each.
- `latency`: 50 events/s to one fast endpoint for 30 s.

`throughput` and `latency` also run the peer, the PyPI package django-webhook (bench/peer/: a
Celery task per delivery, sent from a model's post_save), on its own database with the same
receiver, broker and worker count, in the same invocation. Figures are printed and written to
docs/benchmarks.md, one section per scenario.
"""

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
DB_ENGINE = "bench_deliveries"
DB_PEER = "bench_deliveries_peer"
EMITTER_THREADS = 4
WINDOW = 5.0  # seconds: "sustained" is the slowest such window while emitting
COMMON_ENV = {
    "REDIS_URL": REDIS,
    "DJANGO_DEBUG": "0",  # DEBUG keeps every query in memory
    "WEBHOOKS_ALLOW_PRIVATE_TARGETS": "1",  # the receiver is on 127.0.0.1
    "LOG_LEVEL": "WARNING",
}
ENGINE_ENV = {**COMMON_ENV, "DATABASE_URL": f"{PG}/{DB_ENGINE}", "CELERY_QUEUE": "bench-deliveries",
              "DJANGO_SETTINGS_MODULE": "config.settings.local"}
PEER_ENV = {**COMMON_ENV, "DATABASE_URL": f"{PG}/{DB_PEER}", "CELERY_QUEUE": "bench-deliveries-peer",
            "DJANGO_SETTINGS_MODULE": "bench.peer.settings"}
os.environ.update(ENGINE_ENV)


# --- The stack ----------------------------------------------------------------------------------


def database_prepare(name: str, env: dict, *extra: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0", *extra], cwd=ROOT, check=True,
                   env={**os.environ, **env})


def redis_flush() -> None:
    import redis

    redis.Redis.from_url(REDIS).flushdb()


class Workers:
    """A Celery worker (`-c 2`, prefork) and, for the engine, beat: started fresh for each run."""

    def __init__(self, *, env: dict, name: str, beat: bool, concurrency: int = 2) -> None:
        self.env = {**os.environ, **env}
        self.name = f"{name}@{socket.gethostname()}"
        self.log_dir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
        celery = [sys.executable, "-m", "celery", "-A", "config"]
        self.procs = [self._spawn("worker", [*celery, "worker", "-Q", env["CELERY_QUEUE"], "-c", str(concurrency),
                                             "-P", "prefork", "-n", self.name, "--without-gossip",
                                             "--without-mingle", "-l", "WARNING"])]
        if beat:
            self.procs.append(self._spawn("beat", [*celery, "beat", "-l", "WARNING",
                                                   "-s", str(self.log_dir / "beat-schedule")]))
        self._wait_ready()

    def _spawn(self, log: str, argv: list[str]) -> subprocess.Popen:
        return subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=open(self.log_dir / f"{log}.log", "ab"),
                                stderr=subprocess.STDOUT)

    def _wait_ready(self) -> None:
        from config.celery import app

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if app.control.ping(destination=[self.name], timeout=0.5):
                return
        raise RuntimeError(f"worker {self.name} did not answer; see {self.log_dir}")

    def cpu_seconds(self) -> float:
        """CPU time used so far by these processes and their children (the pool processes)."""
        return sum(process_cpu_seconds(proc.pid) for proc in self.procs)

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- Measuring ----------------------------------------------------------------------------------


def process_cpu_seconds(pid: int, *, children: bool = True) -> float:
    """User + system CPU of `pid` and (unless told not to) its living descendants, from /proc (0 once gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split() if children else []
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(process_cpu_seconds(int(kid)) for kid in kids)


def postgres_cpu(database: str) -> dict[int, float]:
    """CPU so far of each PostgreSQL backend connected to `database`."""
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        pids = [pid for (pid,) in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s "
                                                "AND pid <> pg_backend_pid()", [database])]
    return {pid: process_cpu_seconds(pid, children=False) for pid in pids}


class CpuMeter:
    """CPU the stack used between start and stop: workers, PostgreSQL backends, receiver, emitter.

    Backends that disconnect before `stop()` take their CPU with them: the PostgreSQL figure is a floor."""

    def __init__(self, *, workers: "Workers", receiver, database: str) -> None:
        self.workers, self.receiver, self.database = workers, receiver, database
        self.start = self._now()

    def _now(self) -> dict:
        own, waited = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return {"workers": self.workers.cpu_seconds(), "postgres": postgres_cpu(self.database),
                "receiver": process_cpu_seconds(self.receiver.proc.pid, children=False),
                # this process's emitting threads, or the peer's emitter (a child process run to completion)
                "emitter": own.ru_utime + own.ru_stime + waited.ru_utime + waited.ru_stime}

    def per_delivery(self, deliveries: int) -> dict[str, float]:
        """Milliseconds of CPU per delivery, by part and in all."""
        end = self._now()
        used = {name: end[name] - self.start[name] for name in ("workers", "receiver", "emitter")}
        used["postgres"] = sum(max(0.0, cpu - self.start["postgres"].get(pid, 0.0))
                               for pid, cpu in end["postgres"].items())
        per = {name: seconds * 1000 / max(1, deliveries) for name, seconds in used.items()}
        per["all"] = sum(per.values())
        return per


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def figures(records: list[list], *, expected: int, started: float, emit_end: float) -> dict:
    """What the receiver saw: counts, duplicates by (path, message id), rates and emit→receipt."""
    counts = Counter((r[0], r[1]) for r in records)
    first: dict[tuple, list] = {}
    for record in records:
        first.setdefault((record[0], record[1]), record)
    latencies = [(r[3] - r[2]) * 1000 for r in first.values() if r[2] is not None]
    arrivals = [r[3] for r in first.values()]
    duration = emit_end - started
    windows = [sum(1 for t in arrivals if s <= t < s + WINDOW) / WINDOW
               for s in [started + i * WINDOW for i in range(int(duration // WINDOW))]]
    return {
        "expected": expected,
        "received": len(records),
        "unique": len(counts),
        "duplicates": sum(n - 1 for n in counts.values()),
        "emit_seconds": duration,
        "per_second": sum(1 for t in arrivals if t <= emit_end) / duration,
        "slowest_window": min(windows) if windows else None,
        "drain_seconds": max(arrivals) - emit_end if arrivals else None,
        "p50_ms": statistics.median(latencies) if latencies else None,
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies) if latencies else None,
    }


def wait_for(receiver, *, skip: int, paths: set[str], expected: int, seconds: float) -> list[list]:
    """Records at `paths` since `skip`, once every (path, message) pair has arrived or `seconds` passed."""
    deadline = time.time() + seconds
    while True:
        records = [r for r in receiver.records()[skip:] if r[0] in paths]
        if len({(r[0], r[1]) for r in records}) >= expected or time.time() > deadline:
            return records
        time.sleep(0.5)


# --- The engine ---------------------------------------------------------------------------------


@dataclass
class Load:
    """One tenant's endpoints (receiver paths) and the events emitted to them each second."""

    tenant: str
    rate: float
    paths: list[str]
    wait: bool = True  # wait for every delivery before measuring (not for receivers that never answer)
    events: int = 0
    started: float = 0.0
    ended: float = 0.0
    endpoint_ids: list[int] = field(default_factory=list)


def engine_reset() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE webhooks_attempt, webhooks_delivery, webhooks_event, webhooks_endpoint CASCADE")
    redis_flush()


def load_subscribe(load: Load, receiver) -> None:
    from accounts.models import Tenant
    from webhooks import signing
    from webhooks.models import Endpoint

    tenant, _ = Tenant.objects.get_or_create(slug=load.tenant, defaults={"name": load.tenant})
    load.endpoint_ids = [Endpoint.objects.create(tenant=tenant, url=receiver.url(path),
                                                 secret=signing.new_secret()).pk for path in load.paths]


def loads_emit(loads: list[Load], *, seconds: float) -> None:
    """Emit each load's events at its rate, all loads at once, from several threads each."""
    from django.db import connection

    from accounts.models import Tenant
    from webhooks.events import emit

    def emitter(load: Load, tenant: Tenant, index: int, threads: int) -> None:
        for n in range(index, load.events, threads):
            pause = load.started + n / load.rate - time.time()
            if pause > 0:
                time.sleep(pause)
            emit("webhook.test", {"n": n, "emitted_at": time.time()}, tenant=tenant)
        connection.close()

    workers = []
    started = time.time()
    for load in loads:
        load.events, load.started = int(load.rate * seconds), started
        threads = max(1, min(EMITTER_THREADS, int(load.rate // 25)))
        tenant = Tenant.objects.get(slug=load.tenant)
        workers += [threading.Thread(target=emitter, args=(load, tenant, i, threads)) for i in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    for load in loads:
        load.ended = time.time()


def load_stages(load: Load, records: list[list]) -> dict:
    """Where emit→receipt goes, from each delivery's rows and its first arrival: emit → fan-out (the
    Delivery row's insert), fan-out → first try sent (its Attempt's start), sent → arrival."""
    from webhooks.models import Attempt

    arrival: dict[tuple, float] = {}
    for path, msg_id, _, received in records:
        arrival.setdefault((path, msg_id), received)
    path_of = dict(zip(load.endpoint_ids, load.paths, strict=True))
    stages: dict[str, list[float]] = {"emit → fan-out": [], "fan-out → sent": [], "sent → arrival": []}
    first_tries = Attempt.objects.filter(number=1, delivery__endpoint_id__in=load.endpoint_ids).values_list(
        "delivery__event_id", "delivery__endpoint_id", "delivery__event__data", "delivery__created_at", "started_at")
    for event_id, endpoint_id, data, fanned_out, sent in first_tries:
        received = arrival.get((path_of[endpoint_id], event_id))
        if received is None or "emitted_at" not in data:
            continue
        stages["emit → fan-out"].append((fanned_out.timestamp() - data["emitted_at"]) * 1000)
        stages["fan-out → sent"].append((sent - fanned_out).total_seconds() * 1000)
        stages["sent → arrival"].append((received - sent.timestamp()) * 1000)
    return {name: (statistics.median(values), percentile(values, 0.99)) if values else (None, None)
            for name, values in stages.items()}


def load_figures(load: Load, receiver, *, skip: int, drain: float) -> dict:
    from webhooks.models import Delivery

    expected = load.events * len(load.paths)
    records = wait_for(receiver, skip=skip, paths=set(load.paths), expected=expected,
                       seconds=drain if load.wait else 0)
    result = figures(records, expected=expected, started=load.started, emit_end=load.ended)
    rows = Delivery.objects.filter(endpoint_id__in=load.endpoint_ids)
    deadline = time.time() + (30 if load.wait else 0)
    # A request arrives before its outcome is recorded (after a slow receiver's answer): let the recorder catch up.
    while rows.filter(status="pending").exists() and time.time() < deadline:
        time.sleep(0.5)
    result["rows"] = dict(Counter(rows.values_list("status", flat=True)))
    if load.wait:
        result["stages"] = load_stages(load, records)
    result["events"] = load.events
    result["rate"] = load.rate
    result["endpoints"] = len(load.paths)
    return result


def engine_run(receiver, loads: list[Load], *, workers: "Workers", seconds: float, drain: float) -> list[dict]:
    """Subscribe, emit every load together, then each load's figures (waiting up to `drain` for it)."""
    for load in loads:
        load_subscribe(load, receiver)
    skip = len(receiver.records())
    receiver.stats()
    meter = CpuMeter(workers=workers, receiver=receiver, database=DB_ENGINE)
    loads_emit(loads, seconds=seconds)
    results = [load_figures(load, receiver, skip=skip, drain=drain) for load in loads]
    cpu, stats = meter.per_delivery(sum(r["unique"] for r in results)), receiver.stats()
    for result in results:  # the run's CPU and connections, over every delivery it made
        result["cpu"] = cpu
        result["receiver_lag_ms"] = stats["lag"] * 1000
        result["connections"] = stats["connections"]
    return results


# --- The peer: django-webhook -------------------------------------------------------------------


def peer_run(receiver, *, label: str, endpoints: int, rate: float, seconds: float, drain: float) -> dict:
    """The same load through django-webhook: a Ping saved per event, a Celery task per delivery."""
    import psycopg

    with psycopg.connect(f"{PG}/{DB_PEER}", autocommit=True) as conn:
        conn.execute("TRUNCATE django_webhook_webhookevent, peer_ping")
    redis_flush()
    workers = Workers(env=PEER_ENV, name="bench-peer", beat=False)
    try:
        base = f"/peer/{label}"
        skip = len(receiver.records())
        receiver.stats()
        meter = CpuMeter(workers=workers, receiver=receiver, database=DB_PEER)
        out = subprocess.run(
            [sys.executable, "-m", "bench.peer.emit", "--url-base", receiver.url(base), "--endpoints", str(endpoints),
             "--rate", str(rate), "--seconds", str(seconds)],
            cwd=ROOT, env={**os.environ, **PEER_ENV}, capture_output=True, text=True,
        )
        if out.returncode:
            raise RuntimeError(f"the peer's emitter failed:\n{out.stderr}")
        emitted = json.loads(out.stdout.strip().splitlines()[-1])
        paths = {f"{base}/e{i}" for i in range(endpoints)}
        expected = emitted["events"] * endpoints
        records = wait_for(receiver, skip=skip, paths=paths, expected=expected, seconds=drain)
        result = figures(records, expected=expected, started=emitted["started"], emit_end=emitted["ended"])
        result["cpu"] = meter.per_delivery(result["unique"])
        stats = receiver.stats()
        result.update(receiver_lag_ms=stats["lag"] * 1000, connections=stats["connections"])
    finally:
        workers.stop()
    with psycopg.connect(f"{PG}/{DB_PEER}", autocommit=True) as conn:
        result["rows"] = dict(conn.execute("SELECT status, count(*) FROM django_webhook_webhookevent GROUP BY 1"))
    result.update(events=emitted["events"], rate=rate, endpoints=endpoints)
    return result


# --- Scenarios ----------------------------------------------------------------------------------


def fast_paths(prefix: str, count: int) -> list[str]:
    return [f"/{prefix}/e{i}" for i in range(count)]


def scenario_throughput(receiver, args) -> dict:
    load = Load("bench-throughput", args.rate, fast_paths("throughput", 8))
    workers = Workers(env=ENGINE_ENV, name="bench-engine", beat=True)
    try:
        engine_reset()
        (engine,) = engine_run(receiver, [load], workers=workers, seconds=args.throughput_seconds, drain=args.drain)
    finally:
        workers.stop()
    result = {"engine": engine}
    if args.peer:
        result["peer"] = peer_run(receiver, label="throughput", endpoints=8, rate=args.rate,
                                  seconds=args.throughput_seconds, drain=args.peer_drain)
    return result


def scenario_slow_receivers(receiver, args) -> dict:
    slow = args.slow_receiver
    endpoints = 100
    load = Load("bench-slow", args.rate * 8 / endpoints, fast_paths("slow", endpoints))
    workers = Workers(env=ENGINE_ENV, name="bench-engine", beat=True)
    try:
        engine_reset()
        (engine,) = engine_run(slow, [load], workers=workers, seconds=args.slow_seconds, drain=args.drain)
    finally:
        workers.stop()
    return {"engine": engine}


def scenario_bad_neighbour(receiver, args) -> dict:
    seconds = args.neighbour_seconds
    alone = Load("bench-b-alone", args.rate, fast_paths("neighbour/b-alone", 8))
    beside = Load("bench-b", args.rate, fast_paths("neighbour/b", 8))
    tenant_a = Load("bench-a", args.neighbour_rate, ["/hang/neighbour/a", "/delay/2-5/neighbour/a"], wait=False)
    workers = Workers(env=ENGINE_ENV, name="bench-engine", beat=True)
    try:
        engine_reset()
        (b_alone,) = engine_run(receiver, [alone], workers=workers, seconds=seconds, drain=args.drain)
        b_with_a, a = engine_run(receiver, [beside, tenant_a], workers=workers, seconds=seconds, drain=args.drain)
        a.update(tenant_a_rows(tenant_a))
    finally:
        workers.stop()
    return {"b_alone": b_alone, "b_with_a": b_with_a, "a": a}


def tenant_a_rows(load: Load) -> dict:
    """Nothing of A's lost: a Delivery per (event, endpoint), each pending, succeeded or failed after tries.

    Only the emitted `webhook.test` events count: A's circuit opening emits `endpoint.failing` to A's
    other endpoint, an event of its own."""
    from webhooks.models import Delivery, Endpoint, Event

    rows = Delivery.objects.filter(endpoint_id__in=load.endpoint_ids, event__type="webhook.test")
    events = Event.objects.filter(tenant__slug=load.tenant, type="webhook.test").count()
    valid = rows.filter(status__in=["pending", "succeeded"]).count() + rows.filter(
        status="failed", attempt_count__gt=0).count()
    circuits = dict(Endpoint.objects.filter(pk__in=load.endpoint_ids).values_list("url", "circuit"))
    return {"a_events_stored": events, "a_rows": rows.count(), "a_rows_expected": load.events * len(load.paths),
            "a_rows_valid": valid, "a_circuits": {url.split("/neighbour")[0].rsplit("/", 1)[-1] or url: state
                                                  for url, state in circuits.items()}}


def scenario_latency(receiver, args) -> dict:
    load = Load("bench-latency", args.latency_rate, fast_paths("latency", 1))
    workers = Workers(env=ENGINE_ENV, name="bench-engine", beat=True)
    try:
        engine_reset()
        (engine,) = engine_run(receiver, [load], workers=workers, seconds=args.latency_seconds, drain=args.drain)
    finally:
        workers.stop()
    result = {"engine": engine}
    if args.peer:
        result["peer"] = peer_run(receiver, label="latency", endpoints=1, rate=args.latency_rate,
                                  seconds=args.latency_seconds, drain=args.peer_drain)
    return result


SCENARIOS = {
    "throughput": scenario_throughput,
    "slow-receivers": scenario_slow_receivers,
    "bad-neighbour": scenario_bad_neighbour,
    "latency": scenario_latency,
}


# --- Report -------------------------------------------------------------------------------------


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def row(name: str, r: dict) -> str:
    window = "-" if r["slowest_window"] is None else f"{r['slowest_window']:.0f}"
    drain = "-" if r["drain_seconds"] is None else f"{r['drain_seconds']:.1f} s"
    return (f"| {name} | {r['events']:,} at {r['rate']:g}/s x {r['endpoints']}, emitted in {r['emit_seconds']:.1f} s "
            f"| {r['unique']:,} / {r['expected']:,} "
            f"| {r['duplicates']} | {r['per_second']:.0f} | {window} | {ms(r['p50_ms'])} | {ms(r['p99_ms'])} "
            f"| {ms(r['max_ms'])} | {drain} | {ms(r['cpu']['workers'])} | {ms(r['cpu']['all'])} "
            f"| {', '.join(f'{k} {v:,}' for k, v in sorted(r['rows'].items()))} |")


TABLE_HEAD = ("| path | events | delivered (unique) / expected | duplicates | deliveries/s while emitting "
              f"| slowest {WINDOW:.0f} s window /s | p50 | p99 | max | last arrival after emit "
              "| CPU per delivery: workers | all | rows |\n"
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
ENGINE = "Streamhook engine"
PEER = "peer: django-webhook 0.0.15 (a Celery task per delivery)"


def stages_line(label: str, r: dict) -> str:
    parts = [f"{name} {ms(p50)} / {ms(p99)}" for name, (p50, p99) in r.get("stages", {}).items()]
    return (f"{label}, p50 / p99 of each stage: " + "; ".join(parts)
            + f". Connections opened to the receiver: {r['connections']:,}; its event loop ran at worst "
            f"{ms(r['receiver_lag_ms'])} late. " + cpu_line(r)) if parts else ""


def cpu_line(r: dict) -> str:
    cpu = r["cpu"]
    parts = ", ".join(f"{name} {cpu[name]:.2f} ms" for name in ("workers", "postgres", "receiver", "emitter"))
    return (f"CPU per delivery: {parts}; {cpu['all']:.2f} ms in all, so 2 idle cores carry at most "
            f"{2000 / cpu['all']:,.0f} deliveries/s of this kind.") if cpu["all"] else ""


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def all_delivered(r: dict) -> bool:
    return r["unique"] == r["expected"] and r["duplicates"] == 0


def report(name: str, result: dict, args, load: tuple[float, float]) -> str:
    """The markdown section of one scenario."""
    loadavg = f"Load average (1 min) before / after: {load[0]:.1f} / {load[1]:.1f} (2 cores, shared)."
    if name == "bad-neighbour":
        alone, beside, a = result["b_alone"], result["b_with_a"], result["a"]
        ok_p99 = beside["p99_ms"] is not None and beside["p99_ms"] < 250
        ok_ratio = ok_p99 and alone["p99_ms"] and beside["p99_ms"] <= 1.5 * alone["p99_ms"]
        ok_a = a["a_rows"] == a["a_rows_expected"] == a["a_rows_valid"]
        return f"""### `bad-neighbour`

Tenant B: 8 fast endpoints at {args.rate:g} events/s, {args.neighbour_seconds:g} s alone, then
{args.neighbour_seconds:g} s beside tenant A: {args.neighbour_rate:g} events/s to one endpoint that never answers
(the 15 s timeout ends each try) and one answering in 2-5 s. Same workers throughout. {loadavg}

{TABLE_HEAD}
{row("tenant B alone", alone)}
{row("tenant B beside A", beside)}
{row("tenant A (arrivals so far; repeats are retries)", a)}

{stages_line("Tenant B alone", alone)}
{stages_line("Tenant B beside A", beside)}

Tenant A's rows: {a['a_events_stored']:,} events stored, {a['a_rows']:,} / {a['a_rows_expected']:,} deliveries exist,
{a['a_rows_valid']:,} pending, succeeded or failed after tries; circuits: {a['a_circuits']}.

Targets: B's p99 beside A < 250 ms ({verdict(ok_p99)}) and within 1.5x of B alone ({verdict(bool(ok_ratio))});
0 duplicates at B ({verdict(beside['duplicates'] == 0)}); nothing of A's lost ({verdict(ok_a)}).
"""
    engine = result["engine"]
    rows = [row(ENGINE, engine)] + ([row(PEER, result["peer"])] if "peer" in result else [])
    table = "\n".join([TABLE_HEAD, *rows]) + "\n\n" + stages_line("Engine", engine)
    if "peer" in result:
        table += "\n\nPeer's " + cpu_line(result["peer"])
    if name == "latency":
        ok = engine["p50_ms"] < 10 and engine["p99_ms"] < 50
        return f"""### `latency`

{args.latency_rate:g} events/s to one fast endpoint for {args.latency_seconds:g} s. {loadavg}

{table}

Target: p50 < 10 ms and p99 < 50 ms emit→receipt ({verdict(ok)}).
"""
    what = {"throughput": f"8 fast endpoints, {args.rate:g} events/s for {args.throughput_seconds:g} s",
            "slow-receivers": f"100 endpoints whose receiver answers after {args.delay * 1000:.0f} ms, "
                              f"{args.rate * 8 / 100:g} events/s for {args.slow_seconds:g} s"}[name]
    ok = all_delivered(engine) and (engine["slowest_window"] or 0) >= 1500
    return f"""### `{name}`

{what}. {loadavg}

{table}

Target: ≥ 1,500 deliveries/s sustained (slowest {WINDOW:.0f} s window), all delivered, 0 duplicates ({verdict(ok)}).
"""


INTRO = """## Webhook deliveries (`bench/deliveries.py`)

PostgreSQL + Redis on this 2-core machine; for each scenario a fresh Celery worker `-c 2` (prefork) and beat with
the default engine settings; one asyncio receiver on 127.0.0.1 (`bench/receiver.py`). Events are emitted through
`emit()` from the benchmark's process, several threads at a steady pace; emit→receipt is from `time.time()` put
into the event's data just before `emit()` to the request's arrival at the receiver. Duplicates are counted per
endpoint by message id (`webhook-id`; django-webhook sends none, so its event number). "Rows" are the sender's own
records after the run (Streamhook's `Delivery`, django-webhook's `WebhookEvent`). The peer, [django-
webhook](https://pypi.org/project/django-webhook/) (pinned in `requirements-dev.txt`), sends one Celery task per
delivery from a model's `post_save`, each posting with a new `requests` session; it runs on a database of its own
with the same receiver, broker and worker count, waiting at most `--peer-drain` seconds for its backlog. "CPU per
delivery" is the CPU time used over the run divided by the deliveries received: "workers" is the Celery worker's
processes (main and pool, and beat for the engine), "all" adds the PostgreSQL backends of the benchmark's database
(a floor: a backend that disconnects takes its figure with it), the receiver and the emitter. Unlike rates and
latencies it barely depends on what else the machine is running, and 2,000 ms / "all" bounds deliveries/s on this
2-core machine when idle. Below each table, emit→receipt is split in stages from the engine's own rows: emit → fan-
out (the `Delivery` row's insert), fan-out → sent (its first `Attempt`'s start), sent → arrival; with the
connections senders opened to the receiver and how late the receiver's event loop ran at worst (a starved receiver
stamps arrivals late). Each scenario writes its own section below.
"""


def write(name: str, markdown: str) -> None:
    from bench.report import write_section

    write_section("deliveries", INTRO)
    order = list(SCENARIOS)
    previous = "deliveries" if order.index(name) == 0 else f"deliveries-{order[order.index(name) - 1]}"
    write_section(f"deliveries-{name}", markdown, after=previous)


# --- Main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=["all", *SCENARIOS], default="all")
    parser.add_argument("--seconds", type=float, help="every scenario's duration (short runs while debugging)")
    parser.add_argument("--throughput-seconds", type=float, default=60)
    parser.add_argument("--slow-seconds", type=float, default=60)
    parser.add_argument("--neighbour-seconds", type=float, default=30, help="each phase: B alone, B beside A")
    parser.add_argument("--latency-seconds", type=float, default=30)
    parser.add_argument("--rate", type=float, default=200, help="events/s to the 8 fast endpoints (x8 deliveries)")
    parser.add_argument("--neighbour-rate", type=float, default=20, help="tenant A's events/s")
    parser.add_argument("--latency-rate", type=float, default=50)
    parser.add_argument("--delay", type=float, default=0.25, help="the slow receivers' answer time (s)")
    parser.add_argument("--drain", type=float, default=120, help="seconds to wait for the engine's last deliveries")
    parser.add_argument("--peer-drain", type=float, default=60, help="seconds to wait for django-webhook's backlog")
    parser.add_argument("--no-peer", dest="peer", action="store_false", help="skip django-webhook")
    parser.add_argument("--no-write", action="store_true", help="print, don't update docs/benchmarks.md")
    parser.add_argument("--engine-settings", default=ENGINE_ENV["DJANGO_SETTINGS_MODULE"],
                        help="the engine's Django settings module (to measure a settings change)")
    args = parser.parse_args()
    ENGINE_ENV["DJANGO_SETTINGS_MODULE"] = args.engine_settings
    if args.seconds:
        args.throughput_seconds = args.slow_seconds = args.neighbour_seconds = args.latency_seconds = args.seconds
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]

    database_prepare(DB_ENGINE, ENGINE_ENV)
    if args.peer and {"throughput", "latency"} & set(names):
        database_prepare(DB_PEER, PEER_ENV, "--run-syncdb")
    import django

    django.setup()
    from bench.receiver import ReceiverProcess

    receiver = ReceiverProcess().start()
    args.slow_receiver = ReceiverProcess().start(delay=args.delay)
    try:
        for name in names:
            before = os.getloadavg()[0]
            print(f"--- {name}", flush=True)
            result = SCENARIOS[name](receiver, args)
            markdown = report(name, result, args, (before, os.getloadavg()[0]))
            print(json.dumps(result, indent=1, default=str), flush=True)
            print(markdown, flush=True)
            if not args.no_write:
                write(name, markdown)
    finally:
        receiver.stop()
        args.slow_receiver.stop()


if __name__ == "__main__":
    main()
