"""Inbound webhook throughput: requests/s and latency of inbound paths under gunicorn on PostgreSQL.

    python -m bench.ingest [--duration 10] [--rounds 3] [--workers N] [--threads N] [--clients 2]
                           [--connections 16] [--scenario recordings-create ...] [--vs REF] [--no-write]

What it does:
1. (Re)creates its own PostgreSQL database (`bench_ingest` on DATABASE_URL's server, default
   postgres://postgres@127.0.0.1:5432) and migrates it; Redis (REDIS_URL, default
   redis://127.0.0.1:6379/0) is the cache and broker, on a queue of its own that no worker
   consumes (the fan-out messages are published, as in production, and deleted afterwards).
2. Creates a tenant, its member and one inbound source per kind the scenarios need.
3. Starts gunicorn on a free port, configured as in production: production settings and
   gunicorn.conf.py (gthread workers with keep-alive; `--workers`/`--threads` override its counts).
4. For each scenario: load generator processes (`--clients`), each with threads holding
   kept-alive HTTP/1.1 connections (raw sockets: a Python client heavy enough to need a core
   of its own would measure itself), warm up, then count answers for `--duration` seconds.
   All scenarios run in turn, `--rounds` times: this machine's speed drifts by 2x within
   minutes, so one run of a scenario says little; the figure is the median round, with the
   slowest and fastest beside it, and the latencies are percentiles of all rounds together.
5. Writes requests/s, latency percentiles and the status mix to docs/benchmarks.md
   (section "ingest") with `bench.report.write_section`.
6. Stops gunicorn and drops the database, however the run ends (SIGTERM and Ctrl-C included).

Comparing with another commit (`--vs REF`, e.g. the commit before a change): two figures taken
in two runs differ by the machine's drift as much as by the code, so one run measures both.
REF is checked out into a temporary detached worktree (`git worktree add --detach`, removed at
the end) and steps 1-3 run a second time from that tree, by the same Python: REF's own
migrations on a database of its own (`bench_ingest_vs`), REF's services creating the same
tenant and sources (with the SETUP of REF's bench/ingest.py, written for REF's signatures),
REF's gunicorn.conf.py and production settings. Both trees get the same environment (only
DATABASE_URL differs), so a setting REF names differently keeps REF's default. In each round
every scenario runs against this tree ("this") and REF back to back, with the same request
numbers, the first alternating from round to round, so drift hits both alike. The table gives
both figures and `this ÷ ref`, the median of the rounds' paired ratios; targets judge "this".

Both gunicorns stay up for the whole run and the load goes to one at a time. An idle gunicorn
sleeps in its event loop (a heartbeat a second) and takes no measurable CPU, while stopping
and starting one around every measurement would put a cold start (new processes, new database
connections, empty per-process caches) and its boot time into each warm-up. The two trees
share REDIS_URL and their rows have the same ids; with rate limits out of the way (10^9 per
source), the cache keys both build from those ids change neither's answers.

Adding a scenario: append a `Scenario` to SCENARIOS (path, source kind, how to authenticate,
and a `body(n)` function returning the bytes of request n; `headers(n, body)` for extra headers
such as signatures or message ids). `ack_only=True` marks asynchronous paths, whose figure is
the acknowledgement latency (the handler runs later in Celery). `floor=True` marks a reference
figure (no target): how fast this stack answers a request that does no work, in the same run.
"""

