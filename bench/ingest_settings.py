"""What one setting is worth on an ingest path: the senders' WSGI app called in-process, the setting
switched between two values every `--round` requests.

    python -m bench.ingest_settings --scenario realcast-ack \
        --setting WEBHOOKS_INBOUND_SOURCE_CACHE_SECONDS --on 5 --off 0 [--rounds 10] [--round 200]

For layers that a setting turns off (the shared caches of sources and members, say), this resolves
a few per cent where `bench/ingest.py` under gunicorn does not: no HTTP, no load generator, one
process and its PostgreSQL backend, whose CPU both count (`/proc/<pid>/stat`). The variants
alternate, the first changing from round to round, so the machine's drift falls on both; the
figure is the median of the rounds' ratios. It uses `bench.ingest`'s scenarios, payloads and
environment (production settings) on a database of its own (`bench_ingest_settings`, recreated)
and REDIS_URL (default redis://127.0.0.1:6379/0). It prints its figures; it writes nothing.
"""

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import ingest

DB_NAME = "bench_ingest_settings"


def _environ(path: str, body: bytes, headers: dict) -> dict:
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000", "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
    }
    environ.update({"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()})
    return environ


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", required=True, choices=[s.name for s in ingest.SCENARIOS if not s.floor])
    parser.add_argument("--setting", required=True)
    parser.add_argument("--on", required=True, help="the value with the layer (JSON)")
    parser.add_argument("--off", required=True, help="the value without it (JSON)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--round", type=int, default=200, help="requests per variant and round")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args(argv)
    on, off = json.loads(args.on), json.loads(args.off)

    database_url = ingest.recreate_database(args.database_url, DB_NAME)
    os.environ.update(ingest.server_env(database_url, args.redis_url, queue="bench-ingest-settings"))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from config.wsgi import application

    call_command("migrate", verbosity=0)
    printed = io.StringIO()
    scenario = next(s for s in ingest.SCENARIOS if s.name == args.scenario)
    with contextlib.redirect_stdout(printed):
        exec(ingest.SETUP % {"kinds": [scenario.kind]}, {})  # noqa: S102 - bench.ingest's own setup code
    source = json.loads(printed.getvalue().split("SETUP", 1)[1])[scenario.kind]
    path = scenario.path.replace("{id}", str(source["id"]))
    numbers = iter(range(10**9))

    def call() -> None:
        n = next(numbers)
        body = scenario.body(n)
        headers = scenario.headers(n, body, source)
        if scenario.auth == "key":
            headers["X-API-Key"] = source["key"]
        statuses: list[str] = []
        b"".join(application(_environ(path, body, headers), lambda status, _: statuses.append(status)))
        if int(statuses[0][:3]) not in scenario.ok:
            raise SystemExit(f"{scenario.name}: answered {statuses[0]}")

    for _ in range(50):  # the connection, the caches, psycopg's prepared statements
        call()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]

    def cpu() -> float:
        fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
        return time.process_time() + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    figures: dict[str, list[float]] = {"on": [], "off": []}
    try:
        for r in range(args.rounds):
            for label in ("on", "off") if r % 2 == 0 else ("off", "on"):
                setattr(settings, args.setting, on if label == "on" else off)
                call()
                start = cpu()
                for _ in range(args.round):
                    call()
                figures[label].append((cpu() - start) / args.round * 1000)
            print(f"round {r + 1}: on {figures['on'][-1]:.2f} ms, off {figures['off'][-1]:.2f} ms", flush=True)
    finally:
        connection.close()
        ingest.admin_sql(args.database_url, f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    ratio = statistics.median(b / a for a, b in zip(figures["on"], figures["off"], strict=True))
    print(f"{args.scenario}, {args.setting} {args.on} / {args.off}: CPU per request (process + PostgreSQL "
          f"backend) {statistics.median(figures['on']):.2f} / {statistics.median(figures['off']):.2f} ms; "
          f"without / with, median of {args.rounds} rounds' ratios: {ratio:.2f}")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f}; database {urlparse(database_url).path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
