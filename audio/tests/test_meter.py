"""The level math against `sox FILE -n stats`, on files sox makes at test time."""

import math
import subprocess

import numpy as np
import pytest

from audio import meter
from audio.sampler import run_offline
from audio.sources import WavSource
from audio.tests.helpers import sox_make, sox_stats, speech_make

# A speech-like signal without a speech synthesiser: a gliding glottal-pulse-like sawtooth,
# shaped by vowel-ish band-passes and a 4 Hz syllabic envelope, with pauses.
SPEECH = ["synth", "3", "sawtooth", "110-190", "bandpass", "700", "400h", "bandpass", "1200", "900h",
          "tremolo", "4", "95", "pad", "0.3", "0.4", "vol", "-3dB"]

CASES = {
    "sine_0dbfs": ["synth", "2", "sine", "1000"],
    "sine_-6dbfs": ["synth", "2", "sine", "1000", "vol", "-6dB"],
    "sine_-20dbfs": ["synth", "2", "sine", "1000", "vol", "-20dB"],
    "sine_-20dbfs_997hz": ["synth", "2", "sine", "997", "vol", "-20dB"],
    "white_noise": ["synth", "2", "whitenoise", "vol", "-12dB"],
    "pink_noise": ["synth", "2", "pinknoise", "vol", "-10dB"],
    "speech_like": SPEECH,
}


def _wav_samples(path) -> np.ndarray:
    source = WavSource(path, realtime=False)
    try:
        return source.read(10**8)
    finally:
        source.stop()


@pytest.mark.parametrize("name", list(CASES))
def test_rms_and_peak_match_sox_stats_within_a_tenth_of_a_db(tmp_path, name):
    wav = sox_make(tmp_path / f"{name}.wav", *CASES[name])
    sox = sox_stats(wav)
    reading = meter.measure(_wav_samples(wav))
    assert reading.rms_dbfs == pytest.approx(sox["RMS lev dB"], abs=0.1)
    assert reading.peak_dbfs == pytest.approx(sox["Pk lev dB"], abs=0.1)


SENTENCE = "Hello chat, this is a microphone check before we go live. One, two, three."


@pytest.mark.parametrize("effects", [(), ("vol", "-12dB"), ("rate", "48000", "vol", "6dB")],
                         ids=["as_spoken", "quiet_-12dB", "hot_+6dB_48k"])
def test_real_speech_matches_sox_stats_within_a_tenth_of_a_db(tmp_path, effects):
    """espeak-ng's voice (pauses, plosives, sibilants): the hard case for an RMS meter."""
    wav = speech_make(tmp_path / "speech.wav", SENTENCE, *effects)
    sox = sox_stats(wav)
    reading = meter.measure(_wav_samples(wav))
    assert reading.rms_dbfs == pytest.approx(sox["RMS lev dB"], abs=0.1)
    assert reading.peak_dbfs == pytest.approx(sox["Pk lev dB"], abs=0.1)
    assert -40 < reading.rms_dbfs < 0  # speech, not silence


@pytest.mark.parametrize(("bits", "channels"), [(24, 1), (32, 1), (16, 2), (8, 1)])
def test_other_sample_widths_and_channels_match_sox(tmp_path, bits, channels):
    wav = sox_make(tmp_path / "x.wav", "synth", "1", "sine", "440", "vol", "-9dB", "remix", "-", bits=bits,
                   channels=1)
    if channels == 2:
        wav = sox_make(tmp_path / "st.wav", "synth", "1", "sine", "440", "sine", "660", "vol", "-9dB", channels=2)
    sox = sox_stats(wav)
    reading = meter.measure(_wav_samples(wav))
    assert reading.rms_dbfs == pytest.approx(sox["RMS lev dB"], abs=0.1)
    assert reading.peak_dbfs == pytest.approx(sox["Pk lev dB"], abs=0.1)


