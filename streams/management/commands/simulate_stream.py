import random
import signal

from django.core.management.base import BaseCommand, CommandError

from streams.client import StreamAssistantWebhookClient
from streams.simulation import play_set


class Command(BaseCommand):
    help = "Simulate a live DJ set: send tracks, bot chat and stream stats to a Streamhook server (seed 000's demo)."

    def add_arguments(self, parser):
        parser.add_argument("--url", required=True, help="Base URL of the server, e.g. http://127.0.0.1:8000")
        parser.add_argument("--api-key", required=True, help="A stream-assistant inbound source key.")
        parser.add_argument("--tracks", type=int, default=12, help="Tracks in the set (default 12).")
        parser.add_argument("--speed", type=float, default=60.0,
                            help="Time compression: 60 plays a 4-minute track in 4 s; 0 sends without pauses.")
        parser.add_argument("--session", default=None, help="Session id (default: a new UUID).")
        parser.add_argument("--dj", default="djunohoo")
        parser.add_argument("--title", default="Deep House Vibes")
        parser.add_argument("--seed", type=int, default=None, help="Random seed, for a repeatable set.")
        parser.add_argument("--timeout", type=float, default=5.0)

    def handle(self, *args, **opts):
        if opts["tracks"] < 1:
            raise CommandError("--tracks must be at least 1")
        if opts["speed"] < 0:
            raise CommandError("--speed must not be negative")
        speed = opts["speed"] or float("inf")
        stop = {"requested": False}

        def on_sigterm(signum, frame):
            stop["requested"] = True

        previous = signal.signal(signal.SIGTERM, on_sigterm)
        client = StreamAssistantWebhookClient(opts["url"], api_key=opts["api_key"], timeout=opts["timeout"],
                                              session_id=opts["session"])
        self.stdout.write(f"Streaming session {client.session_id} to {opts['url']} ({opts['tracks']} tracks)")
        try:
            summary = play_set(
                client, tracks=opts["tracks"], speed=speed, rng=random.Random(opts["seed"]),
                dj=opts["dj"], title=opts["title"], progress=self.stdout.write,
                should_stop=lambda: stop["requested"],
            )
        except KeyboardInterrupt:
            raise CommandError("interrupted") from None
        finally:
            signal.signal(signal.SIGTERM, previous)
            client.close()
        self.stdout.write(
            f"Done: session {summary.session_id}, {summary.tracks} tracks, {summary.interactions} chat interactions, "
            f"peak {summary.peak_viewers} viewers; {summary.sent} requests, {summary.failed} failed."
        )
        for error in summary.errors[:5]:
            self.stderr.write(f"  {error}")
        if summary.failed:
            raise CommandError(f"{summary.failed} of {summary.sent} requests failed")
