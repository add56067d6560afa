"""Where samples come from: an input device (sounddevice/PortAudio), a WAV file, or a synthesiser.

Every source, once started, puts float32 blocks of shape (frames, channels) into `self.blocks`
(a queue) from its own thread; the sampler drains that queue on its own clock. Sources that can
be read faster than real time (a WAV file, the synthesiser) also offer `read(frames)`.

`sounddevice` is imported only when a device is used, so the rest of Streamhook runs on
machines without PortAudio. Every way a device can be unavailable ends in `AudioUnavailable`
with a one-line reason the command prints as is.
"""

import contextlib
import math
import os
import queue
import re
import shutil
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from audio.meter import dbfs_to_amplitude

# A block is a tick's worth of audio (the default tick): the producer wakes ten times a second, not forty,
# and the block that completes a tick is there half a block after the tick's end (the sampler's slack).
BLOCK_SECONDS = 0.1
QUEUE_BLOCKS = 100  # 10 s of blocks; the sampler drains it every tick


class AudioUnavailable(Exception):
    """The audio input cannot be used. `str()` is the one line an operator sees."""


@contextlib.contextmanager
def quiet_stderr():
    """Silence file descriptor 2 while PortAudio probes ALSA, which prints its complaints there."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


_CHATTER = (b"Expression '", b"ALSA lib ", b"PortAudio", b"\n")


class StderrChatterFilter:
    """While a stream runs, PortAudio's ALSA backend prints C-level diagnostics on fd 2 from its
    own thread (e.g. when the sound server dies). Route fd 2 through a pipe and drop those lines,
    so the operator sees our one-line reason; every other line is passed through unchanged."""

    def __init__(self) -> None:
        self._saved: int | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        try:
            read_fd, write_fd = os.pipe()
            self._saved = os.dup(2)
        except OSError:
            return
        sys.stderr.flush()
        os.dup2(write_fd, 2)
        os.close(write_fd)
        self._thread = threading.Thread(target=self._pump, args=(read_fd, self._saved), daemon=True)
        self._thread.start()

    @staticmethod
    def _pump(read_fd: int, out_fd: int) -> None:
        with os.fdopen(read_fd, "rb") as pipe:
            for line in pipe:
                if not line.startswith(_CHATTER):
                    os.write(out_fd, line)

    def stop(self) -> None:
        if self._saved is None:
            return
        sys.stderr.flush()
        os.dup2(self._saved, 2)  # closes the pipe's last write end: the pump sees EOF
        if self._thread is not None:
            self._thread.join(1)
        os.close(self._saved)
        self._saved = None


def _import_sounddevice():
    try:
        with quiet_stderr():
            import sounddevice
    except OSError as exc:  # sounddevice raises OSError when libportaudio is missing
        raise AudioUnavailable(f"audio unavailable: PortAudio library not found (install libportaudio2): {exc}")
    except ImportError as exc:
        raise AudioUnavailable(f"audio unavailable: the sounddevice package is not installed: {exc}")
    return sounddevice


class Source:
    samplerate: int = 48000
    channels: int = 1
    description: str = ""
    block_seconds: float = BLOCK_SECONDS  # set it before `start()` for ticks shorter than a block

    def __init__(self) -> None:
        # One producer (the source's thread) and one consumer (the sampler), each at it ten times a second:
        # SimpleQueue's put and get are single C calls, where Queue runs its conditions in Python each time.
        self.blocks: queue.SimpleQueue[np.ndarray] = queue.SimpleQueue()
        self.failure: str | None = None  # set by the producer when the stream dies
        self.exhausted = False  # set by a finite source (a WAV file) after its last block
        self.dropped = 0

    def _put(self, block: np.ndarray) -> None:
        # Only this thread adds blocks, so the queue cannot grow between the check and the put.
        if self.blocks.qsize() >= QUEUE_BLOCKS:  # the consumer is stuck; never block the audio thread
            self.dropped += 1
        else:
            self.blocks.put(block)

    @property
    def blocksize(self) -> int:
        return max(1, round(self.samplerate * self.block_seconds))

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class _PacedSource(Source):
    """A source generated in software, delivered in blocks at the pace of the wall clock."""

    def __init__(self, realtime: bool = True) -> None:
        super().__init__()
        self.realtime = realtime
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def read(self, frames: int) -> np.ndarray:
        """The next `frames` frames (fewer at the end of a file; empty when it is over)."""
        raise NotImplementedError

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._produce, name=f"audio-{type(self).__name__}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopped(self) -> bool:
        """Whether `stop()` was called (the sampler stops its source when it ends, whatever ended it)."""
        return self._stop.is_set()
        if self._thread is not None:
            self._thread.join(2)

    def _produce(self) -> None:
        started = time.monotonic()
        delivered = 0
        while not self._stop.is_set():
            if self.realtime:
                # Deadline pacing: a block is delivered when its last frame would have been captured, as a
                # device delivers it (not a block ahead of the clock).
                due = started + (delivered + self.blocksize) / self.samplerate
                if self._stop.wait(max(0.0, due - time.monotonic())):
                    return
            block = self.read(self.blocksize)
            if block.shape[0] == 0:
                self.exhausted = True
                return
            self._put(block)
            delivered += block.shape[0]


class SynthSource(_PacedSource):
    """A sine (1 kHz), uniform white noise or silence whose *peak* is `level_dbfs`.

    Peak as in `sox -n out.wav synth sine 1000 vol -20dB`: a -20 dBFS sine has RMS -23.01 dBFS,
    and -20 dBFS uniform noise has RMS -24.77 dBFS.
    """

    KINDS = ("sine", "noise", "silence")

    def __init__(self, kind: str = "sine", level_dbfs: float = -20.0, frequency: float = 1000.0,
                 samplerate: int = 48000, realtime: bool = True, seed: int | None = None) -> None:
        if kind not in self.KINDS:
            raise ValueError(f"unknown synth kind {kind!r}; one of {', '.join(self.KINDS)}")
        super().__init__(realtime)
        self.kind, self.level_dbfs, self.frequency, self.samplerate = kind, level_dbfs, frequency, samplerate
        self.amplitude = dbfs_to_amplitude(level_dbfs)
        self._position = 0
        self._rng = np.random.default_rng(seed)
        self.description = f"synth {kind} at {level_dbfs:g} dBFS"
        # Silence, and a sine of a whole number of hertz, repeat every `_period` frames (None: never).
        self._period: int | None = None
        if kind == "silence":
            self._period = 1
        elif kind == "sine" and float(frequency).is_integer():
            self._period = samplerate // math.gcd(int(frequency), samplerate)
        self._repeat: tuple[int, int, np.ndarray] | None = None  # (phase, frames, block) of the last block

    def read(self, frames: int) -> np.ndarray:
        phase = self._position % self._period if self._period else None
        if self._repeat is not None and self._repeat[:2] == (phase, frames):
            # It starts at the same point of the period as the last block and is as long: the same samples.
            # A tick's block at the default rate is a whole number of periods, so the producer thread
            # only hands the block over instead of computing a sine ten times a second.
            block = self._repeat[2]
        else:
            block = self._generate(frames).astype(np.float32).reshape(-1, 1)
            if phase is not None:
                block.flags.writeable = False  # handed out again: nobody may change it in place
                self._repeat = (phase, frames, block)
        self._position += frames
        return block

    def _generate(self, frames: int) -> np.ndarray:
        if self.kind == "silence":
            return np.zeros(frames)
        if self.kind == "noise":
            return self._rng.uniform(-self.amplitude, self.amplitude, frames)
        n = np.arange(self._position, self._position + frames)
        if self._period:
            n = n % self._period  # phase kept modulo one period so long runs don't lose float precision
        return self.amplitude * np.sin(2 * np.pi * self.frequency * n / self.samplerate)


class WavSource(_PacedSource):
    """A WAV file (8/16/24/32-bit integer PCM or 32/64-bit float, plain or WAVE_FORMAT_EXTENSIBLE,
    as sox writes above 16 bits), in real time or as fast as it can be read."""

    def __init__(self, path: str | Path, realtime: bool = True) -> None:
        super().__init__(realtime)
        self.path = Path(path)
        try:
            self._file = open(self.path, "rb")  # closed by stop()
        except OSError as exc:
            raise AudioUnavailable(f"audio unavailable: cannot read WAV file {self.path}: {exc.strerror}")
        try:
            fmt, self._remaining = _wav_header(self._file)
        except ValueError as exc:
            self._file.close()
            raise AudioUnavailable(f"audio unavailable: {self.path} is not a usable WAV file ({exc})")
        self._float, self.channels, self.samplerate, self._width = fmt
        self.description = (f"wav {self.path.name} ({self.samplerate} Hz, {self.channels} ch, "
                            f"{8 * self._width}-bit{' float' if self._float else ''})")

    def read(self, frames: int) -> np.ndarray:
        frame_bytes = self._width * self.channels
        n = min(frames * frame_bytes, self._remaining)
        raw = self._file.read(n - n % frame_bytes)
        self._remaining -= len(raw)
        if self._float:
            dtype = "<f4" if self._width == 4 else "<f8"
            return np.frombuffer(raw, dtype=dtype).astype(np.float32).reshape(-1, self.channels)
        return pcm_to_float(raw, self._width, self.channels)

    def stop(self) -> None:
        super().stop()
        self._file.close()


_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE


def _wav_header(f) -> tuple[tuple[bool, int, int, int], int]:
    """((is_float, channels, samplerate, bytes per sample), data bytes), leaving `f` at the data."""
    riff = f.read(12)
    if len(riff) < 12 or riff[:4] != b"RIFF" or riff[8:12] != b"WAVE":
        raise ValueError("no RIFF/WAVE header")
    fmt = None
    while True:
        head = f.read(8)
        if len(head) < 8:
            raise ValueError("no data chunk")
        chunk, size = head[:4], struct.unpack("<I", head[4:])[0]
        if chunk == b"fmt ":
            body = f.read(size + size % 2)
            tag, channels, rate = struct.unpack("<HHI", body[:8])
            bits = struct.unpack("<H", body[14:16])[0]
            if tag == _EXTENSIBLE and len(body) >= 26:
                tag = struct.unpack("<H", body[24:26])[0]  # the sub-format GUID starts with the tag
            if tag not in (_PCM, _FLOAT) or channels < 1 or bits % 8 or not rate:
                raise ValueError(f"unsupported format tag {tag}, {bits} bits")
            if (tag == _FLOAT and bits not in (32, 64)) or (tag == _PCM and bits not in (8, 16, 24, 32)):
                raise ValueError(f"unsupported {bits}-bit samples")
            fmt = (tag == _FLOAT, channels, rate, bits // 8)
        elif chunk == b"data":
            if fmt is None:
                raise ValueError("data before fmt chunk")
            return fmt, size
        else:
            f.seek(size + size % 2, 1)


def pcm_to_float(raw: bytes, width: int, channels: int) -> np.ndarray:
    """Little-endian PCM bytes to float32 in [-1, 1), scaled by 2**(bits-1) as sox does."""
    if width == 1:
        x = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        x = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    elif width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        x = v.astype(np.float64) / float(1 << 23)
    elif width == 4:
        x = np.frombuffer(raw, dtype="<i4").astype(np.float64) / float(1 << 31)
    else:
        raise AudioUnavailable(f"audio unavailable: unsupported sample width {width} bytes")
    return np.asarray(x, dtype=np.float32).reshape(-1, channels)


# --- Input devices ---------------------------------------------------------------


def input_devices() -> list[dict]:
    """PortAudio's input-capable devices as `{index, name, channels, samplerate, hostapi}`."""
    sd = _import_sounddevice()
    try:
        with quiet_stderr():
            devices = sd.query_devices()
            hostapis = sd.query_hostapis()
    except Exception as exc:
        raise AudioUnavailable(f"audio unavailable: cannot list devices: {exc}")
    return [
        {"index": d["index"], "name": d["name"], "channels": d["max_input_channels"],
         "samplerate": int(d["default_samplerate"]), "hostapi": hostapis[d["hostapi"]]["name"]}
        for d in devices if d["max_input_channels"] > 0
    ]


