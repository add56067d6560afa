"""The deadline emitter and its watchdog, on software sources."""

import threading
import time

import numpy as np
import pytest

from audio.sampler import Sampler, run_offline
from audio.sources import AudioUnavailable, Source, SynthSource, WavSource
from audio.tests.helpers import sox_make, sox_stats


class ScriptedSource(Source):
    """Puts `blocks` blocks (one every `every` seconds) and then goes quiet or fails."""

    description = "scripted"

    def __init__(self, blocks: int, every: float = 0.025, fail_after: bool = False, frames: int = 1200) -> None:
        super().__init__()
        self.n, self.every, self.fail_after, self.frames = blocks, every, fail_after, frames
        self._stop = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        for _ in range(self.n):
            if self._stop.wait(self.every):
                return
            self._put(np.full((self.frames, 1), 0.1, dtype=np.float32))
        if self.fail_after:
            self.failure = "the input stream stopped (sound server gone?)"

    def stop(self) -> None:
        self._stop.set()


def test_ticks_stay_on_the_deadline_grid_even_when_the_tick_work_is_slow():
    ticks = []

    def slow(tick):  # 30 ms of work per tick: a sleep(0.1) loop would drift 30 % here
        ticks.append(tick)
        time.sleep(0.03)

    summary = Sampler(SynthSource("sine", -20.0), interval=0.1, on_tick=slow).run(duration=1.5)
    assert 13 <= summary.ticks + summary.skipped + summary.empty <= 15
    start = ticks[0].deadline - 0.1 * ticks[0].index - 0.1
    for tick in ticks:
        # Every deadline is on the grid: the 30 ms of work per tick never pushes the next one back
        # (a sleep(0.1) loop would have moved the last deadline by 0.4 s). How late the process then
        # wakes is the machine's business; bench/audio.py measures that, tests don't.
        assert tick.deadline == pytest.approx(start + 0.1 * (tick.index + 1), abs=1e-6)
        assert tick.woke >= tick.deadline  # never early
    assert all(t.reading.rms_dbfs == pytest.approx(-23.01, abs=0.05) for t in ticks)


def test_stop_event_ends_the_run():
    stop = threading.Event()
    source = SynthSource("silence")
    result = {}
    runner = threading.Thread(target=lambda: result.update(summary=Sampler(source, interval=0.1).run(stop)))
    runner.start()
    while not source.blocks.qsize() and runner.is_alive():
        time.sleep(0.01)
    stop.set()
    runner.join(10)
    assert not runner.is_alive() and "summary" in result  # no duration: only the event ended it
    assert source.stopped  # and the source was stopped


def test_no_first_block_is_an_error():
    with pytest.raises(AudioUnavailable, match=r"no first block in 0\.3 s from scripted"):
        Sampler(ScriptedSource(0), first_block_timeout=0.3).run(duration=5)


def test_no_block_for_the_stall_timeout_is_an_error():
    with pytest.raises(AudioUnavailable, match=r"stream died: no block for 0\.4 s"):
        Sampler(ScriptedSource(8), stall_timeout=0.4).run(duration=5)


def test_a_source_reporting_its_stream_died_ends_the_run():
    with pytest.raises(AudioUnavailable, match="stream died: the input stream stopped"):
        Sampler(ScriptedSource(4, fail_after=True)).run(duration=5)


def test_realtime_wav_ends_cleanly_at_the_end_of_the_file(tmp_path):
    wav = sox_make(tmp_path / "short.wav", "synth", "0.5", "sine", "1000", "vol", "-6dB")
    source = WavSource(wav)
    began = time.monotonic()
    # No duration: only the end of the file can end the run (a missed end would trip the watchdog).
    summary = Sampler(source, interval=0.1).run()
    assert time.monotonic() - began >= 0.45  # paced by the clock, not as fast as possible
    assert source.exhausted and summary.skipped + summary.ticks <= 6
    assert summary.max_peak_dbfs == pytest.approx(-6.0, abs=0.05)


def test_offline_wav_ticks_are_interval_sized_and_match_sox(tmp_path):
    wav = sox_make(tmp_path / "s.wav", "synth", "2", "sine", "1000", "vol", "-20dB")
    sox = sox_stats(wav)
    ticks = []
    summary = run_offline(WavSource(wav, realtime=False), interval=0.1, on_tick=ticks.append)
    assert summary.ticks == 20
    assert {t.reading.frames for t in ticks} == {4800}
    for t in ticks:
        assert t.reading.rms_dbfs == pytest.approx(sox["RMS lev dB"], abs=0.1)
        assert t.reading.peak_dbfs == pytest.approx(sox["Pk lev dB"], abs=0.1)


def test_offline_synth_stops_after_duration():
    summary = run_offline(SynthSource("noise", -10.0, realtime=False, seed=3), duration=1.0)
    assert summary.ticks == 10
    assert summary.max_peak_dbfs <= -10.0


def test_ballistics_option_smooths_a_step():
    source = SynthSource("sine", -20.0, realtime=False)
    ticks = []
    run_offline(source, ballistics=True, on_tick=ticks.append, duration=0.5)
    assert ticks[0].reading.rms_dbfs == pytest.approx(-23.01, abs=0.01)


def test_interval_must_be_positive():
    with pytest.raises(ValueError):
        Sampler(SynthSource(), interval=0)


def test_every_tick_holds_the_interval_it_reports_even_with_audio_waiting_before_the_start():
    """The command opens the device before it starts the session: what the device captured meanwhile
    must not land in the first tick (it held 150 ms), and no tick may hold more or less than 100 ms."""
    source = SynthSource("sine", -20.0)
    source.start()
    while source.blocks.qsize() < 4:  # 100 ms of audio already waiting
        time.sleep(0.01)
    ticks = []
    Sampler(source, interval=0.1, on_tick=ticks.append).run(duration=1.0)
    assert len(ticks) >= 5
    assert [t.reading.frames for t in ticks] == [4800] * len(ticks)


def test_blocks_are_split_at_tick_boundaries():
    """Blocks that don't divide a tick (30 ms at 48 kHz) are split; the remainder opens the next tick."""
    source = ScriptedSource(40, every=0.03, frames=1440)
    ticks = []
    Sampler(source, interval=0.1, on_tick=ticks.append).run(duration=1.0)
    assert ticks and {t.reading.frames for t in ticks} == {4800}
