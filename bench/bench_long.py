"""Long recordings in bounded memory: `clipkit transcribe` on 5, 30 and 60 minutes of speech.

Each case is a fresh process (imports and model load included), faster-whisper tiny.en int8,
one worker. The speech is the bundled sample looped (its script is known, so WER is exact).
Prints real-time factor and peak RSS per length (they should be flat, not a slope), then the
seam check: the 30-minute file transcribed in clipkit's windows against the same file given to
the engine whole (CLIPKIT_WINDOW_SECONDS=100000), both scored against the script.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_transcribe import BARE, measure  # noqa: E402

from clipkit.ffmpeg import bundled_ffmpeg, run_ffmpeg  # noqa: E402
from clipkit.media import probe  # noqa: E402
from clipkit.metrics import word_error_rate  # noqa: E402
from clipkit.models import resolve_model  # noqa: E402

SAMPLE = ROOT / "samples" / "conversation.mp4"
SCRIPT = json.loads((ROOT / "samples" / "conversation.script.json").read_text(encoding="utf-8"))


def looped(minutes: int, folder: Path) -> tuple[Path, str]:
    """The sample's audio looped to `minutes` (16 kHz mono WAV), and its script as many times."""
    loops = -(-minutes * 60 // int(SCRIPT["duration"]))
    path = folder / f"speech-{minutes}min.wav"
    run_ffmpeg(["-y", "-loglevel", "error", "-stream_loop", str(loops - 1), "-i", str(SAMPLE),
                "-vn", "-ac", "1", "-ar", "16000", "-t", str(minutes * 60), str(path)],
               binary=bundled_ffmpeg())  # fmt: skip
    text = " ".join(s["text"] for s in SCRIPT["sentences"])
    whole = int(minutes * 60 // SCRIPT["duration"])
    partial = [
        s["text"]
        for s in SCRIPT["sentences"]
        if s["start"] < minutes * 60 - whole * SCRIPT["duration"] - 3
    ]
    return path, " ".join([text] * whole + partial)


def transcribe(path: Path, out: Path, window: str | None = None) -> tuple[float, float, str]:
    env_before = os.environ.get("CLIPKIT_WINDOW_SECONDS")
    if window:
        os.environ["CLIPKIT_WINDOW_SECONDS"] = window
    try:
        argv = [sys.executable, "-m", "clipkit", "transcribe", str(path), "-o", str(out),
                "--format", "json", "--jobs", "1", "--force", "--quiet"]  # fmt: skip
        wall, rss = measure(argv)
    finally:
        os.environ.pop("CLIPKIT_WINDOW_SECONDS", None)
        if env_before is not None:
            os.environ["CLIPKIT_WINDOW_SECONDS"] = env_before
    data = json.loads((out / f"{path.stem}.json").read_text(encoding="utf-8"))
    return wall, rss, " ".join(s["text"] for s in data["segments"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", default="5,30,60", help="lengths to measure")
    parser.add_argument("--seam", type=int, default=30, help="length for the seam check (0: none)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory(prefix="clipkit-bench-long-") as tmp:
        folder = Path(tmp)
        print("| length | audio s | wall s | × real time | peak RSS MB |")
        print("|---|---:|---:|---:|---:|")
        texts: dict[int, tuple[Path, str, str]] = {}
        for k, minutes in enumerate(int(m) for m in args.minutes.split(",")):
            path, script = looped(minutes, folder)
            seconds = probe(path).duration_ms / 1000
            if k == 0:  # the machine's own pace: the engine alone, the whole file at once
                model = resolve_model("tiny.en", "faster-whisper")
                wall, rss = measure([sys.executable, "-c", BARE, str(model.path), str(path), "1"])
                print(f"| {minutes} min, bare faster-whisper call | {seconds:.0f} | {wall:.1f} "
                      f"| {seconds / wall:.1f} | {rss:.0f} |")  # fmt: skip
            wall, rss, text = transcribe(path, folder / "out")
            texts[minutes] = (path, script, text)
            print(
                f"| {minutes} min | {seconds:.0f} | {wall:.1f} | {seconds / wall:.1f} | {rss:.0f} |"
            )
        if args.seam and args.seam in texts:
            path, script, windowed = texts[args.seam]
            wall, rss, whole = transcribe(path, folder / "whole", window="100000")
            print()
            print(f"Seam check, {args.seam} min: | mode | WER | peak RSS MB |")
            print(f"| clipkit windows | {100 * word_error_rate(script, windowed):.2f}% | — |")
            print(
                f"| whole file at once | {100 * word_error_rate(script, whole):.2f}% | {rss:.0f} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
