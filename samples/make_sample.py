#!/usr/bin/env python3
"""Regenerate the bundled sample conversation (needs espeak-ng and ffmpeg; the outputs are
committed, so users never run this).

Writes, beside this script:
  conversation.mp4          640x360 25 fps H.264 with a burnt-in running timecode and frame
                            number, AAC mono audio: two espeak-ng voices talking
  conversation.script.json  each sentence: speaker, voice, text, start/end in seconds (the
                            measured onset and offset of the speech)
  conversation.script.txt   the exact script text

The script is original text written for clipkit and released under CC0.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RATE = 22050  # espeak-ng's native rate
SPEAKERS = {
    "Amira": "en-gb+f3",
    "Tom": "en-us",
}
SCRIPT = [  # one sentence per entry, so each has a measured start time
    ("Amira", "Thanks for coming in today, Tom."),
    ("Amira", "Could you tell me a little about where you grew up?"),
    ("Tom", "I grew up on an estate in Leeds, with my mum and two sisters."),
    ("Tom", "We didn't have much money, but the community centre was always open to us."),
    ("Amira", "What did the community centre mean to you back then?"),
    ("Tom", "It was the only warm place in winter, and the staff treated us like adults."),
    ("Tom", "When it closed, a lot of young people lost somewhere safe to go."),
    ("Amira", "How did people respond when the council announced the closure?"),
    ("Tom", "At first we were angry."),
    ("Tom", "Then a group of parents started meeting every Thursday."),
    (
        "Tom",
        "They wrote to the council, recorded stories like this one, and raised money together.",
    ),
    ("Amira", "And did it work in the end?"),
    ("Tom", "Two years later the centre reopened, run by the people who use it."),
    ("Amira", "What would you say to someone starting a project like that today?"),
    ("Tom", "Start small, listen to everyone, and write down what people tell you."),
    ("Amira", "That is a remarkable story."),
    ("Amira", "Thank you for sharing it with us."),
]
LEAD_IN = 1.5  # seconds of room tone before the first sentence
GAP_SAME = 0.7  # pause between sentences of one speaker
GAP_TURN = 1.1  # pause at a change of speaker


def synth(text: str, voice: str, out: Path) -> np.ndarray:
    subprocess.run(["espeak-ng", "-v", voice, "-s", "155", "-w", str(out), text], check=True)
    with wave.open(str(out)) as w:
        assert w.getframerate() == RATE and w.getnchannels() == 1
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32)


def speech_bounds(samples: np.ndarray) -> tuple[int, int]:
    """First and last sample louder than -40 dBFS (espeak pads its output with silence)."""
    loud = np.flatnonzero(np.abs(samples) > 32768 * 0.01)
    return int(loud[0]), int(loud[-1]) + 1


def main() -> int:
    ffmpeg = sys.argv[1] if len(sys.argv) > 1 else "ffmpeg"
    pieces: list[tuple[float, np.ndarray]] = []
    script = []
    t = LEAD_IN
    previous = None
    with tempfile.TemporaryDirectory() as tmp:
        for i, (speaker, text) in enumerate(SCRIPT):
            if previous is not None:
                t += GAP_TURN if speaker != previous else GAP_SAME
            audio = synth(text, SPEAKERS[speaker], Path(tmp) / f"{i}.wav")
            first, last = speech_bounds(audio)
            audio = audio[first:last]
            pieces.append((t, audio))
            script.append(
                {
                    "speaker": speaker,
                    "voice": SPEAKERS[speaker],
                    "text": text,
                    "start": round(t, 3),
                    "end": round(t + len(audio) / RATE, 3),
                }
            )
            t += len(audio) / RATE
            previous = speaker
        total = t + 2.0
        mix = np.zeros(int(total * RATE) + 1, dtype=np.float32)
        rng = np.random.default_rng(7)
        mix += rng.normal(0, 30, mix.shape).astype(
            np.float32
        )  # faint room tone, not digital silence
        for start, audio in pieces:
            at = int(round(start * RATE))
            mix[at : at + len(audio)] += audio
        pcm = np.clip(mix, -32768, 32767).astype(np.int16)
        wav = Path(tmp) / "mix.wav"
        with wave.open(str(wav), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(pcm.tobytes())
        font = ROOT / "clipkit" / "assets" / "fonts" / "DejaVuSans.ttf"
        draw = (
            "drawtext=fontfile=DejaVuSans.ttf:fontsize=40:fontcolor=white:x=(w-tw)/2:y=40:"
            "text='%{pts\\:hms}',"
            "drawtext=fontfile=DejaVuSans.ttf:fontsize=28:fontcolor=0xffd060:x=(w-tw)/2:y=100:"
            "text='frame %{frame_num}'"
        )
        subprocess.run(
            [
                ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
                "-f", "lavfi", "-i", f"color=c=0x203040:s=640x360:r=25:d={total:.3f}",
                "-i", str(wav),
                "-vf", draw,
                "-c:v", "libx264", "-preset", "slow", "-crf", "30", "-g", "250", "-pix_fmt", "yuv420p",
                "-c:a", "aac", "-b:a", "64k", "-ar", "48000", "-ac", "1",
                "-shortest", "-movflags", "+faststart",
                str(HERE / "conversation.mp4"),
            ],
            check=True,
            cwd=font.parent,
        )  # fmt: skip
    (HERE / "conversation.script.json").write_text(
        json.dumps({"duration": round(total, 3), "sentences": script}, indent=2) + "\n",
        encoding="utf-8",
    )
    (HERE / "conversation.script.txt").write_text(
        "\n".join(f"{s['speaker']}: {s['text']}" for s in script) + "\n", encoding="utf-8"
    )
    print(f"wrote {HERE / 'conversation.mp4'} ({total:.1f} s, {len(script)} sentences)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
