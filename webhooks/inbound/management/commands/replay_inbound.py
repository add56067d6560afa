"""`manage.py replay_inbound`: re-run handlers on stored inbound messages (their raw bytes)."""

from django.core.management.base import BaseCommand, CommandError

from webhooks.inbound.models import InboundMessage, InboundSource
from webhooks.inbound.services import messages_replay, messages_to_replay
from webhooks.management.commands.redeliver import parse_since


def _moment(option: str, value: str):
    """A date, an ISO 8601 time (UTC without an offset) or a span ago (24h, 7d, 30m): redeliver's parser."""
    try:
        return parse_since(value)
    except CommandError:
        raise CommandError(f"{option} {value!r}: use a date (2026-11-22), an ISO 8601 time "
                           "(2026-11-22T10:00:00Z) or a span ago (24h, 7d, 30m)") from None


class Command(BaseCommand):
    help = "Replay stored inbound webhook messages: run their handler again on the raw body."

    def add_arguments(self, parser):
        parser.add_argument("--source", type=int, help="InboundSource id.")
        parser.add_argument("--status", choices=[s for s in InboundMessage.Status.values if s != "duplicate"],
                            help="Only messages with this status (e.g. failed).")
        parser.add_argument("--since", help="Received at or after: a date, ISO time (UTC if no offset) or 24h/7d/30m.")
        parser.add_argument("--until", help="Received before.")
        parser.add_argument("--id", type=int, action="append", dest="ids", help="A message id (repeatable).")
        parser.add_argument("--dry-run", action="store_true", help="List what would be replayed; change nothing.")

    def handle(self, *args, **options):
        if options["source"] is not None and not InboundSource.objects.filter(pk=options["source"]).exists():
            raise CommandError(f"no inbound source {options['source']}")
        if not any(options[k] for k in ("source", "status", "since", "until", "ids")):
            raise CommandError("give at least one of --source, --status, --since, --until, --id")
        since = _moment("--since", options["since"]) if options["since"] else None
        until = _moment("--until", options["until"]) if options["until"] else None
        if since and until and since >= until:
            raise CommandError(f"--since ({since.isoformat()}) must be before --until ({until.isoformat()})")
        qs = messages_to_replay(source_id=options["source"], status=options["status"], since=since, until=until)
        if options["ids"]:
            qs = qs.filter(pk__in=options["ids"])
        pks = list(qs.values_list("pk", flat=True))
        if options["dry_run"]:
            for message in qs.select_related("source")[:1000]:
                self.stdout.write(f"would replay #{message.pk} {message.received_at:%Y-%m-%d %H:%M:%S} "
                                  f"{message.source} {message.handler} ({message.status})")
            self.stdout.write(f"{len(pks)} message(s) would be replayed (dry run: nothing changed).")
            return

        every = max(1, len(pks) // 20)

        def progress(index, total, outcome):
            if index % every == 0 or index == total:
                self.stdout.write(f"  {index}/{total} replayed")
            if outcome is not None and outcome.message.status == "failed":
                self.stdout.write(f"  #{outcome.message.pk} failed again: {outcome.message.error[:200]}")

        self.stdout.write(f"replaying {len(pks)} message(s)")
        summary = messages_replay(message_pks=pks, progress=progress)
        self.stdout.write(self.style.SUCCESS(
            f"done: {summary.total} replayed, {summary.processed} processed, {summary.failed} failed"
        ))
