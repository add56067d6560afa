import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

from accounts.models import Tenant
from analytics.demo import SeedResult, seed_demo_data
from analytics.rollups import rollup_refresh

MAX_PLAYS = 20_000_000
MAX_SESSIONS = 1_000_000
MAX_PLAYS_PER_SESSION = 1000  # about three days of non-stop DJing
MAX_DAYS = 3650


class Command(BaseCommand):
    help = "Fill a tenant with realistic DJ sessions, tracks, viewer curves and chat (bulk inserts)."

    def add_arguments(self, parser):
        parser.add_argument("--plays", type=int, default=10000, help=f"Track plays in all (0-{MAX_PLAYS:,}).")
        parser.add_argument("--sessions", type=int, default=200, help=f"Stream sessions (1-{MAX_SESSIONS:,}).")
        parser.add_argument("--tenant", default="demo", help="Tenant slug (created if missing).")
        parser.add_argument("--days", type=int, default=365,
                            help=f"Spread sessions over this many past days (1-{MAX_DAYS}).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed: the same seed gives the same data.")
        parser.add_argument("--no-rollups", action="store_true", help="Skip refreshing the analytics rollups.")

    def handle(self, *args, **opts):
        plays, sessions, days, slug = opts["plays"], opts["sessions"], opts["days"], opts["tenant"]
        if not 1 <= sessions <= MAX_SESSIONS:
            raise CommandError(f"--sessions must be between 1 and {MAX_SESSIONS:,} (got {sessions})")
        if not 0 <= plays <= MAX_PLAYS:
            raise CommandError(f"--plays must be between 0 and {MAX_PLAYS:,} (got {plays})")
        if plays > sessions * MAX_PLAYS_PER_SESSION:
            raise CommandError(f"--plays {plays} over {sessions} session(s) is more than {MAX_PLAYS_PER_SESSION} "
                               "plays per session; add --sessions")
        if not 1 <= days <= MAX_DAYS:
            raise CommandError(f"--days must be between 1 and {MAX_DAYS} (got {days})")
        if not slug or slugify(slug) != slug:
            raise CommandError(f"--tenant {slug!r} is not a valid slug (lower-case letters, digits, hyphens)")
        tenant, created = Tenant.objects.get_or_create(slug=slug, defaults={"name": slug})
        if created:
            self.stdout.write(self.style.WARNING(
                f"Created tenant {slug} with no members: add one in the admin (Tenants > {slug}) to see it on "
                "/dashboard/, or seed a tenant made with `create_tenant` instead."))

        started = time.monotonic()
        tty = self.stdout.isatty()

        def progress(done: SeedResult) -> None:
            rate = done.plays / max(time.monotonic() - started, 1e-6)
            bar = "#" * int(30 * done.sessions / sessions)
            line = f"[{bar:<30}] {done.sessions}/{sessions} sessions, {done.plays} plays ({rate:,.0f} plays/s)"
            # A terminal gets one line redrawn in place; a log file gets one line per batch.
            self.stdout.write(f"\r{line}" if tty else line, ending="" if tty else "\n")
            self.stdout.flush()

        # About twenty progress steps, in batches of at most 500 sessions (one transaction each).
        batch = max(1, min(500, sessions // 20))
        result = SeedResult()
        try:
            seed_demo_data(tenant=tenant, plays=plays, sessions=sessions, days=days, seed=opts["seed"],
                           batch_sessions=batch, progress=progress, result=result)
        except KeyboardInterrupt:
            self.stdout.write("")
            raise CommandError(f"Interrupted; {result.sessions} sessions and {result.plays} plays were committed "
                               f"to tenant {slug}.") from None
        if tty:
            self.stdout.write("")
        if not opts["no_rollups"]:
            rollup_refresh(tenant=tenant)
        self.stdout.write(self.style.SUCCESS(
            f"Seeded tenant {tenant.slug}: {result.sessions} sessions, {result.plays} plays, "
            f"{result.interactions} chat interactions, {result.samples} viewer samples, {result.messages} chat "
            f"messages in {time.monotonic() - started:.1f} s."
        ))
