import re
import signal
from datetime import UTC, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from webhooks import selectors, services
from webhooks.models import Endpoint

RELATIVE = re.compile(r"^(\d+)\s*([mhd])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_since(value: str, *, now: datetime | None = None) -> datetime:
    """`24h`, `7d`, `30m` (ago) or an ISO 8601 time (UTC when it has no offset)."""
    match = RELATIVE.match(value.strip().lower())
    if match:
        try:
            return (now or timezone.now()) - timedelta(**{UNITS[match[2]]: int(match[1])})
        except OverflowError:
            raise CommandError(f"--since {value!r} reaches back before the year 1") from None
    try:
        moment = parse_datetime(value.strip())
    except ValueError:
        moment = None
    if moment is None:
        raise CommandError(f"--since {value!r}: use an ISO 8601 time or a span like 24h, 7d, 30m")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)


class Command(BaseCommand):
    help = "Re-send deliveries created since a time (failed ones by default), with progress and a summary."

    def add_arguments(self, parser):
        parser.add_argument("--since", required=True, help="ISO 8601 time, or a span ago: 24h, 7d, 30m")
        parser.add_argument("--endpoint", type=int, dest="endpoint_id", help="only this endpoint's deliveries")
        parser.add_argument("--status", default="failed", choices=["failed", "succeeded", "any"],
                            help="which deliveries to re-send (default: failed)")
        parser.add_argument("--dry-run", action="store_true", help="count them, send nothing")

    def handle(self, *args, since: str, endpoint_id: int | None, status: str, dry_run: bool, **options):
        since_at = parse_since(since)
        if endpoint_id is not None and not Endpoint.objects.filter(pk=endpoint_id).exists():
            raise CommandError(f"--endpoint {endpoint_id}: no such endpoint")
        ids = list(selectors.deliveries_for_redelivery(
            since=since_at, endpoint_id=endpoint_id, status=None if status == "any" else status,
        ).values_list("id", flat=True))
        kind = "deliveries (any status)" if status == "any" else f"{status} deliveries"
        scope = f"{kind} since {since_at:%Y-%m-%d %H:%M:%S}Z" + (
            f" of endpoint {endpoint_id}" if endpoint_id else "")
        if dry_run or not ids:
            self.stdout.write(f"{len(ids)} {scope}; nothing sent" + (" (dry run)" if dry_run else ""))
            return
        self.stdout.write(f"re-sending {len(ids)} {scope}")

        stopping = {"flag": False}
        previous = signal.getsignal(signal.SIGTERM)

        def stop(signum, frame):  # finish the delivery in hand, then stop and report
            stopping["flag"] = True

        signal.signal(signal.SIGTERM, stop)
        try:
            done = services.deliveries_redeliver(
                delivery_ids=ids, should_stop=lambda: stopping["flag"],
                progress=lambda n, total: self.stdout.write(f"  {n}/{total}"),
            )
        finally:
            signal.signal(signal.SIGTERM, previous)
        summary = f"redelivered {done} of {len(ids)} {scope}"
        if stopping["flag"]:
            self.stdout.write(self.style.WARNING(summary + " (stopped by SIGTERM)"))
        else:
            self.stdout.write(self.style.SUCCESS(summary))
