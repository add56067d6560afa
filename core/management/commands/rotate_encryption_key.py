from cryptography.fernet import InvalidToken
from django.core.management.base import BaseCommand, CommandError

from core.crypto import RotationCount, secrets_rotate


class Command(BaseCommand):
    help = "Re-encrypt every stored secret with the first key of STREAMHOOK_ENCRYPTION_KEYS."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="rows per transaction (default 500)")

    def handle(self, *args, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")

        def progress(count: RotationCount) -> None:
            self.stdout.write(f"{count.model}: {count.rows} rows, {count.secrets} secrets re-encrypted so far")

        try:
            counts = secrets_rotate(batch_size=batch_size, progress=progress)
        except InvalidToken:
            raise CommandError(
                "a stored secret was encrypted with a key that is not in STREAMHOOK_ENCRYPTION_KEYS; "
                "put every old key back in the list (after the new first one) and run again"
            ) from None
        for count in counts:
            self.stdout.write(f"{count.model}: {count.rows} rows, {count.secrets} secrets")
        total = sum(count.secrets for count in counts)
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {total} secrets with the current key."))
