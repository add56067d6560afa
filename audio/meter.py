"""Level math: RMS and sample peak in dBFS, the clip flag, the 0-100 meter level and ballistics.

No I/O here: every function takes numpy arrays of float samples in [-1.0, 1.0] (any shape;
a multi-channel block counts every sample, like the "Overall" column of `sox FILE -n stats`).

Reference: sample-referenced dBFS, as sox reports them. A full-scale sine reads peak 0 dBFS
and RMS -3.01 dBFS. AES17 references RMS to a full-scale *sine* instead, so the same sine
reads RMS 0 dB there: `aes17=True` adds 20*log10(sqrt(2)) = +3.0103 dB to RMS readings
(peaks are unchanged).
"""

import math
from dataclasses import dataclass

import numpy as np

# Silence has no logarithm; readings are floored here (and JSON has no -inf). A float WAV may hold
# inf or NaN samples: readings are capped at MAX_DBFS so every figure we emit is a finite number.
MIN_DBFS = -120.0
MAX_DBFS = 120.0
# OBS's meter: the bar is linear in dB from this floor (0 %) to 0 dBFS (100 %).
LEVEL_FLOOR_DBFS = -60.0
# A sample at or above this magnitude counts as clipped: within one 16-bit step of full scale.
CLIP_AMPLITUDE = 32767 / 32768
AES17_OFFSET_DB = 20 * math.log10(math.sqrt(2))  # 3.0103

# Ballistics: a VU-like RMS integrator whose reading reaches 99 % of a step in 300 ms,
# and a peak that falls 20 dB in 1.7 s (OBS's "fast" peak decay).
RMS_RISE_TIME_S = 0.300
RMS_TIME_CONSTANT_S = RMS_RISE_TIME_S / math.log(100)  # 1 - exp(-0.3 / tau) = 0.99
PEAK_FALL_DB_PER_S = 20.0 / 1.7


def amplitude_to_dbfs(amplitude: float) -> float:
    """20*log10(amplitude), always finite: floored at MIN_DBFS (silence, NaN), capped at MAX_DBFS (inf)."""
    if math.isnan(amplitude) or amplitude <= 0.0:
        return MIN_DBFS
    if math.isinf(amplitude):
        return MAX_DBFS
    return min(MAX_DBFS, max(MIN_DBFS, 20.0 * math.log10(amplitude)))


def dbfs_to_amplitude(dbfs: float) -> float:
    return 10.0 ** (dbfs / 20.0)


def level_percent(dbfs: float, floor_dbfs: float = LEVEL_FLOOR_DBFS) -> float:
    """The 0-100 meter position, linear in dB between `floor_dbfs` and 0 dBFS."""
    return min(100.0, max(0.0, (dbfs - floor_dbfs) / -floor_dbfs * 100.0))


@dataclass(frozen=True)
class Reading:
    """One tick of the meter."""

    rms_dbfs: float
    peak_dbfs: float
    clip: bool
    level: float  # 0-100, from rms_dbfs (the ballistic one when ballistics are on)
    frames: int = 0
    clipped_samples: int = 0

    def line(self) -> str:
        return (f"rms={self.rms_dbfs:.2f} dBFS peak={self.peak_dbfs:.2f} dBFS "
                f"level={self.level:.1f} clip={'yes' if self.clip else 'no'}")