def _sine(level_dbfs: float, n: int = 48000, f: float = 1000.0, sr: int = 48000) -> np.ndarray:
    return meter.dbfs_to_amplitude(level_dbfs) * np.sin(2 * np.pi * f * np.arange(n) / sr)


def test_full_scale_sine_reads_rms_minus_3_01_and_peak_0_sample_referenced():
    reading = meter.measure(_sine(0.0))
    assert reading.rms_dbfs == pytest.approx(-3.01, abs=0.005)
    assert reading.peak_dbfs == pytest.approx(0.0, abs=0.005)
    assert reading.clip is True


def test_aes17_reads_a_full_scale_sine_as_0_db_rms():
    reading = meter.measure(_sine(0.0), aes17=True)
    assert reading.rms_dbfs == pytest.approx(0.0, abs=0.005)
    assert reading.peak_dbfs == pytest.approx(0.0, abs=0.005)
    assert meter.rms_dbfs(_sine(-20.0), aes17=True) == pytest.approx(-20.0, abs=0.005)


def test_clip_flag_counts_samples_at_full_scale_only():
    assert meter.measure(_sine(-0.1)).clip is False
    block = _sine(-20.0)
    block[100] = -1.0
    reading = meter.measure(block)
    assert reading.clip is True
    assert reading.clipped_samples == 1


def test_silence_is_floored_not_minus_infinity():
    reading = meter.measure(np.zeros(4800))
    assert reading.rms_dbfs == meter.MIN_DBFS
    assert reading.peak_dbfs == meter.MIN_DBFS
    assert reading.level == 0.0
    assert meter.measure(np.zeros(0)).rms_dbfs == meter.MIN_DBFS


def test_non_finite_samples_still_give_finite_json_readings():
    """A float WAV may carry inf or NaN; the event body is serialised with allow_nan=False."""
    import json

    for bad in (np.inf, -np.inf, np.nan):
        block = _sine(-20.0, 4800)
        block[7] = bad
        reading = meter.measure(block)
        json.dumps([reading.rms_dbfs, reading.peak_dbfs, reading.level], allow_nan=False)
        assert meter.MIN_DBFS <= reading.rms_dbfs <= meter.MAX_DBFS
        assert 0.0 <= reading.level <= 100.0
    assert meter.measure(np.array([np.inf])).clip is True
    clipped_beside_nan = _sine(-20.0, 4800)
    clipped_beside_nan[[3, 9]] = np.nan, -1.0
    assert meter.measure(clipped_beside_nan).clipped_samples == 1


def test_aes17_leaves_silence_on_the_floor():
    assert meter.measure(np.zeros(4800), aes17=True).rms_dbfs == meter.MIN_DBFS


@pytest.mark.parametrize(("dbfs", "level"), [(0.0, 100.0), (-60.0, 0.0), (-30.0, 50.0), (-23.0103, 61.65),
                                             (-80.0, 0.0), (3.0, 100.0)])
def test_level_is_linear_in_db_from_a_minus_60_floor(dbfs, level):
    assert meter.level_percent(dbfs) == pytest.approx(level, abs=0.01)


def test_reading_line_is_operator_readable():
    assert meter.measure(_sine(-20.0)).line() == "rms=-23.01 dBFS peak=-20.00 dBFS level=61.6 clip=no"


def test_accumulated_blocks_equal_one_measurement_of_their_concatenation():
    rng = np.random.default_rng(1)
    blocks = [rng.normal(0, 0.1, (n, 2)).astype(np.float32) for n in (1200, 1, 900, 1500)]
    acc = meter.TickAccumulator()
    for b in blocks:
        acc.add(b)
    whole = meter.measure(np.concatenate(blocks))
    assert meter.reading_from(acc) == whole
    assert acc.frames == 3601


