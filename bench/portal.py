"""Server-side render time of every tenant portal page with 100,000 deliveries in the tenant.

    python -m bench.portal [--deliveries 100000] [--runs 9] [--reuse] [--no-write]

What it does:
1. (Re)creates its own database `bench_portal` on DATABASE_URL's server (default
   postgres://postgres@127.0.0.1:5432) and migrates it. `--reuse` keeps an already seeded one.
2. Seeds one tenant with 5 endpoints (one of them takes 60 % of the traffic), `--deliveries`
   events and deliveries over 30 days (88 % succeeded, 9 % failed after 3 attempts, 3 % pending),
   their attempts, and 2,000 inbound messages, all with `bulk_create`; then VACUUM ANALYZE.
3. Renders each portal page with Django's test client, signed in as the tenant's owner (the
   whole request in-process: middleware, views, queries, templates; no network), `--runs`
   times after two warm-ups, and reports the median and the slowest run.
4. Writes the figures to docs/benchmarks.md (section "portal"). The target is a median under 200 ms.
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "bench_portal"
TARGET_MS = 200
EVENT_TYPES = ["stream.live", "stream.updated", "stream.offline", "viewer.count.update", "chat.message.new",
               "track.classified", "recording.ready"]
WEIGHTS = [10, 30, 10, 30, 15, 4, 1]


def _admin_url(url: str) -> str:
    return urlunparse(urlparse(url)._replace(path="/postgres"))


def _prepare_database(server_url: str, reuse: bool) -> tuple[str, bool]:
    """The bench's own database URL, and whether it must be seeded."""
    import psycopg

    url = urlunparse(urlparse(server_url)._replace(path=f"/{DB_NAME}"))
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone() is not None
        if reuse and exists:
            return url, False
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    return url, True


def seed(*, deliveries: int, rng: random.Random) -> None:
    from django.db.models import OuterRef, Subquery
    from django.utils import timezone

    from accounts.services import tenant_create
    from core.ids import new_message_id
    from webhooks import signing
    from webhooks.inbound.models import InboundMessage
    from webhooks.inbound.services import source_create
    from webhooks.models import Attempt, Delivery, Endpoint, Event

    ctx = tenant_create(slug="bench", owner_email="owner@bench.test", password="pw-bench-123")
    tenant = ctx.tenant
    endpoints = [
        Endpoint.objects.create(tenant=tenant, url=f"https://hooks{i}.example.com/in", secret=signing.new_secret(),
                                events=EVENT_TYPES[:3] if i else [])
        for i in range(5)
    ]
    share = [60, 10, 10, 10, 10]
    now = timezone.now()
    span = 30 * 24 * 3600
    batch = 5000
    for start in range(0, deliveries, batch):
        n = min(batch, deliveries - start)
        times = sorted(now - timedelta(seconds=rng.uniform(0, span)) for _ in range(n))
        events = [
            Event(id=new_message_id(now_ms=int(t.timestamp() * 1000)), tenant=tenant,
                  type=rng.choices(EVENT_TYPES, WEIGHTS)[0], data={"stream_id": f"stream_{i}", "viewers": i % 500},
                  created_at=t, fanned_out_at=t)
            for i, t in enumerate(times)
        ]
        Event.objects.bulk_create(events)
        rows, attempts = [], []
        for event in events:
            roll = rng.random()
            status = "succeeded" if roll < 0.88 else "failed" if roll < 0.97 else "pending"
            tries = 1 if status == "succeeded" else 3 if status == "failed" else 0
            rows.append(Delivery(
                tenant=tenant, event=event, endpoint=rng.choices(endpoints, share)[0], status=status,
                attempt_count=tries, last_status_code=200 if status == "succeeded" else 503 if tries else None,
                completed_at=event.created_at if status != "pending" else None,
                next_attempt_at=event.created_at if status == "pending" else None,
            ))
        Delivery.objects.bulk_create(rows)
        for delivery, event in zip(rows, events, strict=True):
            for number in range(1, delivery.attempt_count + 1):
                ok = delivery.status == "succeeded"
                attempts.append(Attempt(
                    delivery=delivery, number=number, started_at=event.created_at + timedelta(seconds=number),
                    duration_ms=rng.randint(20, 400), url=delivery.endpoint.url,
                    request_headers={"webhook-id": event.id, "content-type": "application/json"},
                    status_code=200 if ok else 503, response_body="ok" if ok else "busy", succeeded=ok,
                ))
        Attempt.objects.bulk_create(attempts)
        print(f"\r  seeded {start + n:,} deliveries", end="", flush=True)
    print()
    # created_at is auto_now_add: bulk_create stamped it with now; the history spreads over 30 days.
    Delivery.objects.filter(tenant=tenant).update(
        created_at=Subquery(Event.objects.filter(pk=OuterRef("event_id")).values("created_at")[:1])
    )
    source, _ = source_create(tenant=tenant, name="recorder", kind="recorder")
    InboundMessage.objects.bulk_create([
        InboundMessage(tenant=tenant, source=source, message_id=f"rec-{i}", received_at=now - timedelta(minutes=i),
                       handler="recordings.webhook", headers={"content-type": "application/json"},
                       body=b'{"recording_id": %d}' % i, sha256="0" * 64,
                       status="processed" if i % 10 else "failed", response_status=201 if i % 10 else 404)
        for i in range(2000)
    ])


