import signal

from django.core.management.base import BaseCommand, CommandError

from webhooks.retention.services import PurgeCount, default_retention, expired_purge


class Command(BaseCommand):
    help = "Delete events, deliveries, attempts and inbound messages past their tenant's retention."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=None,
                            help="rows per statement (default: STREAMHOOK_RETENTION_BATCH_SIZE)")

    def handle(self, *args, batch_size: int | None, **options):
        if batch_size is not None and batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        stopping = []
        previous = signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        self.stdout.write(f"Purging what is older than the retention (default {default_retention()})...")

        def progress(what: str, total: PurgeCount) -> None:
            self.stdout.write(f"  {what}: {self._summary(total)}")

        try:
            total = expired_purge(batch_size=batch_size, progress=progress, should_stop=lambda: bool(stopping))
        finally:
            signal.signal(signal.SIGTERM, previous)
        verb = "Stopped on SIGTERM after deleting" if stopping else "Deleted"
        self.stdout.write(self.style.SUCCESS(f"{verb} {self._summary(total)}."))

    @staticmethod
    def _summary(total: PurgeCount) -> str:
        return (f"{total.deliveries} deliveries, {total.attempts} attempts, {total.events} events, "
                f"{total.inbound_messages} inbound messages")