def _device_list(devices: list[dict]) -> str:
    return ", ".join(f"[{d['index']}] {d['name']}" for d in devices) or "none"


def resolve_device(spec: str | int | None, devices: list[dict]) -> tuple[dict, str | None]:
    """The device to open for `spec`, and the PulseAudio source to ask for (or None).

    `spec` is an index, a PortAudio device name (exact, then unique substring), or a PulseAudio
    source name such as `vsink.monitor`: ALSA's "pulse" device is then opened with `PULSE_SOURCE`
    naming that source (PortAudio only sees PulseAudio through ALSA's pulse plugin).
    """
    if not devices:
        raise AudioUnavailable("audio unavailable: no input device; devices: none")
    if spec is None or spec == "":
        default = _default_input(devices)
        return default, None
    if isinstance(spec, int) or str(spec).isdigit():
        for d in devices:
            if d["index"] == int(spec):
                return d, None
        raise AudioUnavailable(f"audio unavailable: unknown device {spec}; devices: {_device_list(devices)}")
    exact = [d for d in devices if d["name"] == spec]
    if exact:
        return exact[0], None
    partial = [d for d in devices if spec.lower() in d["name"].lower()]
    if len(partial) == 1:
        return partial[0], None
    if len(partial) > 1:
        raise AudioUnavailable(f"audio unavailable: device {spec!r} is ambiguous; devices: {_device_list(partial)}")
    pulse = [d for d in devices if d["name"] == "pulse"]
    if pulse:
        return pulse[0], spec
    raise AudioUnavailable(f"audio unavailable: unknown device {spec!r}; devices: {_device_list(devices)}")