def pages() -> list[tuple[str, str]]:
    from webhooks.inbound.models import InboundMessage, InboundSource
    from webhooks.models import Delivery, Endpoint

    busiest = Endpoint.objects.filter(tenant__slug="bench", description="").order_by("id").first()
    delivery = Delivery.objects.filter(endpoint=busiest, status="failed").order_by("-id").first()
    since = (delivery.created_at - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    until = (delivery.created_at - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    source = InboundSource.objects.get(tenant__slug="bench")
    message = InboundMessage.objects.filter(source=source).order_by("-id").first()
    return [
        ("endpoint list with health", "/portal/endpoints/"),
        ("endpoint (60 % of the traffic): stats, recent", f"/portal/endpoints/{busiest.pk}/"),
        ("endpoint edit form", f"/portal/endpoints/{busiest.pk}/edit/"),
        ("new endpoint form", "/portal/endpoints/new/"),
        ("delivery log", "/portal/deliveries/"),
        ("delivery log, status=failed", "/portal/deliveries/?status=failed"),
        ("delivery log, type=recording.ready (1 %)", "/portal/deliveries/?event_type=recording.ready"),
        ("delivery log, one day", f"/portal/deliveries/?since={since}&until={until}"),
        ("delivery log, page 40", "/portal/deliveries/?page=40"),
        ("delivery log of one endpoint, failed", f"/portal/deliveries/?endpoint={busiest.pk}&status=failed"),
        ("delivery with 3 attempts", f"/portal/deliveries/{delivery.pk}/"),
        ("live tail", "/portal/tail/"),
        ("live tail rows (polled)", "/portal/tail/rows/"),
        ("event catalogue", "/portal/events/"),
        ("inbound sources", "/portal/sources/"),
        ("inbound source, recent messages", f"/portal/sources/{source.pk}/"),
        ("inbound message", f"/portal/messages/{message.pk}/"),
    ]


def time_pages(runs: int) -> list[dict]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username="owner@bench.test"))
    results = []
    for name, path in pages():
        timings = []
        for i in range(runs + 2):
            start = time.perf_counter()
            response = client.get(path)
            elapsed = (time.perf_counter() - start) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code}")
            if i >= 2:
                timings.append(elapsed)
        result = {"name": name, "path": path, "median": statistics.median(timings), "max": max(timings)}
        print(f"  {result['median']:7.1f} ms  (max {result['max']:6.1f})  {name}  {path}")
        results.append(result)
    return results


def markdown(results: list[dict], args, counts: dict, load: tuple[float, float]) -> str:
    slowest = max(r["median"] for r in results)
    lines = [
        "## Tenant portal pages (PostgreSQL, `python -m bench.portal`)",
        "",
        f"One tenant with {counts['deliveries']:,} deliveries ({counts['attempts']:,} attempts, "
        f"{counts['messages']:,} inbound messages) over 30 days, 5 endpoints, one taking 60 % of them. Each page "
        f"rendered {args.runs} times with Django's test client after two warm-ups (the whole request in-process, "
        f"signed in as the owner). Load average before/after (2 cores, shared): {load[0]:.1f} / {load[1]:.1f}.",
        "",
        "| page | path | median | slowest run |",
        "|---|---|---:|---:|",
        *(f"| {r['name']} | `{r['path']}` | {r['median']:.1f} ms | {r['max']:.1f} ms |" for r in results),
        "",
        f"Target: every page's median under {TARGET_MS} ms: {'met' if slowest < TARGET_MS else 'NOT met'} "
        f"(slowest median {slowest:.1f} ms).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--deliveries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--reuse", action="store_true", help="Keep an already seeded bench database.")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)

    url, fresh = _prepare_database(args.database_url, args.reuse)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ.setdefault("STREAMHOOK_VAR_DIR", str(ROOT / "var" / "bench-portal"))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from webhooks.inbound.models import InboundMessage
    from webhooks.models import Attempt, Delivery

    call_command("migrate", verbosity=0)
    if fresh:
        start = time.monotonic()
        seed(deliveries=args.deliveries, rng=random.Random(args.seed))
        print(f"  seeded in {time.monotonic() - start:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    counts = {"deliveries": Delivery.objects.count(), "attempts": Attempt.objects.count(),
              "messages": InboundMessage.objects.count()}
    before = os.getloadavg()[0]
    results = time_pages(args.runs)
    load = (before, os.getloadavg()[0])
    text = markdown(results, args, counts, load)
    if not args.no_write:
        from bench.report import write_section

        write_section("portal", text)
    print(text)
    return 0 if max(r["median"] for r in results) < TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