class TickAccumulator:
    """Sums the blocks that arrive during one tick, without keeping them.

    Sums are float64, so a tick of 16-bit or float32 audio is exact to far below 0.01 dB.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.sum_squares = 0.0
        self.samples = 0
        self.frames = 0
        self.peak = 0.0
        self.clipped = 0

    def add(self, block: np.ndarray) -> None:
        if block.size == 0:
            return
        x = np.asarray(block, dtype=np.float64)
        self.frames += x.shape[0]
        x = x.ravel()
        self.sum_squares += float(np.dot(x, x))
        self.samples += x.size
        # The peak from the extremes, without an array of magnitudes; Python's max() passes over a NaN
        # as it did over abs(x).max()'s. Samples are counted for clipping only when an extreme could be one
        # (a NaN extreme says nothing about the other samples, so they are counted then too).
        high, low = float(x.max()), float(x.min())
        self.peak = max(self.peak, high, -low)
        if not (high < CLIP_AMPLITUDE and low > -CLIP_AMPLITUDE):
            self.clipped += int(np.count_nonzero(np.abs(x) >= CLIP_AMPLITUDE))

    @property
    def empty(self) -> bool:
        return self.samples == 0

    @property
    def rms(self) -> float:
        return math.sqrt(self.sum_squares / self.samples) if self.samples else 0.0


def rms_dbfs(samples: np.ndarray, *, aes17: bool = False) -> float:
    acc = TickAccumulator()
    acc.add(samples)
    return _rms_reading(acc, aes17)


def _rms_reading(acc: TickAccumulator, aes17: bool) -> float:
    """The tick's RMS in dBFS; AES17 shifts real readings only (silence stays on the floor)."""
    rms = amplitude_to_dbfs(acc.rms)
    return min(MAX_DBFS, rms + AES17_OFFSET_DB) if aes17 and rms > MIN_DBFS else rms


def peak_dbfs(samples: np.ndarray) -> float:
    return amplitude_to_dbfs(float(np.abs(samples).max())) if np.size(samples) else MIN_DBFS


def measure(samples: np.ndarray, *, aes17: bool = False, floor_dbfs: float = LEVEL_FLOOR_DBFS) -> Reading:
    """The reading of one block of samples, without ballistics."""
    acc = TickAccumulator()
    acc.add(samples)
    return reading_from(acc, aes17=aes17, floor_dbfs=floor_dbfs)


def reading_from(acc: TickAccumulator, *, aes17: bool = False, floor_dbfs: float = LEVEL_FLOOR_DBFS,
                 ballistics: "Ballistics | None" = None, dt: float | None = None) -> Reading:
    rms = _rms_reading(acc, aes17)
    peak = amplitude_to_dbfs(acc.peak)
    shown_rms, shown_peak = rms, peak
    if ballistics is not None:
        shown_rms, shown_peak = ballistics.update(rms, peak, dt)
    return Reading(
        rms_dbfs=round(shown_rms, 2), peak_dbfs=round(shown_peak, 2), clip=acc.clipped > 0,
        level=round(level_percent(shown_rms, floor_dbfs), 1), frames=acc.frames, clipped_samples=acc.clipped,
    )


class Ballistics:
    """Meter ballistics applied tick by tick.

    RMS: a first-order integrator on the RMS amplitude, time constant 300 ms / ln(100) = 65 ms,
    so a step reaches 99 % of its new amplitude in 300 ms whatever the tick interval.
    Peak: rises instantly, falls at 20 dB per 1.7 s.
    """

    def __init__(self, *, rms_rise_s: float = RMS_RISE_TIME_S, peak_fall_db_per_s: float = PEAK_FALL_DB_PER_S):
        self.tau = rms_rise_s / math.log(100)
        self.peak_fall = peak_fall_db_per_s
        self.rms_amplitude: float | None = None
        self.peak_db: float | None = None

    def update(self, rms_db: float, peak_db: float, dt: float | None) -> tuple[float, float]:
        dt = 0.1 if dt is None else max(0.0, dt)
        target = dbfs_to_amplitude(rms_db) if rms_db > MIN_DBFS else 0.0
        if self.rms_amplitude is None:
            self.rms_amplitude = target
        else:
            alpha = 1.0 - math.exp(-dt / self.tau)
            self.rms_amplitude += alpha * (target - self.rms_amplitude)
        fallen = MIN_DBFS if self.peak_db is None else self.peak_db - self.peak_fall * dt
        self.peak_db = max(peak_db, fallen, MIN_DBFS)
        return amplitude_to_dbfs(self.rms_amplitude), self.peak_db
