import logging
import random
import signal
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError

from streams.client import StreamAssistantWebhookClient
from streams.simulation import play_set


class Command(BaseCommand):
    help = ("Simulate a live DJ set: send tracks, bot chat and stream stats to a Streamhook server, "
            "as the DJ stream assistant's demo does.")

    def add_arguments(self, parser):
        parser.add_argument("--url", required=True, help="Base URL of the server, e.g. http://127.0.0.1:8000")
        parser.add_argument("--api-key", default=None,
                            help="A stream-assistant inbound source key (not needed when --url is its source URL).")
        parser.add_argument("--tracks", type=int, default=12, help="Tracks in the set (default 12).")
        parser.add_argument("--speed", type=float, default=60.0,
                            help="Time compression: 60 plays a 4-minute track in 4 s; 0 sends without pauses.")
        parser.add_argument("--session", default=None, help="Session id (default: a new UUID).")
        parser.add_argument("--dj", default="djunohoo")
        parser.add_argument("--title", default="Deep House Vibes")
        parser.add_argument("--seed", type=int, default=None, help="Random seed, for a repeatable set.")
        parser.add_argument("--timeout", type=float, default=5.0)

    def handle(self, *args, **opts):
        url = opts["url"].strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise CommandError(f"--url must be an http(s) URL such as http://127.0.0.1:8000, not {url!r}")
        if opts["tracks"] < 1:
            raise CommandError("--tracks must be at least 1")
        if not opts["speed"] >= 0:  # also refuses nan
            raise CommandError("--speed must not be negative")
        speed = opts["speed"] or float("inf")
        if opts["verbosity"] < 2:  # the client's retries are urllib3 warnings; the outcome is reported below
            logging.getLogger("urllib3").setLevel(logging.ERROR)
        stop = threading.Event()

        def on_signal(signum, frame):
            if stop.is_set() and signum == signal.SIGINT:
                raise KeyboardInterrupt  # a second Ctrl-C: quit now
            stop.set()
            self.stderr.write("stopping after this request and ending the stream (Ctrl-C again to quit at once)")

        def nap(seconds: float) -> None:
            # Short naps, so a stop request is seen at once, not after a 5-minute track.
            deadline = time.monotonic() + seconds
            while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
                time.sleep(min(left, 0.1))

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        client = StreamAssistantWebhookClient(url, api_key=opts["api_key"], timeout=opts["timeout"],
                                              session_id=opts["session"])
        self.stdout.write(f"Streaming session {client.session_id} to {url} ({opts['tracks']} tracks)")
        try:
            summary = play_set(
                client, tracks=opts["tracks"], speed=speed, rng=random.Random(opts["seed"]),
                dj=opts["dj"], title=opts["title"], progress=self.stdout.write, sleep=nap,
                should_stop=stop.is_set,
            )
        except KeyboardInterrupt:
            raise CommandError("interrupted; the stream was not ended", returncode=130) from None
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            client.close()
        if summary.aborted:
            raise CommandError(f"gave up on {url}: {summary.aborted}")
        played = f"{summary.tracks} of {summary.planned} tracks" if summary.stopped else f"{summary.tracks} tracks"
        self.stdout.write(
            f"{'Stopped early' if summary.stopped else 'Done'}: session {summary.session_id}, {played}, "
            f"{summary.interactions} chat interactions, peak {summary.peak_viewers} viewers; "
            f"{summary.sent} requests, {summary.failed} failed."
        )
        for error, count in Counter(summary.errors).most_common(5):
            self.stderr.write(f"  {count} x {error}")
        if summary.failed:
            raise CommandError(f"{summary.failed} of {summary.sent} requests failed")