def _default_input(devices: list[dict]) -> dict:
    sd = _import_sounddevice()
    try:
        index = sd.default.device[0]
        if index is None or index < 0:
            index = sd.query_devices(kind="input")["index"]
    except Exception:
        index = devices[0]["index"]
    return next((d for d in devices if d["index"] == index), devices[0])


# ALSA's devices that lead to the sound server; PortAudio reports their channel limit (32), not the source's.
_SOUND_SERVER_DEVICES = ("pulse", "default", "pipewire")
_PACTL_TIMEOUT_S = 5


def _pactl(*args: str) -> str:
    try:
        done = subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=_PACTL_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout if done.returncode == 0 else ""


def pulse_source_channels(source: str | None) -> int | None:
    """How many channels the PulseAudio (or PipeWire) source `source` (None: the default one) records,
    from `pactl`; None when that cannot be told."""
    if shutil.which("pactl") is None:
        return None
    if not source:
        source = _pactl("get-default-source").strip()
        if not source:
            info = re.search(r"^Default Source: (.+)$", _pactl("info"), re.MULTILINE)
            source = info.group(1).strip() if info else ""
    for line in _pactl("list", "short", "sources").splitlines():
        fields = line.split("\t")
        if len(fields) >= 4 and fields[1] == source:
            found = re.search(r"(\d+)ch", fields[3])
            return int(found.group(1)) if found else None
    return None


