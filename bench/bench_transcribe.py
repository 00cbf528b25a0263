#!/usr/bin/env python3
"""Transcription benchmark: clipkit vs a bare faster-whisper call vs the openai-whisper engine,
and the aggregate speed of four files with --jobs 2 vs --jobs 1; then one long recording of real
speech (../shared/realspeech, the items with a reference text, repeated to about 5 minutes):
clipkit against bare faster-whisper sequential on 1 and all threads and batched
(BatchedInferencePipeline) and whisper.cpp (pywhispercpp, greedy and beam search, the same
tiny.en weights in float16), with WER. All in one run, same machine.

Every case runs as a fresh process (imports and model load included, as a user meets it);
peak RSS is sampled over the process tree and reported for the largest single process.
Run with `make bench`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "conversation.mp4"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from clipkit.ffmpeg import run_ffmpeg  # noqa: E402
from clipkit.media import probe  # noqa: E402
from clipkit.models import resolve_model  # noqa: E402

BARE = """
import sys
from faster_whisper import WhisperModel
model = WhisperModel(sys.argv[1], device="cpu", compute_type="int8", cpu_threads=int(sys.argv[3]))
# the same decoding settings as clipkit's (its guards against invented text included)
if len(sys.argv) > 4 and sys.argv[4] == "batched":
    from faster_whisper import BatchedInferencePipeline
    model = BatchedInferencePipeline(model)  # VAD segments decoded 8 at a time
segments, info = model.transcribe(
    sys.argv[2], beam_size=5, word_timestamps=True, vad_filter=True,
    vad_parameters={"min_silence_duration_ms": 500}, condition_on_previous_text=False,
    no_speech_threshold=0.6, log_prob_threshold=-1.0, compression_ratio_threshold=2.4,
    hallucination_silence_threshold=2.0,
)
segments = list(segments)
if len(sys.argv) > 5:  # the text, for the WER
    open(sys.argv[5], "w").write(" ".join(s.text.strip() for s in segments))
print(sum(len(s.words) for s in segments), "words")
"""


# whisper.cpp through pywhispercpp, on the same tiny.en weights (bench/ggml.py, float16);
# sampling strategy 0 is greedy, 1 beam search (5 beams, as clipkit decodes)
WHISPER_CPP = """
import sys, wave
import numpy as np
from pywhispercpp.model import Model
model = Model(sys.argv[1], n_threads=int(sys.argv[3]), params_sampling_strategy=int(sys.argv[4]),
              print_progress=False, print_realtime=False, redirect_whispercpp_logs_to=None)
with wave.open(sys.argv[2]) as w:  # 16 kHz mono 16-bit, as the benchmark writes it
    audio = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768
segments = model.transcribe(audio, beam_search={"beam_size": 5, "patience": -1.0})
open(sys.argv[5], "w").write(" ".join(s.text.strip() for s in segments))
"""


def whisper_cpp_model(tmp: Path, ct2_path: str) -> Path | None:
    """tiny.en as whisper.cpp loads it (via `clipkit models convert`, then bench/ggml.py); None
    where pywhispercpp is not installed."""
    try:
        import pywhispercpp  # noqa: F401
    except ImportError:
        return None
    from ggml import convert

    checkpoint = tmp / "tiny.en.pt"
    subprocess.run([sys.executable, "-m", "clipkit.cli", "models", "convert", ct2_path,
                    str(checkpoint)], check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    return convert(checkpoint, tmp / "ggml-tiny.en.bin")


def measure(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and the peak RSS (MB) of the largest process in the tree."""
    started = time.perf_counter()
    proc = psutil.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        try:
            tree = [proc, *proc.children(recursive=True)]
            peak = max([peak] + [p.memory_info().rss for p in tree if p.is_running()])
        except psutil.Error:
            pass
        time.sleep(0.05)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(argv)}\n{proc.stderr.read().decode()[-2000:]}")
    return wall, peak / 1e6