import argparse
import ast
import json
import multiprocessing
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/ingest.py` as well as `python -m bench.ingest`
PYTHON = sys.executable
ROUND_STRIDE = 10_000_000  # request numbers of round r start here: no round replays another's ids
# Requests/s the recorder and track-classified paths must reach on the 2-core bench machine, through the
# ORM and DRF serializers (issue 18 set it below the 800 the earlier private fast paths were held to).
MIN_RATE = 700
DB_NAME = os.environ.get("BENCH_INGEST_DB", "bench_ingest")  # another name lets two runs share a server


# --- Scenarios ------------------------------------------------------------------------------

# Senders' event times must fall in the window around receipt (STREAMHOOK_EVENT_TIME_WINDOW, 7 days
# back in production), or the answer is a 400: the bodies are stamped yesterday, as a sender's are.
_DAY = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()


def _recording(n: int, *, recording_id: int) -> bytes:
    return json.dumps({
        "recording_id": recording_id,
        "title": f"Meeting {n}",
        "created_at": f"{_DAY} 01:55:59.374860",
        "duration_seconds": 77,
        "duration_database": 77,
        "user_info": {"username": "souvik", "email": "souvik@fyelabs.com"},
        "file_info": {"total_size_mb": 0.51,
                      "individual_sizes_mb": {"video.mkv": 0.5, "thumbnail.jpg": 0.01, "transcript.txt": 0.0}},
        "uploaded_files": {
            "video": f"https://s3.us-west-1.idrivee2.com/fyemeet/{recording_id}/video.mkv",
            "thumbnail": f"https://s3.us-west-1.idrivee2.com/fyemeet/{recording_id}/thumbnail.jpg",
        },
        "upload_timestamp": f"{_DAY}T21:57:22.775114",
        "upload_source": "background_thread",
        "bucket_name": "fyemeet",
        "region": "us-west-1",
    }).encode()


_GENRES = [("drum and bass", "liquid dnb", 174), ("house", "deep house", 122), ("techno", "melodic techno", 128),
           ("breaks", "florida breaks", 132), ("trance", "uplifting trance", 138)]


def _track(n: int) -> bytes:
    """The DJ stream assistant's track_start: a new play each request, spread over 64 live sessions (each locks
    its own row)."""
    main, sub, bpm = _GENRES[n % len(_GENRES)]
    seconds, millis = divmod(n, 1000)
    return json.dumps({
        "timestamp": f"{_DAY}T20:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{millis:03d}Z",
        "dj_stream": {"twitch_username": f"dj{n % 64}", "stream_title": "Deep House Vibes",
                      "viewer_count": 100 + n % 90, "platform": "twitch"},
        "track_data": {"artist": f"Artist {n % 997}", "title": f"Track {n}", "bpm": bpm, "key": "A minor",
                       "classification": {"main_genre": main, "subgenre": sub, "confidence": 0.93,
                                          "characteristics": ["atmospheric", "jazzy", "melodic"]}},
        "session_id": f"bench-session-{n % 64}",
        "event_type": "track_start",
    }).encode()


def _realcast(n: int) -> bytes:
    """RealCast's most frequent events: viewer counts and chat, alternately."""
    if n % 2:
        data = {"stream_id": f"stream_{n % 16}", "viewer_count": 100 + n % 50, "change": 1}
        return json.dumps({"event": "viewer.count.update", "timestamp": f"{_DAY}T10:05:30Z", "data": data}).encode()
    data = {"stream_id": f"stream_{n % 16}", "message_id": f"msg_{n}", "user_id": "user_456", "user_name": "GamerPro",
            "message": "Great stream!", "created_at": f"{_DAY}T10:10:00Z"}
    return json.dumps({"event": "chat.message.new", "timestamp": f"{_DAY}T10:10:00Z", "data": data}).encode()


def _realcast_headers(n: int, body: bytes, source: dict) -> dict:
    import hashlib
    import hmac

    signature = hmac.new(source["secret"].encode(), body, hashlib.sha256).hexdigest()
    return {"X-RealCast-Signature": f"sha256={signature}", "X-RealCast-Webhook-Id": f"wh_{n}"}


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    path: str
    kind: str  # the InboundSource kind whose key (or signature) authenticates
    body: Callable[[int], bytes]
    headers: Callable[[int, bytes, dict], dict] = field(default=lambda n, body, source: {})
    auth: str = "key"  # "key": X-API-Key header; "signature": the scenario's headers() sign; "none"
    ok: tuple[int, ...] = (200, 201)
    ack_only: bool = False
    rate: float | None = None  # requests/s across all connections (paced); None = as fast as answered
    floor: bool = False  # a reference figure, not a target: the machine's speed during this run


SCENARIOS: list[Scenario] = [
    Scenario(
        name="floor-unauthenticated",
        description="the same endpoint with no key (401): gunicorn, Django and the inbound view's checks, "
                    "no database or Redis work. The ceiling of this stack on this machine *now*, in the same run",
        path="/recordings/webhook/", kind="recorder", body=lambda n: _recording(n, recording_id=n),
        auth="none", ok=(401,), floor=True,
    ),
    Scenario(
        name="recordings-create",
        description="the recorder's `POST /recordings/webhook/`, a new recording each time (201; insert + event)",
        path="/recordings/webhook/", kind="recorder",
        # Ids are unique across load processes: the process number is folded in by the generator.
        body=lambda n: _recording(n, recording_id=n),
        ok=(201,),
    ),
    Scenario(
        name="recordings-update",
        description="the recorder's `POST /recordings/webhook/`, the same 50 recordings over and over "
                    "(200; update + event)",
        path="/recordings/webhook/", kind="recorder",
        body=lambda n: _recording(n, recording_id=10_000_000 + n % 50),
        ok=(200, 201),
    ),
    Scenario(
        name="streams-track-classified",
        description="the DJ stream assistant's `POST /api/webhook/track-classified`, a new classified play each "
                    "time in one of 64 live sessions (201; session lock, play insert, chat re-link, "
                    "`track.classified` event)",
        path="/api/webhook/track-classified", kind="stream-assistant", body=_track, ok=(201,),
    ),
    Scenario(
        name="realcast-ack",
        description="RealCast's `POST /webhooks/realcast/{id}`, signed `viewer.count.update` / `chat.message.new` "
                    "paced at 200 req/s (verified, stored, enqueued)",
        path="/webhooks/realcast/{id}", kind="realcast", body=_realcast, headers=_realcast_headers,
        auth="signature", ok=(200,), ack_only=True, rate=200,
    ),
]


# --- Load generation ---------------------------------------------------------------------------


def _request(host: str, port: int, path: str, body: bytes, headers: dict) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json",
             f"Content-Length: {len(body)}", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _read_response(sock: socket.socket, buffer: bytearray) -> int:
    while True:
        end = buffer.find(b"\r\n\r\n")
        if end >= 0:
            head = bytes(buffer[:end]).decode("latin-1")
            status = int(head.split(" ", 2)[1])
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            total = end + 4 + length
            while len(buffer) < total:
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError("server closed the connection")
                buffer += chunk
            del buffer[:total]
            return status
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buffer += chunk


def _connection_loop(scenario_name, host, port, key, source, first_n, start_n, stride, stop_at, warm_until, out):
    scenario = next(s for s in SCENARIOS if s.name == scenario_name)
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    n = first_n + start_n  # request numbers are unique across connections, processes and rounds
    sock = None
    buffer = bytearray()
    path = scenario.path.format(id=source.get("id"))
    interval = stride / scenario.rate if scenario.rate else 0.0  # each connection's share of the pace
    # Connection k starts k/rate seconds in, so the paced requests arrive evenly spread (one every
    # 1/rate s), not as a burst from every connection at once each interval.
    next_send = time.monotonic() + (start_n / scenario.rate if scenario.rate else 0.0)
    while time.monotonic() < stop_at:
        if interval:
            next_send += interval
            time.sleep(max(0.0, next_send - time.monotonic()))
        if sock is None:
            sock = socket.create_connection((host, port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            buffer = bytearray()
        body = scenario.body(n)
        headers = dict(scenario.headers(n, body, source))
        if scenario.auth == "key":
            headers["X-API-Key"] = key
        started = time.monotonic()
        try:
            sock.sendall(_request(host, port, path, body, headers))
            status = _read_response(sock, buffer)
        except OSError:
            sock.close()
            sock = None
            status = -1
        finished = time.monotonic()
        if started >= warm_until:
            statuses[status] = statuses.get(status, 0) + 1
            latencies.append(finished - started)
        n += stride
    if sock is not None:
        sock.close()
    out.append((statuses, latencies))


def _client_process(scenario_name, host, port, key, source, first_n, index, connections, total_connections, stop_at,
                    warm_until, queue):
    results: list = []
    threads = [
        threading.Thread(target=_connection_loop, args=(
            scenario_name, host, port, key, source, first_n, index * connections + c, total_connections, stop_at,
            warm_until, results,
        ))
        for c in range(connections)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    for s, lat in results:
        for code, count in s.items():
            statuses[code] = statuses.get(code, 0) + count
        latencies.extend(lat)
    queue.put((statuses, latencies))


@dataclass
class Result:
    scenario: Scenario
    seconds: float
    statuses: dict[int, int]
    latencies: list[float]

    cpu_seconds: float = 0.0
    round_rates: list[float] = field(default_factory=list)  # requests/s (ok) of each round, when merged

    @property
    def cpu_ms_per_request(self) -> float:
        answered = sum(self.statuses.values())
        return self.cpu_seconds * 1000 / answered if answered else float("nan")

    @property
    def ok(self) -> int:
        return sum(c for code, c in self.statuses.items() if code in self.scenario.ok)

    @property
    def rate(self) -> float:
        """Requests/s answered as the scenario expects: the median round's, when rounds were merged."""
        return statistics.median(self.round_rates) if self.round_rates else self.ok / self.seconds

    @property
    def spread(self) -> str:
        """The slowest and fastest rounds' requests/s ("" for a single round)."""
        if len(self.round_rates) < 2:
            return ""
        return f"{min(self.round_rates):.0f} to {max(self.round_rates):.0f}"

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        if len(self.latencies) == 1:
            return self.latencies[0] * 1000
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(p) - 1] * 1000


def merged(results: list[Result]) -> Result:
    """One scenario's rounds as one result: statuses, latencies and CPU pooled, each round's rate kept."""
    statuses: dict[int, int] = {}
    for r in results:
        for code, count in r.statuses.items():
            statuses[code] = statuses.get(code, 0) + count
    return Result(
        results[0].scenario, sum(r.seconds for r in results), statuses, [x for r in results for x in r.latencies],
        cpu_seconds=sum(r.cpu_seconds for r in results), round_rates=[r.rate for r in results],
    )


def run_scenario(
    scenario: Scenario, *, host, port, key, source, clients, connections, duration, warmup, first_n: int = 0,
) -> Result:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    now = time.monotonic()
    warm_until, stop_at = now + warmup, now + warmup + duration
    per_client = max(1, connections // clients)
    processes = [
        ctx.Process(target=_client_process, args=(
            scenario.name, host, port, key, source, first_n, i, per_client, per_client * clients, stop_at, warm_until,
            queue,
        ), daemon=True)  # an interrupted run takes its load generators with it
        for i in range(clients)
    ]
    for p in processes:
        p.start()
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    for _ in processes:
        s, lat = queue.get(timeout=warmup + duration + 60)
        for code, count in s.items():
            statuses[code] = statuses.get(code, 0) + count
        latencies.extend(lat)
    for p in processes:
        p.join(10)
    return Result(scenario, duration, statuses, latencies)


# --- The stack under test --------------------------------------------------------------------


def server_env(database_url: str, redis_url: str, queue: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "bench-ingest-" + "x" * 50,
        "STREAMHOOK_ENCRYPTION_KEYS": "YmVuY2gtaW5nZXN0LW5vdC1hLXNlY3JldC1rZXktMzI=",  # a public, bench-only key
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "DATABASE_CONN_MAX_AGE": "600",
        "REDIS_URL": redis_url,
        "CELERY_QUEUE": queue,
        "LOG_LEVEL": "WARNING",
    }


def admin_sql(server_url: str, statement: str) -> None:
    import psycopg

    admin_url = urlparse(server_url)._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(statement)


def recreate_database(server_url: str, name: str) -> str:
    admin_sql(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin_sql(server_url, f'CREATE DATABASE "{name}"')
    return urlparse(server_url)._replace(path=f"/{name}").geturl()


SETUP = """
import json
from accounts.services import tenant_create
from accounts.models import Membership
from django.contrib.auth import get_user_model
from webhooks.inbound.services import source_create
ctx = tenant_create(slug="bench", owner_email="owner@bench.test", password="bench-pw-123")
user = get_user_model().objects.create_user(username="souvik", email="souvik@fyelabs.com", password="x-123456789")
Membership.objects.create(tenant=ctx.tenant, user=user)
out = {}
for kind in %(kinds)r:
    source, key = source_create(tenant=ctx.tenant, name="bench " + kind, kind=kind, rate_limit=10**9,
                                signing_secret="bench-secret-0123456789" if kind == "realcast" else None)
    out[kind] = {"key": key, "id": source.pk, "secret": "bench-secret-0123456789"}
print("SETUP" + json.dumps(out))
"""


def setup_script(root: Path) -> str:
    """The SETUP of `root`'s own bench/ingest.py (this file's if it has none).

    SETUP calls the services of the tree it runs in, so an older tree is set up the way its own
    benchmark did it, for its own signatures. Read as text, never imported: the other tree's
    modules stay out of this process.
    """
    try:
        module = ast.parse((root / "bench" / "ingest.py").read_text())
    except (OSError, SyntaxError):
        return SETUP
    for node in module.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["SETUP"]:
            return ast.literal_eval(node.value)
    return SETUP


def _gunicorn_counts(root: Path, env: dict) -> tuple[int, int]:
    """Workers and threads as `root`'s gunicorn.conf.py sets them, read in a process of that tree."""
    read = "import runpy; c = runpy.run_path('gunicorn.conf.py'); print(c['workers'], c['threads'])"
    done = subprocess.run([PYTHON, "-c", read], cwd=root, env=env, check=True, capture_output=True, text=True)
    workers, threads = done.stdout.split()
    return int(workers), int(threads)


def _server_cpu(gunicorn_pid: int, db_name: str) -> float:
    """CPU seconds used so far by gunicorn (master and workers) and the benchmark database's backends."""
    total = 0
    needle = f" {db_name} ".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmdline = fh.read().replace(b"\0", b" ")
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        if pid == gunicorn_pid or ppid == gunicorn_pid or (cmdline.startswith(b"postgres: ") and needle in cmdline):
            total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(port: int, server: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1"):
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer on port {port} (exit status {server.poll()})")


def _stop(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@dataclass
class Stack:
    """One tree's code, served: its database, its bench sources and its gunicorn."""

    label: str  # "this", or the commit it was compared with
    db_name: str
    sources: dict
    port: int
    workers: int
    threads: int
    gunicorn: subprocess.Popen


@contextmanager
def served(label: str, root: Path, *, args: argparse.Namespace, db_name: str, queue: str,
           kinds: list[str]) -> Iterator[Stack]:
    """`root`'s code under gunicorn as in production, on a database of its own, until the block ends.

    Migrations, SETUP, gunicorn.conf.py and the settings all come from `root`, run by this
    Python; the environment is the same for every tree but the database. The database is
    dropped and gunicorn stopped however the block ends (an error, Ctrl-C).
    """
    env = server_env(recreate_database(args.database_url, db_name), args.redis_url, queue)
    gunicorn = None
    try:
        print(f"{label}: database {db_name} recreated; migrating", flush=True)
        subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=root, env=env, check=True)
        setup = subprocess.run([PYTHON, "manage.py", "shell", "-c", setup_script(root) % {"kinds": kinds}],
                               cwd=root, env=env, check=True, capture_output=True, text=True)
        sources = json.loads(setup.stdout.split("SETUP", 1)[1])
        # gunicorn reads gunicorn.conf.py from its working directory: the worker class, workers,
        # threads and keep-alive, as in production; --workers/--threads override the counts.
        configured = _gunicorn_counts(root, env)
        workers, threads = args.workers or configured[0], args.threads or configured[1]
        port = _free_port()
        gunicorn = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(workers),
             "--threads", str(threads), "--log-level", "warning", "--backlog", "2048"],
            cwd=root, env=env,
        )
        _wait_http(port, gunicorn)
        yield Stack(label, db_name, sources, port, workers, threads, gunicorn)
    finally:
        if gunicorn is not None:
            _stop(gunicorn)
        admin_sql(args.database_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


@contextmanager
def checked_out(commit: str) -> Iterator[Path]:
    """`commit`'s tree in a temporary detached worktree of this repository, removed when the block ends."""
    path = Path(tempfile.mkdtemp(prefix="bench-ingest-vs-"))
    try:
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(path), commit], cwd=ROOT, check=True)
        yield path
    finally:
        # --force: the run leaves untracked files behind (bytecode).
        removed = subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT,
                                 capture_output=True, text=True)
        if path.exists():  # `git worktree add` failed, or the removal did
            shutil.rmtree(path, ignore_errors=True)
            if removed.returncode:
                print(f"git worktree remove {path}: {removed.stderr.strip()}", file=sys.stderr)


def resolve_commit(ref: str) -> str | None:
    done = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=ROOT,
                          capture_output=True, text=True)
    return done.stdout.strip() or None


def _interrupt(signum, frame) -> None:
    """SIGTERM unwinds like Ctrl-C, so the servers, databases and worktree are cleaned up."""
    raise KeyboardInterrupt


# --- Measuring -------------------------------------------------------------------------------


def measure(stack: Stack, scenario: Scenario, *, round_index: int, args: argparse.Namespace) -> Result:
    source = stack.sources[scenario.kind]
    # Server-side CPU (gunicorn + this database's PostgreSQL backends) over the measured part:
    # a figure the machine's other load doesn't inflate the way it does requests/s.
    cpu: dict[str, float] = {}
    timer = threading.Timer(
        args.warmup, lambda: cpu.setdefault("start", _server_cpu(stack.gunicorn.pid, stack.db_name)),
    )
    timer.start()
    result = run_scenario(
        scenario, host="127.0.0.1", port=stack.port, key=source["key"], source=source, clients=args.clients,
        connections=args.connections, duration=args.duration, warmup=args.warmup,
        # The same request numbers for every tree: each gets the same requests, on its own database.
        first_n=round_index * ROUND_STRIDE,
    )
    timer.join()
    result.cpu_seconds = _server_cpu(stack.gunicorn.pid, stack.db_name) - cpu["start"]
    print(f"  server CPU {result.cpu_ms_per_request:.2f} ms/request", flush=True)
    print(f"  {result.rate:.0f} req/s ok, p50 {result.percentile(50):.1f} ms, "
          f"p95 {result.percentile(95):.1f} ms, p99 {result.percentile(99):.1f} ms, "
          f"statuses {dict(sorted(result.statuses.items()))}", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="Measured seconds per scenario and round.")
    parser.add_argument("--rounds", type=int, default=3, help="Times every scenario runs, in turn; the median counts.")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--workers", type=int, help="gunicorn worker processes (default: gunicorn.conf.py's).")
    parser.add_argument("--threads", type=int, help="Threads per gunicorn worker (default: gunicorn.conf.py's).")
    parser.add_argument("--clients", type=int, default=2, help="Load generator processes.")
    parser.add_argument("--connections", type=int, default=16, help="Kept-alive connections in all.")
    parser.add_argument("--scenario", action="append", help="Run only these scenarios (repeatable).")
    parser.add_argument("--vs", metavar="REF", help="Also measure this git commit's code, in alternation.")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL",
                                                                 "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--no-write", action="store_true", help="Print the figures; don't touch docs/benchmarks.md.")
    args = parser.parse_args(argv)

    scenarios = [s for s in SCENARIOS if not args.scenario or s.name in args.scenario]
    if not scenarios:
        parser.error(f"no such scenario; known: {', '.join(s.name for s in SCENARIOS)}")
    args.head = resolve_commit("HEAD")
    edited = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    args.edited = " with uncommitted changes" if edited else ""
    args.commit = args.vs and resolve_commit(args.vs)
    if args.vs and not args.commit:
        parser.error(f"--vs {args.vs}: not a commit of this repository")
    signal.signal(signal.SIGTERM, _interrupt)
    queue = f"bench-ingest-{os.getpid()}"
    kinds = sorted({s.kind for s in scenarios})
    with ExitStack() as cleanup:
        cleanup.callback(_drop_queue, args.redis_url, queue)
        stacks = [cleanup.enter_context(served("this", ROOT, args=args, db_name=DB_NAME, queue=queue, kinds=kinds))]
        if args.commit:
            tree = cleanup.enter_context(checked_out(args.commit))
            stacks.append(cleanup.enter_context(
                served(args.commit[:7], tree, args=args, db_name=f"{DB_NAME}_vs", queue=queue, kinds=kinds),
            ))
        args.load_before = os.getloadavg()[0]
        rounds: dict[tuple[str, str], list[Result]] = {(t.label, s.name): [] for t in stacks for s in scenarios}
        for round_index, scenario in ((r, s) for r in range(args.rounds) for s in scenarios):
            # Both trees back to back, the first one alternating from round to round, so the machine's
            # drift hits both alike. The other gunicorn stays up, idle: see the module docstring.
            for stack in stacks if round_index % 2 == 0 else stacks[::-1]:
                code = f" [{stack.label}]" if len(stacks) > 1 else ""
                print(f"round {round_index + 1}/{args.rounds} {scenario.name}{code}: {args.duration:.0f}s with "
                      f"{args.connections} connections", flush=True)
                rounds[stack.label, scenario.name].append(measure(stack, scenario, round_index=round_index, args=args))

    table = report_table(stacks, scenarios, {key: merged(each) for key, each in rounds.items()}, args)
    print(table)
    if not args.no_write:
        from bench.report import write_section

        write_section("ingest", table)
    return 0


def _drop_queue(redis_url: str, queue: str) -> None:
    try:
        import redis

        redis.Redis.from_url(redis_url).delete(queue)
    except Exception as exc:  # only housekeeping
        print(f"could not delete queue {queue}: {exc}", file=sys.stderr)


# --- The report ------------------------------------------------------------------------------


def report_table(stacks: list[Stack], scenarios: list[Scenario], results: dict[tuple[str, str], Result], args) -> str:
    this, ref = stacks[0], stacks[1] if len(stacks) > 1 else None
    lines = [
        "## Inbound ingest (`bench/ingest.py`)",
        "",
        f"gunicorn {_served_counts(stacks)} (gthread, keep-alive: gunicorn.conf.py), production settings, "
        f"PostgreSQL (`{DB_NAME}`) and Redis, on the same {os.cpu_count()}-core machine as the load generator "
        f"({args.clients} processes, {args.connections} kept-alive connections); {args.duration:.0f} s per scenario "
        f"after a warm-up, all scenarios in turn {args.rounds} time(s): req/s is the median round's (the slowest and "
        f"fastest rounds beside it), latencies are over all rounds. Targets: ≥ {MIN_RATE} requests/s for the "
        "recordings and track-classified endpoints; RealCast acknowledgement p99 < 20 ms at 200 requests/s.",
        "",
    ]
    if ref:
        lines += [
            f"Compared with `{args.vs}` (`{ref.label}`): in every round each scenario ran against this tree's code "
            f"(`this`: `{args.head[:7]}`{args.edited}) and `{ref.label}`'s, served from a worktree "
            f"of its own with its own migrations, gunicorn.conf.py and database (`{ref.db_name}`), back to back, "
            "the first alternating from round to round; the load went to one gunicorn at a time while the other "
            "stood idle. this ÷ ref is the median of the rounds' ratios of requests/s. Targets are judged on `this`.",
            "",
        ]
    lines += [
        # Other work on the machine takes cores from both the server and the load generator.
        f"Load average (1 min) before / after the run: {args.load_before:.1f} / {os.getloadavg()[0]:.1f}.",
        "",
        "Server CPU is what gunicorn and the benchmark database's PostgreSQL backends used per answered request "
        f"while measured; {os.cpu_count()} cores / that figure bounds requests/s on this machine without the load "
        "generator and other work.",
        "",
    ]
    columns = ["scenario", "what", *(["code"] if ref else []), "req/s (ok)", "rounds", *(["this ÷ ref"] if ref else []),
               "p50 ms", "p95 ms", "p99 ms", "server CPU ms/req", "statuses"]
    numeric = {"req/s (ok)", "rounds", "this ÷ ref", "p50 ms", "p95 ms", "p99 ms", "server CPU ms/req"}
    lines += ["| " + " | ".join(columns) + " |",
              "|" + "|".join("---:" if c in numeric else "---" for c in columns) + "|"]
    for scenario in scenarios:
        mine = results[this.label, scenario.name]
        if not ref:
            lines.append(_row(mine, scenario.description))
            continue
        theirs = results[ref.label, scenario.name]
        lines.append(_row(mine, scenario.description, code="this", ratio=_ratio(mine, theirs)))
        lines.append(_row(theirs, "", code=f"`{ref.label}`", ratio=""))
    verdicts = [_verdict(results[this.label, s.name]) for s in scenarios]
    lines += ["", "Against the targets: " + "; ".join(v for v in verdicts if v) + "."]
    return "\n".join(lines)


def _served_counts(stacks: list[Stack]) -> str:
    counts = [f"{t.workers} workers x {t.threads} threads" for t in stacks]
    if len(set(counts)) == 1:
        return counts[0]
    return ", ".join(f"{c} (`{t.label}`)" for c, t in zip(counts, stacks, strict=True))


def _row(r: Result, what: str, *, code: str | None = None, ratio: str | None = None) -> str:
    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(r.statuses.items()))
    if what and r.scenario.ack_only:
        what += " — acknowledgement latency"
    cells = [f"`{r.scenario.name}`", what, *([code] if code is not None else []), f"{r.rate:.0f}", r.spread,
             *([ratio] if ratio is not None else []), f"{r.percentile(50):.1f}", f"{r.percentile(95):.1f}",
             f"{r.percentile(99):.1f}", f"{r.cpu_ms_per_request:.2f}", statuses]
    return "| " + " | ".join(cells) + " |"


def _ratio(mine: Result, theirs: Result) -> str:
    """The median of the rounds' this ÷ ref requests/s: each round's pair ran back to back, under one load."""
    pairs = [m / t for m, t in zip(mine.round_rates, theirs.round_rates, strict=True) if t]
    return f"{statistics.median(pairs):.2f}" if pairs else "-"


def _verdict(r: Result) -> str:
    if r.scenario.floor:
        return ""
    if r.scenario.ack_only:
        p99 = r.percentile(99)
        return f"`{r.scenario.name}` p99 {p99:.1f} ms ({'met' if p99 < 20 else 'MISSED'}: < 20 ms)"
    return f"`{r.scenario.name}` {r.rate:.0f} req/s ({'met' if r.rate >= MIN_RATE else 'MISSED'}: ≥ {MIN_RATE})"


if __name__ == "__main__":
    sys.exit(main())
