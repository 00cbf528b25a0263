"""Who is speaking: a generated two-voice conversation with one file per participant (Zoom's
layout) and the same voices on the two channels of a stereo recorder."""

from __future__ import annotations

import json
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from clipkit.ffmpeg import decode_audio

from .conftest import ffmpeg, invoke

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(
        shutil.which("espeak-ng") is None, reason="espeak-ng not installed (make test installs it)"
    ),
]
RATE = 16000
LINES = [
    ("Amira", "en-gb+f3", "Thanks for coming in today. Could you tell me where you grew up?"),
    ("Tom", "en-us+m3", "I grew up on an estate in Leeds, with my mum and two sisters."),
    ("Amira", "en-gb+f3", "What did the community centre mean to you back then?"),
    ("Tom", "en-us+m3", "It was the only warm place in winter, and they treated us like adults."),
    ("Amira", "en-gb+f3", "And what happened when it closed?"),
    ("Tom", "en-us+m3", "A group of parents started meeting every Thursday to win it back."),
]


def write_wav(path: Path, samples: np.ndarray) -> None:
    data = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(data.shape[0] if data.ndim == 2 else 1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(data.T.tobytes() if data.ndim == 2 else data.tobytes())


@pytest.fixture(scope="module")
def conversation(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Each line spoken by its voice; per-participant tracks with a little bleed, the mix, and
    a stereo file with one voice per channel. Returns paths and who speaks when (ms)."""
    d = tmp_path_factory.mktemp("speakers")
    tracks = {"Amira": [], "Tom": []}
    turns, t = [], RATE // 2
    for k, (who, voice, text) in enumerate(LINES):
        wav = d / f"line{k}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "155", "-w", str(wav), text], check=True)
        speech = decode_audio(wav)
        turns.append((t * 1000 // RATE, (t + len(speech)) * 1000 // RATE, who))
        tracks[who].append((t, speech))
        t += len(speech) + int(0.6 * RATE)
    total = t + RATE // 2
    own = {}
    for who, parts in tracks.items():
        signal = np.zeros(total, dtype=np.float32)
        for start, speech in parts:
            signal[start : start + len(speech)] += speech
        own[who] = signal
    mix = (own["Amira"] + own["Tom"]) * 0.8
    rec = d / "recording"
    rec.mkdir()
    # Zoom's layout: the mixed recording and audio<Name><id>.m4a per participant, with bleed
    write_wav(rec / "zoom_0.wav", mix)
    for who, other in (("Amira", "Tom"), ("Tom", "Amira")):
        wav = d / f"{who}.wav"
        write_wav(wav, own[who] + 0.15 * own[other])
        ffmpeg("-i", str(wav), "-c:a", "aac", str(rec / f"audio{who}Price1234567.m4a"))
    stereo = d / "stereo.wav"
    write_wav(stereo, np.stack([own["Amira"] + 0.1 * own["Tom"], own["Tom"] + 0.1 * own["Amira"]]))
    mono = d / "mono.wav"
    write_wav(mono, mix)
    return {
        "recording": rec / "zoom_0.wav",
        "stereo": stereo,
        "mono": mono,
        "turns": turns,
        "dir": d,
    }


def accuracy(json_path: Path, turns: list[tuple[int, int, str]], names: dict[str, str]) -> float:
    words = [w for s in json.loads(json_path.read_text())["segments"] for w in s["words"]]
    right = 0
    for w in words:
        mid = (w["start"] + w["end"]) * 500
        truth = min(
            turns,
            key=lambda tr: 0 if tr[0] <= mid <= tr[1] else min(abs(mid - tr[0]), abs(mid - tr[1])),
        )[2]
        right += names.get(w.get("speaker"), w.get("speaker")) == truth
    return right / len(words)


def test_participant_files_name_every_word(conversation: dict, tmp_path: Path) -> None:
    result = invoke("transcribe", str(conversation["recording"]), "-o", str(tmp_path),
                    "--speakers", "files", "--speaker-labels", "prefix", "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    names = {"Amira Price": "Amira", "Tom Price": "Tom"}
    score = accuracy(tmp_path / "zoom_0.json", conversation["turns"], names)
    print(f"words attributed correctly from participant files: {score:.1%}")
    assert score >= 0.95
    srt = (tmp_path / "zoom_0.srt").read_text(encoding="utf-8")
    assert "AMIRA PRICE: " in srt and "TOM PRICE: " in srt
    vtt = (tmp_path / "zoom_0.vtt").read_text(encoding="utf-8")
    assert "<v Amira Price>" in vtt and "<v Tom Price>" in vtt
    txt = (tmp_path / "zoom_0.txt").read_text(encoding="utf-8")
    assert txt.count("Tom Price: ") >= 3  # a paragraph per turn, named
    # renamed everywhere the transcript feeds
    result = invoke("speakers", str(tmp_path / "zoom_0.json"), "--name", "Tom Price=Tom",
                    "--speaker-labels", "prefix")  # fmt: skip
    assert result.exit_code == 0, result.output
    for suffix in (".srt", ".vtt", ".txt", ".json"):
        text = (tmp_path / f"zoom_0{suffix}").read_text(encoding="utf-8")
        assert "Tom Price" not in text and "TOM PRICE" not in text
    assert "TOM: " in (tmp_path / "zoom_0.srt").read_text(encoding="utf-8")


def test_one_voice_per_channel(conversation: dict, tmp_path: Path) -> None:
    result = invoke("transcribe", str(conversation["stereo"]), "-o", str(tmp_path),
                    "--speakers", "channels", "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    score = accuracy(tmp_path / "stereo.json", conversation["turns"],
                     {"Speaker 1": "Amira", "Speaker 2": "Tom"})  # fmt: skip
    print(f"words attributed correctly from channels: {score:.1%}")
    assert score >= 0.95


def test_a_cue_never_mixes_speakers(conversation: dict, tmp_path: Path) -> None:
    invoke(
        "transcribe",
        str(conversation["stereo"]),
        "-o",
        str(tmp_path),
        "--speakers",
        "channels",
        "-q",
    )
    vtt = (tmp_path / "stereo.vtt").read_text(encoding="utf-8")
    cues = [c for c in vtt.split("\n\n")[1:] if c.strip()]
    assert all(c.count("<v ") == 1 for c in cues)


def test_speaker_sources_give_clear_messages(conversation: dict, tmp_path: Path) -> None:
    mono = invoke(
        "transcribe", str(conversation["mono"]), "-o", str(tmp_path), "--speakers", "channels"
    )
    assert (mono.exit_code, mono.stderr) == (1, "Error: mono.wav has one audio channel: "
        "--speakers channels needs a recording with one microphone per channel\n")  # fmt: skip
    missing = tmp_path / "nope"
    gone = invoke("transcribe", str(conversation["mono"]), "-o", str(tmp_path), "--speakers",
                  "files", "--speaker-audio", str(missing))  # fmt: skip
    assert (gone.exit_code, gone.stderr) == (
        1,
        f"Error: speaker audio folder {missing} not found\n",
    )
    silent_dir = tmp_path / "silent"
    silent_dir.mkdir()
    write_wav(silent_dir / "audioNobody1.wav", np.zeros(RATE * 3, dtype=np.float32))
    shutil.copy(conversation["dir"] / "Tom.wav", silent_dir / "audioTom2.wav")
    silent = invoke("transcribe", str(conversation["mono"]), "-o", str(tmp_path), "--speakers",
                    "files", "--speaker-audio", str(silent_dir), "--force")  # fmt: skip
    assert silent.exit_code == 1
    assert silent.stderr.strip().endswith("audioNobody1.wav: this participant's audio is silent")


def test_find_by_speaker(conversation: dict, tmp_path: Path) -> None:
    root = tmp_path / "p"
    assert invoke("init", str(root)).exit_code == 0
    shutil.copy(conversation["stereo"], root / "recordings" / "talk.wav")
    result = invoke("--project", str(root), "transcribe", "--speakers", "channels", "-q")
    assert result.exit_code == 0, result.output
    tom = invoke("find", "winter", str(root), "--speaker", "Speaker 2", "--json")
    assert [h["speaker"] for h in json.loads(tom.stdout)] == ["Speaker 2"]
    amira = invoke("find", "winter", str(root), "--speaker", "Speaker 1")
    assert amira.exit_code == 1
