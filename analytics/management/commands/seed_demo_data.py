import time

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Tenant
from analytics.demo import SeedResult, seed_demo_data
from analytics.rollups import rollup_refresh


class Command(BaseCommand):
    help = "Fill a tenant with realistic DJ sessions, tracks, viewer curves and chat (bulk inserts)."

    def add_arguments(self, parser):
        parser.add_argument("--plays", type=int, default=10000)
        parser.add_argument("--sessions", type=int, default=200)
        parser.add_argument("--tenant", default="demo", help="Tenant slug (created if missing).")
        parser.add_argument("--days", type=int, default=365, help="Spread sessions over this many past days.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--no-rollups", action="store_true", help="Skip refreshing the analytics rollups.")

    def handle(self, *args, **opts):
        if opts["sessions"] < 1 or opts["plays"] < 0 or opts["days"] < 1:
            raise CommandError("--sessions and --days must be at least 1, --plays not negative")
        tenant, _ = Tenant.objects.get_or_create(slug=opts["tenant"], defaults={"name": opts["tenant"]})
        started = time.monotonic()
        total = opts["sessions"]

        def progress(done: SeedResult) -> None:
            rate = done.plays / max(time.monotonic() - started, 1e-6)
            bar = "#" * int(30 * done.sessions / total)
            self.stdout.write(f"\r[{bar:<30}] {done.sessions}/{total} sessions, {done.plays} plays "
                              f"({rate:,.0f} plays/s)", ending="")
            self.stdout.flush()

        result = seed_demo_data(tenant=tenant, plays=opts["plays"], sessions=total, days=opts["days"],
                                seed=opts["seed"], progress=progress)
        self.stdout.write("")
        if not opts["no_rollups"]:
            rollup_refresh(tenant=tenant)
        self.stdout.write(self.style.SUCCESS(
            f"Seeded tenant {tenant.slug}: {result.sessions} sessions, {result.plays} plays, "
            f"{result.interactions} chat interactions, {result.samples} viewer samples, {result.messages} chat "
            f"messages in {time.monotonic() - started:.1f} s."
        ))