def best(argv: list[str], repeat: int) -> tuple[float, float]:
    runs = [measure(argv) for _ in range(repeat)]
    return min(r[0] for r in runs), max(r[1] for r in runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--repeat", type=int, default=2, help="runs per case; the best wall time counts"
    )
    parser.add_argument("--copies", type=int, default=4, help="sample copies in the long clip")
    parser.add_argument("--real-only", action="store_true", help="only the real-speech table")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    clipkit = [sys.executable, "-m", "clipkit.cli"]
    cores = os.cpu_count() or 1
    model = resolve_model("tiny.en", "faster-whisper")
    if args.real_only:
        real_speech(clipkit, model.path, cores, args.repeat)
        return 0
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        long_clip = tmp / "long.m4a"
        concat = "".join("[0:a]" for _ in range(args.copies))
        run_ffmpeg(
            ["-y", "-loglevel", "error", "-i", str(SAMPLE), "-filter_complex",
             f"{concat}concat=n={args.copies}:v=0:a=1[a]", "-map", "[a]", "-c:a", "aac", str(long_clip)]
        )  # fmt: skip
        long_s = probe(long_clip).duration_ms / 1000
        files = []
        for i in range(4):
            files.append(tmp / f"story {i}.mp4")
            shutil.copy(SAMPLE, files[-1])
        four_s = 4 * probe(SAMPLE).duration_ms / 1000

        rows = []

        def clip_case(label: str, extra: list[str], inputs: list[Path], audio_s: float) -> float:
            out = tmp / f"out-{len(rows)}"
            wall, rss = best(
                [
                    *clipkit,
                    "transcribe",
                    *map(str, inputs),
                    "-o",
                    str(out),
                    "-q",
                    "--force",
                    *extra,
                ],
                args.repeat,
            )
            rows.append((label, audio_s, wall, audio_s / wall, rss))
            return wall

        # clipkit runs faster-whisper on one thread per worker (faster than two here); the bare
        # call is measured the same way, and on every core for reference
        wall, rss = best([sys.executable, "-c", BARE, model.path, str(long_clip), "1"], args.repeat)
        rows.append(("bare faster-whisper call, 1 thread", long_s, wall, long_s / wall, rss))
        bare = wall
        wall, rss = best(
            [sys.executable, "-c", BARE, model.path, str(long_clip), str(cores)], args.repeat
        )
        rows.append(
            (f"bare faster-whisper call, {cores} threads", long_s, wall, long_s / wall, rss)
        )
        ours = clip_case(
            "clipkit transcribe (faster-whisper)", ["--jobs", "1"], [long_clip], long_s
        )
        clip_case(
            "clipkit transcribe --engine openai-whisper",
            ["--engine", "openai-whisper", "--jobs", "1"],
            [long_clip],
            long_s,
        )
        one = clip_case("clipkit, 4 files, --jobs 1", ["--jobs", "1"], files, four_s)
        two = clip_case("clipkit, 4 files, --jobs 2", ["--jobs", "2"], files, four_s)

    print(
        f"\nTranscription, Whisper tiny.en int8 unless named, {cores} CPU cores, best of {args.repeat}"
    )
    print(f"{'case':<46} {'audio s':>8} {'wall s':>7} {'x real time':>12} {'peak RSS MB':>12}")
    for label, audio_s, wall, rtf, rss in rows:
        print(f"{label:<46} {audio_s:>8.1f} {wall:>7.2f} {rtf:>12.1f} {rss:>12.0f}")
    print(
        f"\nclipkit overhead over the bare engine call: {100 * (ours / bare - 1):+.1f}% (target <= +10%)"
    )
    print(
        f"--jobs 2 vs --jobs 1 on 4 files: {one / two:.2f}x faster; aggregate {four_s / two:.1f}x real time (target >= 22x)"
    )
    real_speech(clipkit, model.path, cores, args.repeat)
    return 0


