"""The emitter: one reading per tick, on a deadline timer, with a watchdog.

Ticks are on a fixed grid (`next_deadline += interval`), so they don't drift the way a
`sleep(interval)` loop does (each sleep adds the loop's own run time), and they don't follow
the bursty arrival of device callbacks. Each tick meters exactly `interval` of audio (counted
in frames, the audio's own clock): blocks are split at tick boundaries and the rest carried
into the next tick, and audio queued before the run started (a device opened before the
session began) is dropped, so no tick reports 100 ms while holding more or less. The grid starts
where the first block that follows begins, so with ticks a whole number of blocks long the block
that completes a tick arrives as the tick ends, half a block before its deadline.

Watchdog: no first block within `first_block_timeout` (5 s), or no block for `stall_timeout`
(1 s) once started, or the source reporting that its stream died, end the run with
`AudioUnavailable`.
"""

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from audio.meter import Ballistics, Reading, TickAccumulator, reading_from
from audio.sources import AudioUnavailable, Source

FIRST_BLOCK_TIMEOUT_S = 5.0
STALL_TIMEOUT_S = 1.0
FIRST_BLOCK_POLL_S = 0.05  # while waiting for the first block, how often the stop and the watchdog are checked


@dataclass
class Tick:
    index: int
    deadline: float  # monotonic time the tick was due
    woke: float  # monotonic time the emitter actually ran
    reading: Reading


@dataclass
class RunSummary:
    ticks: int = 0
    skipped: int = 0  # deadlines missed entirely (the process was stalled longer than a tick)
    empty: int = 0  # ticks with no new audio (not emitted)
    max_rms_dbfs: float | None = None
    max_peak_dbfs: float | None = None
    clipped_ticks: int = 0
    lateness: list[float] = field(default_factory=list)

    def add(self, tick: Tick) -> None:
        r = tick.reading
        self.ticks += 1
        self.max_rms_dbfs = r.rms_dbfs if self.max_rms_dbfs is None else max(self.max_rms_dbfs, r.rms_dbfs)
        self.max_peak_dbfs = r.peak_dbfs if self.max_peak_dbfs is None else max(self.max_peak_dbfs, r.peak_dbfs)
        self.clipped_ticks += r.clip


class FrameQueue:
    """Blocks waiting to be metered, handed out in exact frame counts (a block is split at a tick's end)."""

    def __init__(self) -> None:
        self.blocks: deque[np.ndarray] = deque()
        self.frames = 0

    def push(self, block: np.ndarray) -> None:
        if block.shape[0]:
            self.blocks.append(block)
            self.frames += block.shape[0]

    def take(self, frames: int, acc: TickAccumulator) -> None:
        """Move the oldest `frames` frames (or all there are) into `acc`."""
        while frames > 0 and self.blocks:
            block = self.blocks[0]
            if block.shape[0] <= frames:
                self.blocks.popleft()
                part = block
            else:
                part, self.blocks[0] = block[:frames], block[frames:]
            acc.add(part)
            frames -= part.shape[0]
            self.frames -= part.shape[0]