def test_rms_ballistics_reach_99_percent_of_a_step_in_300_ms():
    b = meter.Ballistics()
    b.update(meter.MIN_DBFS, meter.MIN_DBFS, 0.1)
    readings = [b.update(-20.0, -20.0, 0.1)[0] for _ in range(3)]
    target = -20.0 + 20 * math.log10(0.99)
    assert readings[1] < target  # 200 ms: not there yet
    assert readings[2] == pytest.approx(target, abs=0.01)  # 300 ms: 99 % of the amplitude
    # Independent of the tick: thirty 10 ms steps land on the same value.
    fine = meter.Ballistics()
    fine.update(meter.MIN_DBFS, meter.MIN_DBFS, 0.01)
    for _ in range(30):
        value = fine.update(-20.0, -20.0, 0.01)[0]
    assert value == pytest.approx(target, abs=0.01)


def test_peak_ballistics_rise_at_once_and_fall_20_db_in_1_7_s():
    b = meter.Ballistics()
    assert b.update(-30.0, 0.0, 0.1)[1] == 0.0
    for _ in range(17):
        peak = b.update(meter.MIN_DBFS, meter.MIN_DBFS, 0.1)[1]
    assert peak == pytest.approx(-20.0, abs=0.01)
    assert b.update(-10.0, -3.0, 0.1)[1] == -3.0  # a new, higher peak shows immediately


def test_ballistic_reading_drives_the_level():
    b = meter.Ballistics()
    acc = meter.TickAccumulator()
    acc.add(_sine(-20.0, 4800))
    first = meter.reading_from(acc, ballistics=b, dt=0.1)
    assert first.rms_dbfs == pytest.approx(-23.01, abs=0.01)  # the first tick starts at its own value
    silence = meter.TickAccumulator()
    silence.add(np.zeros(4800))
    decayed = meter.reading_from(silence, ballistics=b, dt=0.1)
    assert -120 < decayed.rms_dbfs < -30
    assert decayed.peak_dbfs == pytest.approx(-20.0 - 20 / 17, abs=0.01)


@pytest.mark.parametrize("interval", [0.1, 0.05])
def test_ballistics_on_a_stepped_file_rise_99_percent_in_300_ms_and_fall_20_db_in_1_7_s(tmp_path, interval):
    """A file that steps silence -> -20 dBFS sine -> silence, metered tick by tick like the command does."""
    silence, tone = tmp_path / "silence.wav", tmp_path / "tone.wav"
    sox_make(silence, "trim", "0", "1")
    sox_make(tone, "synth", "1", "sine", "1000", "vol", "-20dB")
    stepped = tmp_path / "stepped.wav"

    subprocess.run(["sox", str(silence), str(tone), str(silence), str(silence), str(stepped)], check=True)
    ticks = []
    run_offline(WavSource(stepped, realtime=False), interval=interval, ballistics=True, on_tick=ticks.append)
    per_s = round(1 / interval)
    rms = [t.reading.rms_dbfs for t in ticks]
    peak = [t.reading.peak_dbfs for t in ticks]
    step_up, step_down = per_s, 2 * per_s  # index of the first tick of the tone / of the silence after it
    assert rms[step_up - 1] < -90  # silence before the step (sox dithers it to about -96 dBFS)
    at_300ms = rms[step_up - 1 + round(0.3 / interval)]
    before = rms[step_up - 2 + round(0.3 / interval)]
    assert at_300ms == pytest.approx(-23.01 + 20 * math.log10(0.99), abs=0.02)  # 99 % of the amplitude
    assert before < at_300ms - 0.05  # not there one tick earlier
    assert rms[step_down - 1] == pytest.approx(-23.01, abs=0.02)  # settled on sox's RMS
    assert peak[step_down - 1] == pytest.approx(-20.0, abs=0.01)
    # After the tone ends the peak falls 20 dB in 1.7 s (linear in dB), from the -20 dBFS it held.
    after_1_7s = peak[step_down - 1 + round(1.7 / interval)]
    assert after_1_7s == pytest.approx(-40.0, abs=0.02)
    assert peak[step_down - 1 + per_s] == pytest.approx(-20.0 - 20 / 1.7, abs=0.02)  # linear: -31.76 after 1 s