def real_speech(clipkit: list[str], model_path: str, cores: int, repeat: int) -> None:
    import json

    from clipkit.metrics import word_error_rate
    from tests.realspeech import MISSING, REALSPEECH, items

    if not (REALSPEECH / "manifest.json").is_file():
        print(f"\nreal speech: {MISSING}")
        return
    chosen = [i for i in items() if i.get("reference_text")]
    copies = max(1, round(300 / sum(i["duration_s"] for i in chosen)))
    reference = " ".join([i["reference_text"] for i in chosen] * copies)
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        parts = []
        for k, item in enumerate(chosen):
            parts.append(tmp / f"part{k}.wav")
            run_ffmpeg(["-y", "-loglevel", "error", "-i", str(item["path"]), "-ar", "16000",
                        "-ac", "1", str(parts[-1])])  # fmt: skip
        listing = tmp / "list.txt"
        listing.write_text("".join(f"file '{p}'\n" for p in parts * copies))
        clip = tmp / "real speech.wav"
        run_ffmpeg(["-y", "-loglevel", "error", "-f", "concat", "-safe", "0", "-i", str(listing),
                    "-c", "copy", str(clip)])  # fmt: skip
        seconds = probe(clip).duration_ms / 1000
        cases = [
            ("bare faster-whisper, 1 thread", "1", "sequential"),
            (f"bare faster-whisper, {cores} threads", str(cores), "sequential"),
            (f"bare faster-whisper batched, {cores} threads", str(cores), "batched"),
        ]
        for label, threads, mode in cases:
            text = tmp / f"{mode}-{threads}.txt"
            wall, rss = best(
                [sys.executable, "-c", BARE, model_path, str(clip), threads, mode, str(text)],
                repeat,
            )
            rows.append((label, wall, rss, word_error_rate(reference, text.read_text())))
        ggml = whisper_cpp_model(tmp, model_path)
        if ggml is None:
            print("whisper.cpp: pywhispercpp is not installed (pip install pywhispercpp)")
        cpp_cases = [("greedy", "0", t) for t in sorted({1, cores})] + [("beam 5", "1", cores)]
        for label, strategy, threads in cpp_cases if ggml else ():
            text = tmp / f"whisper-cpp-{strategy}-{threads}.txt"
            wall, rss = best([sys.executable, "-c", WHISPER_CPP, str(ggml), str(clip),
                              str(threads), strategy, str(text)], repeat)  # fmt: skip
            rows.append((f"whisper.cpp {label}, {threads} thread(s)", wall, rss,
                         word_error_rate(reference, text.read_text())))  # fmt: skip
        others = len(rows)
        out = tmp / "out"
        for label, extra in [("clipkit transcribe, 1 thread (--threads 1)", ["--threads", "1"])
                             ] * (cores > 1) + [("clipkit transcribe (its choice of threads)", [])]:  # fmt: skip
            wall, rss = best([*clipkit, "transcribe", str(clip), "-o", str(out), "-q", "--force",
                              *extra], repeat)  # fmt: skip
            data = json.loads((out / "real speech.json").read_text(encoding="utf-8"))
            text = " ".join(seg["text"] for seg in data["segments"])
            rows.append((label, wall, rss, word_error_rate(reference, text)))
    print(f"\nOne long recording of real speech ({seconds:.0f} s: {len(chosen)} recordings x "
          f"{copies}), tiny.en int8, {cores} CPU cores, best of {repeat}")  # fmt: skip
    print(f"{'case':<46} {'wall s':>7} {'x real time':>12} {'peak RSS MB':>12} {'WER %':>6}")
    for label, wall, rss, wer in rows:
        print(f"{label:<46} {wall:>7.2f} {seconds / wall:>12.1f} {rss:>12.0f} {100 * wer:>6.1f}")
    ours = rows[-1]
    fastest = min(r[1] for r in rows[:others])
    print(f"clipkit (its choice) vs the fastest other: {fastest / ours[1]:.2f}x its speed")
    close = [r[1] for r in rows[:others] if r[3] <= ours[3] + 0.005]
    if close:
        print(f"clipkit vs the fastest other within 0.5 WER points of clipkit: "
              f"{min(close) / ours[1]:.2f}x its speed (target >= 1.0)")  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
