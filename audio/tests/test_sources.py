"""Sources and every way an input device can be unavailable."""

import builtins
import subprocess
import sys

import numpy as np
import pytest

from audio import sources
from audio.meter import measure
from audio.models import ListeningSession
from audio.sources import AudioUnavailable, SynthSource, WavSource, pcm_to_float, resolve_device
from audio.tests.helpers import ROOT, command_env

DEVICES = [
    {"index": 0, "name": "HDA Intel PCH: ALC892 Analog (hw:0,0)", "channels": 2, "samplerate": 44100,
     "hostapi": "ALSA"},
    {"index": 3, "name": "USB Mic (hw:1,0)", "channels": 1, "samplerate": 48000, "hostapi": "ALSA"},
]


@pytest.mark.parametrize(("kind", "rms", "peak"), [("sine", -23.01, -20.0), ("noise", -24.77, -20.0)])
def test_synth_level_is_the_peak_like_sox_vol(kind, rms, peak):
    block = SynthSource(kind, -20.0, realtime=False, seed=7).read(48000)
    reading = measure(block)
    assert reading.rms_dbfs == pytest.approx(rms, abs=0.05)
    assert reading.peak_dbfs == pytest.approx(peak, abs=0.05)
    assert block.shape == (48000, 1) and block.dtype == np.float32


def test_synth_silence_and_phase_continuity():
    assert not SynthSource("silence", realtime=False).read(100).any()
    s = SynthSource("sine", 0.0, frequency=1000, realtime=False)
    joined = np.concatenate([s.read(1103), s.read(977)])
    assert np.allclose(joined, SynthSource("sine", 0.0, frequency=1000, realtime=False).read(2080), atol=1e-6)


def test_unknown_synth_kind():
    with pytest.raises(ValueError, match="unknown synth kind"):
        SynthSource("square")


def test_pcm_24_bit_decoding():
    raw = bytes([0xFF, 0xFF, 0x7F, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00])
    assert pcm_to_float(raw, 3, 1)[:, 0].tolist() == pytest.approx([1 - 2**-23, -1.0, 0.0])


def test_missing_and_malformed_wav_files(tmp_path):
    with pytest.raises(AudioUnavailable, match="cannot read WAV file"):
        WavSource(tmp_path / "nope.wav")
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not a wav at all")
    with pytest.raises(AudioUnavailable, match="not a usable WAV file"):
        WavSource(bad)


def test_resolve_device_by_index_name_substring_and_pulse_source():
    assert resolve_device(3, DEVICES)[0]["index"] == 3
    assert resolve_device("3", DEVICES)[0]["index"] == 3
    assert resolve_device("USB Mic (hw:1,0)", DEVICES)[0]["index"] == 3
    assert resolve_device("usb", DEVICES)[0]["index"] == 3
    pulse = [*DEVICES, {"index": 5, "name": "pulse", "channels": 32, "samplerate": 44100, "hostapi": "ALSA"}]
    device, pulse_source = resolve_device("vsink.monitor", pulse)
    assert device["name"] == "pulse" and pulse_source == "vsink.monitor"


def test_no_input_device_names_none():
    with pytest.raises(AudioUnavailable) as exc:
        resolve_device(None, [])
    assert str(exc.value) == "audio unavailable: no input device; devices: none"


@pytest.mark.parametrize("spec", ["9", "Focusrite"])
def test_unknown_device_lists_the_devices(spec):
    with pytest.raises(AudioUnavailable) as exc:
        resolve_device(spec, DEVICES)
    assert "unknown device" in str(exc.value)
    assert "devices: [0] HDA Intel PCH: ALC892 Analog (hw:0,0), [3] USB Mic (hw:1,0)" in str(exc.value)


def test_ambiguous_device_name():
    with pytest.raises(AudioUnavailable, match="ambiguous"):
        resolve_device("hw:", DEVICES)


@pytest.fixture
def no_portaudio(monkeypatch):
    """What sounddevice does on a machine without libportaudio2: its import raises OSError."""
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(builtins, "__import__", fake_import)


def test_missing_portaudio_is_audio_unavailable(no_portaudio):
    with pytest.raises(AudioUnavailable, match="PortAudio library not found"):
        sources.DeviceSource("default")


@pytest.mark.django_db
def test_missing_portaudio_ends_the_command_with_one_line_and_exit_3(no_portaudio, tenant, capsys):
    from django.core.management import call_command

    with pytest.raises(SystemExit) as exc:
        call_command("sample_audio", "--source", "device")
    assert exc.value.code == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["audio unavailable: PortAudio library not found (install libportaudio2): "
                   "PortAudio library not found"]


def test_list_devices_without_a_sound_server_says_none(tmp_path):
    """A machine with no sound server and no sound card: PortAudio lists no input at all."""
    env = command_env(XDG_RUNTIME_DIR=str(tmp_path), HOME=str(tmp_path), PULSE_SERVER=f"unix:{tmp_path}/none")
    env.pop("PULSE_SOURCE", None)
    proc = subprocess.run([sys.executable, "manage.py", "sample_audio", "--list-devices"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3, proc
    assert proc.stderr.strip().splitlines() == ["audio unavailable: no input device; devices: none"]
    assert "Traceback" not in proc.stdout


@pytest.mark.django_db
def test_follow_with_missing_portaudio_ends_the_session_with_the_reason(no_portaudio, tenant, capsys):
    from django.core.management import call_command

    from audio import services

    session = services.listening_start(tenant=tenant).session
    with pytest.raises(SystemExit) as exc:
        call_command("sample_audio", "--follow", "--source", "device", "--duration", "5")
    assert exc.value.code == 3
    assert capsys.readouterr().err.strip().startswith("audio unavailable: PortAudio library not found")
    session.refresh_from_db()
    assert session.status == "error" and "PortAudio" in session.error


PORTAUDIO_HIDDEN = """
# A machine without libportaudio2: the dynamic-library lookup sounddevice does at import finds nothing.
import ctypes.util

_find = ctypes.util.find_library
ctypes.util.find_library = lambda name: None if "portaudio" in name else _find(name)
"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("args", [["--source", "device", "--duration", "1"], ["--list-devices"]])
def test_a_process_without_the_portaudio_library_says_so_in_one_line_and_exits_3(tmp_path, tenant, args):
    """The real sounddevice import, in a child process whose library lookup cannot find PortAudio."""
    (tmp_path / "sitecustomize.py").write_text(PORTAUDIO_HIDDEN)
    proc = subprocess.run([sys.executable, "manage.py", "sample_audio", *args], cwd=ROOT, timeout=60,
                          env=command_env(PYTHONPATH=str(tmp_path)), capture_output=True, text=True)
    assert proc.returncode == 3, proc
    assert proc.stderr.splitlines() == ["audio unavailable: PortAudio library not found (install libportaudio2): "
                     "PortAudio library not found"], proc.stderr
    assert not ListeningSession.objects.exists()


def test_list_devices_without_portaudio_is_one_line_and_exit_3(no_portaudio, capsys):
    from django.core.management import call_command

    with pytest.raises(SystemExit) as exc:
        call_command("sample_audio", "--list-devices")
    assert exc.value.code == 3
    assert capsys.readouterr().err.strip().splitlines() == [
        "audio unavailable: PortAudio library not found (install libportaudio2): PortAudio library not found"]