class Sampler:
    def __init__(self, source: Source, *, interval: float = 0.1, on_tick: Callable[[Tick], None] | None = None,
                 ballistics: bool = False, aes17: bool = False,
                 first_block_timeout: float = FIRST_BLOCK_TIMEOUT_S, stall_timeout: float = STALL_TIMEOUT_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.source = source
        self.interval = interval
        self.on_tick = on_tick or (lambda tick: None)
        self.ballistics = Ballistics() if ballistics else None
        self.aes17 = aes17
        self.first_block_timeout = first_block_timeout
        self.stall_timeout = stall_timeout
        self.clock = clock
        self.summary = RunSummary()

    def run(self, stop: threading.Event | None = None, duration: float | None = None,
            keep_running: Callable[[], bool] | None = None) -> RunSummary:
        """Sample until `stop` is set, `duration` seconds pass, or `keep_running()` says no.

        Starts and stops the source. Raises `AudioUnavailable` when the watchdog fires.
        """
        stop = stop or threading.Event()
        self.source.start()
        try:
            self._loop(stop, duration, keep_running)
        finally:
            self.source.stop()
        return self.summary

    def _loop(self, stop: threading.Event, duration: float | None, keep_running) -> None:
        acc = TickAccumulator()
        waiting = FrameQueue()
        self._discard_queued()  # captured before the grid starts: not part of any tick
        first = self._first_block(stop)
        if first is None:
            return
        # The grid starts where the first block's audio starts, so ticks end where blocks do, whatever
        # the source's phase when sampling began (the command opens the device before the session).
        # Half a block of slack: the block that completes a tick (captured up to the tick's end) is
        # delivered just after it; waiting for it keeps each tick's audio whole without a tick of lag.
        last_block_at = self.clock()
        started = last_block_at - first.shape[0] / self.source.samplerate
        waiting.push(first)
        tick_frames = max(1, round(self.interval * self.source.samplerate))
        slack = self.source.blocksize / self.source.samplerate / 2
        end = started + duration if duration is not None else None
        next_deadline = started + self.interval + slack
        index = 0
        while not stop.is_set():
            if stop.wait(max(0.0, next_deadline - self.clock())):
                break
            woke = self.clock()
            got = self._drain(waiting)
            if got:
                last_block_at = woke
            if self.source.failure:
                raise AudioUnavailable(f"audio unavailable: stream died: {self.source.failure}")
            if woke - last_block_at >= self.stall_timeout:
                raise AudioUnavailable(f"audio unavailable: stream died: no block for {self.stall_timeout:g} s "
                                       f"from {self.source.description}")
            if not waiting.frames and self.source.exhausted:
                break
            # A finite source's last, shorter piece is metered too (its reading says how many frames).
            ready = waiting.frames >= tick_frames or (self.source.exhausted and waiting.frames)
            if not ready:
                self.summary.empty += 1
            while ready:
                waiting.take(tick_frames, acc)
                reading = reading_from(acc, aes17=self.aes17, ballistics=self.ballistics,
                                       dt=acc.frames / self.source.samplerate)
                tick = Tick(index=index, deadline=next_deadline, woke=woke, reading=reading)
                self.summary.add(tick)
                self.summary.lateness.append(woke - next_deadline)
                self.on_tick(tick)
                acc.reset()
                # More than a tick left means the blocks came in a burst: meter that audio now too
                # rather than falling a tick behind for good.
                ready = waiting.frames >= tick_frames
            index += 1
            next_deadline += self.interval
            now = self.clock()
            if now - next_deadline > self.interval:
                # Stalled for more than a tick (suspend, debugger): skip the missed deadlines but
                # stay on the grid rather than firing a burst of catch-up ticks.
                missed = int((now - next_deadline) // self.interval)
                next_deadline += missed * self.interval
                index += missed
                self.summary.skipped += missed
            if end is not None and next_deadline > end + slack + 1e-9:
                break
            if keep_running is not None and not keep_running():
                break

    def _first_block(self, stop: threading.Event) -> np.ndarray | None:
        """The source's first block, as it arrives; None when stopped first or the source was empty."""
        began = self.clock()
        while not stop.is_set():
            try:
                return self.source.blocks.get(timeout=FIRST_BLOCK_POLL_S)
            except queue.Empty:
                pass
            if self.source.failure:
                raise AudioUnavailable(f"audio unavailable: stream died: {self.source.failure}")
            if self.source.exhausted:
                return None
            if self.clock() - began >= self.first_block_timeout:
                raise AudioUnavailable(f"audio unavailable: no first block in {self.first_block_timeout:g} s "
                                       f"from {self.source.description}")
        return None

    def _drain(self, waiting: FrameQueue) -> int:
        # The sampler is the queue's only consumer: the blocks counted are there to take.
        n = self.source.blocks.qsize()
        for _ in range(n):
            waiting.push(self.source.blocks.get_nowait())
        return n

    def _discard_queued(self) -> None:
        for _ in range(self.source.blocks.qsize()):
            self.source.blocks.get_nowait()


def run_offline(source, *, interval: float = 0.1, on_tick: Callable[[Tick], None] | None = None,
                ballistics: bool = False, aes17: bool = False, duration: float | None = None,
                stop: threading.Event | None = None) -> RunSummary:
    """Meter a readable source (WAV, synth) as fast as possible: a tick is `interval` of audio.

    Ends at the end of the file, or after `duration` seconds of audio.
    """
    on_tick = on_tick or (lambda tick: None)
    frames = max(1, round(interval * source.samplerate))
    meter = Ballistics() if ballistics else None
    summary = RunSummary()
    acc = TickAccumulator()
    index = 0
    try:
        while (duration is None or index * interval < duration - 1e-9) and not (stop and stop.is_set()):
            block = source.read(frames)
            if block.shape[0] == 0:
                break
            acc.reset()
            acc.add(block)
            t = index * interval
            reading = reading_from(acc, aes17=aes17, ballistics=meter, dt=block.shape[0] / source.samplerate)
            tick = Tick(index=index, deadline=t, woke=t, reading=reading)
            summary.add(tick)
            on_tick(tick)
            index += 1
    finally:
        source.stop()
    return summary
