from django.core.management.base import BaseCommand

from analytics.rollups import rollup_refresh_all


class Command(BaseCommand):
    help = "Refresh the per-day genre rollups of every tenant (--full rebuilds them from scratch)."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="Rebuild every day, e.g. after deleting streams data.")

    def handle(self, *args, **opts):
        days = rollup_refresh_all(full=opts["full"])
        for slug, count in days.items():
            self.stdout.write(f"{slug}: {count} day(s) recomputed")
        self.stdout.write(self.style.SUCCESS(f"Refreshed the rollups of {len(days)} tenant(s)."))