class DeviceSource(Source):
    """A live input through PortAudio. The callback only copies blocks into the queue.

    Every channel the input has is recorded (or the first `channels`), and the meter counts every
    sample, as sox's "Overall" does: recording one channel of a stereo input would read a left-only
    signal 3 dB low and an anti-phase one as silence (PortAudio's mono downmix is (L+R)/2).
    """

    def __init__(self, device: str | int | None = None, samplerate: int | None = None,
                 channels: int | None = None) -> None:
        super().__init__()
        self.sd = _import_sounddevice()
        self.devices = input_devices()
        self.device, self.pulse_source = resolve_device(device, self.devices)
        self.samplerate = samplerate or self.device["samplerate"] or 48000
        self.channels = self._channels(channels)
        self.description = f"device [{self.device['index']}] {self.device['name']}" + (
            f" (PulseAudio source {self.pulse_source})" if self.pulse_source else "") + f", {self.channels} ch"
        self.status_flags = 0
        self._stream = None
        self._chatter = StderrChatterFilter()

    def _channels(self, wanted: int | None) -> int:
        limit = self.device["channels"]
        if wanted is not None:
            if not 1 <= wanted <= limit:
                raise AudioUnavailable(f"audio unavailable: {self.device['name']} has {limit} input channel"
                                       f"{'s' if limit != 1 else ''}, not {wanted}")
            return wanted
        if self.pulse_source or self.device["name"] in _SOUND_SERVER_DEVICES:
            # The sound server would remix its source into as many channels as asked for, most of them
            # silent, and the reading would fall: ask it how many the source really has.
            native = pulse_source_channels(self.pulse_source)
            return min(limit, native) if native else min(limit, 2)
        return limit

    def _callback(self, indata, frames, time_info, status) -> None:
        if status:
            self.status_flags += 1
        self._put(indata.copy())

    def _finished(self) -> None:
        # PortAudio calls this when the stream stops; if we did not stop it, it died.
        if not self._stopping:
            self.failure = "the input stream stopped (sound server gone?)"

    def start(self) -> None:
        if self._stream is not None:
            return  # already running (the command opens the device before it starts a session)
        self._stopping = False
        self._chatter.start()
        if self.pulse_source:
            # Read by libpulse (via ALSA's pulse plugin) when the stream connects.
            os.environ["PULSE_SOURCE"] = self.pulse_source
        try:
            with quiet_stderr():
                self._stream = self.sd.InputStream(
                    device=self.device["index"], samplerate=self.samplerate, channels=self.channels,
                    dtype="float32", blocksize=self.blocksize, callback=self._callback,
                    finished_callback=self._finished,
                )
                self._stream.start()
        except Exception as exc:
            self._stream = None
            self._chatter.stop()
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if self.pulse_source:
                raise AudioUnavailable(f"audio unavailable: unknown device {self.pulse_source!r}: not a PortAudio "
                                       f"device, and PulseAudio refused it as a source ({reason}); "
                                       f"devices: {_device_list(self.devices)}")
            raise AudioUnavailable(f"audio unavailable: cannot open {self.description}: {reason}")

    @property
    def active(self) -> bool:
        return self._stream is not None and bool(self._stream.active)

    def stop(self) -> None:
        self._stopping = True
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.abort()
                stream.close()
            except Exception as exc:  # a dead sound server may make closing fail too; we are leaving anyway
                self.failure = self.failure or f"closing failed: {exc}"
        self._chatter.stop()
