"""Analytics speed at a million plays on PostgreSQL, against the naive query, and ingest with/without rollups.

    python -m bench.analytics [--plays 1000000] [--sessions 20000] [--runs 200] [--reuse] [--no-write]

What it does:
1. (Re)creates its own database `bench_analytics` on DATABASE_URL's server (default
   postgres://postgres@127.0.0.1:5432), migrates it and runs `seed_demo_data` (timed), then a
   full rollup refresh (timed). `--reuse` keeps an already seeded database.
2. Times each query `--runs` times after a warm-up and reports p50/p95/max:
   genre trends over all plays and over the last week, with rollups (what the API does) and
   naive (`use_rollups=False`: the straightforward ORM aggregate over every play); session
   summaries of random sessions; genre trends again after a live session adds a dirty tail.
3. Ingest: streams services (`track_play_record` + `chat_interaction_record`, the real write
   path, webhook fan-out stubbed) for a fresh session, alone and while rollup refreshes run
   back to back in another thread, in events/s.
4. Writes the figures to docs/benchmarks.md (section "analytics").
"""

import argparse
import dataclasses
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "bench_analytics"
SEED_FIGURES = ROOT / "var" / "bench-analytics" / "seed.json"


def _database_url(server_url: str) -> str:
    parts = urlparse(server_url)
    return urlunparse(parts._replace(path=f"/{DB_NAME}"))


