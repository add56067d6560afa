"""`manage.py sample_audio`: meter an input and announce its level ten times a second."""

import math
import signal
import sys
import threading
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import Tenant
from audio import services
from audio.sampler import Sampler, Tick, run_offline
from audio.sources import BLOCK_SECONDS, AudioUnavailable, DeviceSource, SynthSource, WavSource, input_devices
from core.broker import publishing_queue_align

EXIT_AUDIO_UNAVAILABLE = 3
SESSION_CHECK_S = 0.5  # how often `--follow` asks whether a session started
# How often a running sampler asks the database whether its session is still active. A stop through the
# API reaches it within a tick through the cache (`LevelPublisher.closed`); this is for a lost cache.
ACTIVE_RECHECK_S = 2.0
# The session's statistics are written after the first second (the admin shows it is sampling), then
# every 5 s: an UPDATE of four expressions a second was a tenth of the command's CPU.
FIRST_FLUSH_TICKS = 10
FLUSH_EVERY_TICKS = 50


class Command(BaseCommand):
    help = "Meter an input (device, WAV file or synthetic signal) and emit its level every tick."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--source", choices=["device", "wav", "synth"], default="device")
        parser.add_argument("--device", help="input device: PortAudio index or name, or a PulseAudio source name")
        parser.add_argument("--channels", type=int,
                            help="device: record the first N channels (default: every channel the input has)")
        parser.add_argument("--wav", help="WAV file for --source wav")
        parser.add_argument("--synth", choices=SynthSource.KINDS, default="sine", help="signal for --source synth")
        parser.add_argument("--level", type=float, default=-20.0, help="peak level of the synthetic signal, dBFS")
        parser.add_argument("--frequency", type=float, default=1000.0, help="synthetic sine frequency, Hz")
        parser.add_argument("--interval", type=float, default=0.1, help="seconds per tick (default 0.1)")
        parser.add_argument("--duration", type=float, help="stop after this many seconds")
        parser.add_argument("--fast", action="store_true", help="wav/synth: as fast as possible, not in real time")
        parser.add_argument("--ballistics", action="store_true", help="VU-like RMS integration and falling peak")
        parser.add_argument("--aes17", action="store_true", help="RMS referenced to a full-scale sine (+3.01 dB)")
        parser.add_argument("--list-devices", action="store_true", help="list input devices and exit")
        parser.add_argument("--follow", action="store_true",
                            help="obey /api/listen/start and /stop: sample only while a session is active")
        parser.add_argument("--tenant", help="tenant slug (default: the only tenant)")
        parser.add_argument("--quiet", action="store_true", help="no line per tick, only the summary")

    def handle(self, *args, **opts) -> None:
        self.opts = opts
        self.stop = threading.Event()
        if opts["list_devices"]:
            return self._guard(self._list_devices)
        if opts["interval"] <= 0:
            raise CommandError("--interval must be positive")
        if opts["source"] == "wav" and not opts["wav"]:
            raise CommandError("--source wav needs --wav FILE")
        if opts["fast"] and opts["source"] == "device":
            raise CommandError("--fast is for --source wav or synth")
        if opts["channels"] is not None and (opts["channels"] < 1 or opts["source"] != "device"):
            raise CommandError("--channels takes a positive number of channels, for --source device")
        tenant = self._tenant(opts["tenant"])
        self._align_queue()
        # Signal handlers can only be installed from the main thread (tests call the command from others).
        in_main = threading.current_thread() is threading.main_thread()
        signals = (signal.SIGINT, signal.SIGTERM) if in_main else ()
        previous = {sig: signal.signal(sig, self._on_signal) for sig in signals}
        try:
            self._guard(self._follow if opts["follow"] else self._once, tenant)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    # --- plumbing ---

    def _on_signal(self, signum, frame) -> None:
        self.stop.set()

    def _guard(self, fn, *args) -> None:
        """Run `fn`; an unusable input ends the command with one line and exit code 3."""
        try:
            fn(*args)
        except AudioUnavailable as exc:
            self.stderr.write(str(exc).splitlines()[0] if str(exc) else "audio unavailable")
            self.stderr.flush()
            sys.exit(EXIT_AUDIO_UNAVAILABLE)

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

    def _tenant(self, slug: str | None) -> Tenant:
        if slug:
            tenant = Tenant.objects.filter(slug=slug).first()
            if tenant is None:
                raise CommandError(f"no tenant {slug!r}")
            return tenant
        tenants = list(Tenant.objects.filter(is_active=True)[:2])
        if len(tenants) == 1:
            return tenants[0]
        if not tenants:
            raise CommandError("no tenant yet; create one with `manage.py create_tenant SLUG --owner EMAIL`")
        raise CommandError("several tenants; say whose listening session this is with --tenant SLUG")

    def _align_queue(self) -> None:
        """Publish where the workers consume, however this command was started (core/broker.py)."""
        check = publishing_queue_align()
        if check.followed:
            self.stderr.write(f"note: no worker consumes queue {check.configured!r}; publishing to {check.queue!r}, "
                              "the one the running workers consume (set CELERY_QUEUE to say so)")
        elif check.unconsumed:
            self.stderr.write(f"warning: no worker consumes queue {check.configured!r} (workers consume "
                              f"{', '.join(sorted(check.consumed))}); set CELERY_QUEUE: levels will not be delivered")

    def _list_devices(self) -> None:
        devices = input_devices()
        if not devices:
            raise AudioUnavailable("audio unavailable: no input device; devices: none")
        for d in devices:
            self._say(f"[{d['index']}] {d['name']} ({d['hostapi']}, {d['channels']} ch, {d['samplerate']} Hz)")

    def _source(self):
        o = self.opts
        if o["source"] == "wav":
            source = WavSource(o["wav"], realtime=not o["fast"])
        elif o["source"] == "synth":
            source = SynthSource(o["synth"], o["level"], frequency=o["frequency"], realtime=not o["fast"])
        else:
            source = DeviceSource(o["device"], channels=o["channels"])
        # A tick is a whole number of blocks (one, at the default 100 ms), so ticks end where blocks do.
        source.block_seconds = o["interval"] / math.ceil(o["interval"] / BLOCK_SECONDS - 1e-9)
        return source

    # --- modes ---

    def _once(self, tenant: Tenant) -> None:
        source = self._source()
        if not self.opts["fast"]:
            source.start()  # a device that cannot be opened fails here, before any session exists
        try:
            result = services.listening_start(tenant=tenant, started_by="command", source=source.description)
        except BaseException:
            source.stop()
            raise
        session = result.session
        if not result.created:
            services.listening_set_source(session=session, source=source.description)
        self._say(f"listening: session {session.session_id} ({tenant.slug}), {source.description}")
        summary = self._sample(session, source, self.opts["duration"])
        if summary is not None:
            services.listening_stop(tenant=tenant, session_id=session.session_id)
            self._summary(summary)

    def _follow(self, tenant: Tenant) -> None:
        """Sample while the tenant has an active session; the device is closed in between."""
        deadline = time.monotonic() + self.opts["duration"] if self.opts["duration"] else None
        self._say(f"following the listening sessions of {tenant.slug}")
        while not self.stop.is_set() and (deadline is None or time.monotonic() < deadline):
            session = services.listening_active(tenant=tenant)
            if session is None:
                self.stop.wait(SESSION_CHECK_S)
                continue
            try:
                source = self._source()
            except AudioUnavailable as exc:  # the API said "listen" but there is nothing to listen to
                services.listening_stop(tenant=tenant, session_id=session.session_id, error=str(exc))
                raise
            services.listening_set_source(session=session, source=source.description)
            self._say(f"session {session.session_id} active: sampling {source.description}")
            remaining = deadline - time.monotonic() if deadline else None
            summary = self._sample(session, source, remaining)
            if summary is not None:
                self._summary(summary)
                self._say(f"session {session.session_id} ended; waiting for the next one")

    def _sample(self, session, source, duration: float | None):
        """Run the sampler for `session`; on an input failure, end the session with an error and re-raise."""
        stats = services.SessionStats(session)
        publisher = services.LevelPublisher(session)
        quiet = self.opts["quiet"]

        def on_tick(tick: Tick) -> None:
            now = timezone.now()
            publisher.publish(tick.reading, now)
            stats.add(tick.reading, now)
            if tick.index == FIRST_FLUSH_TICKS - 1 or tick.index % FLUSH_EVERY_TICKS == FLUSH_EVERY_TICKS - 1:
                stats.flush()
            if not quiet:
                self._say(f"t={(tick.index + 1) * self.opts['interval']:.1f}s {tick.reading.line()}")

        checked = [time.monotonic()]

        def keep_running() -> bool:
            if publisher.closed:  # the session was stopped (the API): no level may follow its "stopped"
                return False
            if time.monotonic() - checked[0] < ACTIVE_RECHECK_S:
                return True
            checked[0] = time.monotonic()
            return services.listening_is_active(session_pk=session.pk)

        o = self.opts
        try:
            if o["fast"]:
                summary = run_offline(source, interval=o["interval"], on_tick=on_tick, ballistics=o["ballistics"],
                                      aes17=o["aes17"], duration=duration, stop=self.stop)
            else:
                sampler = Sampler(source, interval=o["interval"], on_tick=on_tick, ballistics=o["ballistics"],
                                  aes17=o["aes17"])
                summary = sampler.run(self.stop, duration=duration, keep_running=keep_running)
        except AudioUnavailable as exc:
            publisher.close()  # the last levels arrive before the session's "stopped" is announced
            stats.flush()
            services.listening_stop(tenant=session.tenant, session_id=session.session_id, error=str(exc))
            raise
        publisher.close()
        stats.flush()
        return summary

    def _summary(self, summary) -> None:
        if summary.ticks:
            self._say(f"done: {summary.ticks} ticks, max rms={summary.max_rms_dbfs:.2f} dBFS, "
                      f"max peak={summary.max_peak_dbfs:.2f} dBFS, clipped ticks={summary.clipped_ticks}")
        else:
            self._say("done: no ticks")