def _recreate_database(url: str) -> None:
    import psycopg

    admin = urlunparse(urlparse(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def _database_exists(url: str) -> bool:
    import psycopg

    admin = urlunparse(urlparse(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone() is not None


def timed(fn, runs: int, warmup: int = 3) -> dict:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    rank = lambda p: samples[max(1, -(-len(samples) * p // 100)) - 1]  # noqa: E731 nearest rank
    return {"runs": runs, "p50": statistics.median(samples), "p95": rank(95), "max": samples[-1]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--plays", type=int, default=1_000_000)
    parser.add_argument("--sessions", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--naive-runs", type=int, default=10)
    parser.add_argument("--ingest-events", type=int, default=600)
    parser.add_argument("--reuse", action="store_true", help="Keep an already seeded bench database.")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--refresh-loop", action="store_true", help=argparse.SUPPRESS)  # the ingest bench's helper
    args = parser.parse_args(argv)

    url = _database_url(args.database_url)
    fresh = not (args.reuse or args.refresh_loop) or not _database_exists(url)
    if fresh:
        _recreate_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ.setdefault("STREAMHOOK_VAR_DIR", str(ROOT / "var" / "bench-analytics"))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    if args.refresh_loop:
        return _refresh_loop()
    call_command("migrate", verbosity=0)

    from accounts.models import Tenant
    from analytics.demo import SeedResult, seed_demo_data
    from analytics.rollups import rollup_refresh
    from analytics.selectors import genre_trends, session_summary
    from streams.models import StreamSession, TrackPlay

    figures: dict = {}
    tenant, _ = Tenant.objects.get_or_create(slug="bench", defaults={"name": "bench"})
    if fresh or not TrackPlay.objects.filter(tenant=tenant).exists():
        start = time.monotonic()
        result = seed_demo_data(tenant=tenant, plays=args.plays, sessions=args.sessions,
                                progress=lambda r: print(f"\r  seeded {r.sessions} sessions, {r.plays} plays",
                                                         end="", flush=True))
        figures["seed_s"] = time.monotonic() - start
        figures["seed"] = result
        SEED_FIGURES.parent.mkdir(parents=True, exist_ok=True)
        SEED_FIGURES.write_text(json.dumps({"seed_s": figures["seed_s"], **dataclasses.asdict(result)}))
        print()
    elif SEED_FIGURES.exists():  # --reuse: report how the database was seeded
        saved = json.loads(SEED_FIGURES.read_text())
        figures["seed_s"] = saved.pop("seed_s")
        figures["seed"] = SeedResult(**saved)
    with django.db.connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    from django.conf import settings

    settings.ANALYTICS_ROLLUP_MARGIN = 0  # the bench owns the database: every committed row is final
    start = time.monotonic()
    rollup_refresh(tenant=tenant, full=True)
    figures["refresh_full_s"] = time.monotonic() - start
    figures["plays"] = TrackPlay.objects.filter(tenant=tenant).count()

    now = TrackPlay.objects.filter(tenant=tenant).order_by("-played_at").values_list("played_at", flat=True)[0]
    week = now - timedelta(days=7)
    week_plays = TrackPlay.objects.filter(tenant=tenant, played_at__gte=week).count()
    days7 = datetime.combine(now.date() - timedelta(days=6), datetime.min.time(), tzinfo=UTC)
    days7_plays = TrackPlay.objects.filter(tenant=tenant, played_at__gte=days7).count()
    ids = list(StreamSession.objects.filter(tenant=tenant).values_list("session_id", flat=True)[:5000])
    rng = random.Random(7)
    queries = {
        f"genre-trends, all {figures['plays']:,} plays": (lambda: genre_trends(tenant=tenant),
                                                          lambda: genre_trends(tenant=tenant, use_rollups=False)),
        f"genre-trends, last 7 x 24 h ({week_plays:,} plays)": (
            lambda: genre_trends(tenant=tenant, since=week),
            lambda: genre_trends(tenant=tenant, since=week, use_rollups=False)),
        f"genre-trends, 7 calendar days since {days7:%Y-%m-%d} 00:00 ({days7_plays:,} plays)": (
            lambda: genre_trends(tenant=tenant, since=days7),
            lambda: genre_trends(tenant=tenant, since=days7, use_rollups=False)),
        "session-summary (random session)": (lambda: session_summary(tenant=tenant, session_id=rng.choice(ids)), None),
    }
    assert genre_trends(tenant=tenant) == genre_trends(tenant=tenant, use_rollups=False)
    assert genre_trends(tenant=tenant, since=week) == genre_trends(tenant=tenant, since=week, use_rollups=False)
    results = []
    for name, (fast, naive) in queries.items():
        print(f"  timing {name}")
        results.append((name, timed(fast, args.runs), timed(naive, args.naive_runs, warmup=1) if naive else None))

    ingest = _ingest(tenant, args.ingest_events, args.database_url)
    print("  timing genre-trends with a live session's dirty tail")
    tail = timed(lambda: genre_trends(tenant=tenant), args.runs)
    assert genre_trends(tenant=tenant) == genre_trends(tenant=tenant, use_rollups=False)
    start = time.monotonic()
    recomputed = rollup_refresh(tenant=tenant)
    incremental_s = time.monotonic() - start

    markdown = _markdown(figures, results, tail, ingest, incremental_s, recomputed, args)
    print(markdown)
    if not args.no_write:
        from bench.report import write_section

        write_section("analytics", markdown)
    return 0


def _refresh_loop() -> int:
    """Child process: refresh the bench tenant's rollups back to back until SIGTERM; prints the count."""
    from django.conf import settings

    from accounts.models import Tenant
    from analytics.rollups import rollup_refresh

    settings.ANALYTICS_ROLLUP_MARGIN = 0
    tenant, count, stop = Tenant.objects.get(slug="bench"), 0, threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("ready", flush=True)
    while not stop.is_set():
        rollup_refresh(tenant=tenant)
        count += 1
    print(count, flush=True)
    return 0


def _ingest(tenant, events: int, server_url: str) -> dict:
    """Events/s through the streams services, alone and beside back-to-back rollup refreshes (another process)."""
    import webhooks.events
    from streams import services

    webhooks.events.fan_out_soon = lambda event_id: None  # no broker in this bench: fan-out is not measured
    out = {}
    for label, with_refresh in (("without rollup refreshes", False), ("with back-to-back rollup refreshes", True)):
        refresher = None
        if with_refresh:
            refresher = subprocess.Popen(
                [sys.executable, "-m", "bench.analytics", "--refresh-loop", "--database-url", server_url],
                cwd=ROOT, stdout=subprocess.PIPE, text=True,
            )
            assert refresher.stdout.readline().strip() == "ready"
        session_id = f"bench-live-{label[:7]}-{time.time_ns()}"
        base = datetime.now(UTC)
        start = time.perf_counter()
        for n in range(events // 2):
            moment = base + timedelta(seconds=30 * n)
            services.track_play_record(tenant=tenant, session_id=session_id, at=moment, artist="Bench",
                                       title=f"Track {n}", main_genre="house", subgenre="deep house",
                                       confidence=0.9, characteristics=["groovy"])
            services.chat_interaction_record(tenant=tenant, session_id=session_id, at=moment + timedelta(seconds=5),
                                             message_sent=f"hype {n}", engagement_type="hype", response_count=3)
        elapsed = time.perf_counter() - start
        refreshes = 0
        if refresher:
            refresher.terminate()
            refreshes = int(refresher.communicate(timeout=120)[0].strip() or 0)
        out[label] = {"events_per_s": (events // 2 * 2) / elapsed, "refreshes": refreshes}
    return out


def _markdown(figures, results, tail, ingest, incremental_s, recomputed, args) -> str:
    lines = [
        "## Analytics (PostgreSQL, `python -m bench.analytics`)",
        "",
    ]
    if "seed" in figures:
        seed = figures["seed"]
        lines.append(
            f"Seeded {seed.sessions:,} sessions, {seed.plays:,} plays, {seed.interactions:,} chat interactions, "
            f"{seed.samples:,} viewer samples and {seed.messages:,} chat messages in {figures['seed_s']:.0f} s "
            f"(`seed_demo_data`, bulk inserts)."
        )
    load = os.getloadavg()
    lines += [
        f"Load average while timing (2 cores, other benchmarks may share the machine): {load[0]:.1f} / {load[1]:.1f}.",
        f"Full rollup build: {figures['refresh_full_s']:.1f} s; incremental refresh after the ingest below: "
        f"{incremental_s * 1000:.0f} ms ({recomputed} day(s) recomputed).",
        "",
        "| query | p50 ms | p95 ms | max ms | naive p50 ms | naive p95 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, fast, naive in results:
        naive_cells = f"{naive['p50']:.1f} | {naive['p95']:.1f}" if naive else "- | -"
        lines.append(f"| {name} | {fast['p50']:.1f} | {fast['p95']:.1f} | {fast['max']:.1f} | {naive_cells} |")
    lines.append(f"| genre-trends, all plays, with a live session's tail not yet rolled up | {tail['p50']:.1f} | "
                 f"{tail['p95']:.1f} | {tail['max']:.1f} | - | - |")
    lines += [
        "",
        f"{args.runs} timed runs per query ({args.naive_runs} for the naive ones) after a warm-up, in-process "
        "(selector call, no HTTP). *Naive* is the same selector with `use_rollups=False`: the straightforward "
        "ORM aggregate over every play (GROUP BY genre, each play's chat responses summed by a subquery, "
        "characteristics unnested in SQL). Both answers are asserted equal before timing.",
        "",
        "| ingest (streams services, a track + a chat interaction per step) | events/s | refreshes meanwhile |",
        "|---|---:|---:|",
    ]
    for label, row in ingest.items():
        lines.append(f"| {label} | {row['events_per_s']:.0f} | {row['refreshes']} |")
    lines += [
        "",
        "Rollups are read-side only (no trigger, no write in the ingest path). The second row runs refreshes back "
        "to back in another process during the ingest, a worst case: beat runs one every "
        "`ANALYTICS_ROLLUP_INTERVAL` seconds (default 300). On this 2-core machine the two processes share the CPU.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
