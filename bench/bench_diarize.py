"""Telling voices apart (`--speakers auto`): time, peak memory and DER on 5 and 30 minutes.

A two-person conversation is generated with espeak-ng (an interviewer and a storyteller taking
turns, 0.3-0.9 s between turns, each line at its own pace and pitch; the storyteller's vocal
tract lowered 10 %, since espeak-ng's voice variants share one), so who speaks when is known. Each case
is a fresh process (imports and model load included) running clipkit.diarize on the file; the
DER is pyannote.metrics' with a ±0.25 s collar (collar=0.5) and with none. Each length is
also run through a bare embedding + clustering (the same CAM++ on fixed 1.5 s windows of the
whole file, every window in memory, scikit-learn's average-linkage clustering at cosine 0.5):
what a few lines of glue would do. Then the real recordings of ../shared/realspeech with
speaker turns, when present.

`--data DIR` scores every NAME.wav beside a NAME.rttm in DIR (real recordings kept outside the
project, e.g. the AMI snippets in pyannote-audio's tests): speakers found, DER without collar
and the share of words (clipkit transcribe --speakers auto) given to the right person, with
the mean per split (`--held-out NAME,...`: scored, never tuned on).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_transcribe import measure  # noqa: E402

from clipkit.ffmpeg import bundled_ffmpeg, run_ffmpeg  # noqa: E402
from clipkit.media import decode_audio  # noqa: E402

RATE = 16000
REALSPEECH = ROOT.parent / "shared" / "realspeech"
INTERVIEWER = [
    "Thanks for joining us today.",
    "Where did you grow up?",
    "What was the neighbourhood like back then?",
    "Who looked after you when you were small?",
    "What changed when the factory closed?",
    "How did people keep going?",
    "Tell me about the community centre.",
    "What would you say to someone moving here now?",
]
STORYTELLER = [
    "I grew up on the estate near the canal, in a flat on the fourth floor.",
    "Everyone knew everyone, and the doors were never locked in summer.",
    "My nan mostly, because my mum worked nights at the hospital.",
    "Half the street lost their jobs in a month, and the shops went one by one.",
    "We shared what we had. Somebody always had a pan of soup on.",
    "It was the only warm place in winter, and they treated us like adults there.",
    "Talk to your neighbours. Honestly, that is how you find out what is going on.",
    "A group of parents started meeting every Thursday to win the building back.",
]


def line_audio(folder: Path, k: int, who: str, text: str, rng: random.Random) -> Any:
    """One line spoken: espeak-ng at a varied pace and pitch (people never say a line the same
    way twice; repeated audio would also make windows identical, which no recording has)."""
    voice = "en-gb+f3" if who == "interviewer" else "en-us+m3"
    wav = folder / f"line{k}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(rng.randint(140, 170)), "-p",
                    str(rng.randint(35, 65)), "-w", str(wav), text], check=True)  # fmt: skip
    if who == "storyteller":  # a longer vocal tract: espeak-ng's variants share one
        lowered = folder / f"line{k}-low.wav"
        run_ffmpeg(["-y", "-loglevel", "error", "-i", str(wav), "-af",
                    f"asetrate={int(RATE * 0.9)},aresample={RATE},atempo={1 / 0.9:.5f}",
                    "-ar", str(RATE), "-ac", "1", str(lowered)], binary=bundled_ffmpeg())  # fmt: skip
        wav = lowered
    return decode_audio(wav)


def conversation(folder: Path, minutes: int) -> tuple[Path, list[tuple[float, float, str]]]:
    """Alternating turns for `minutes` (16 kHz mono WAV) and who speaks when (s)."""
    import wave

    import numpy as np

    rng = random.Random(minutes)
    total = minutes * 60 * RATE
    mix = np.zeros(total, dtype=np.float32)
    turns, t, k = [], RATE // 2, 0
    while True:
        who = "interviewer" if k % 2 == 0 else "storyteller"
        lines = INTERVIEWER if who == "interviewer" else STORYTELLER
        speech = line_audio(folder, k, who, rng.choice(lines), rng)
        if t + len(speech) > total:
            break
        mix[t : t + len(speech)] += speech * 0.8
        turns.append((t / RATE, (t + len(speech)) / RATE, who))
        t += len(speech) + int(rng.uniform(0.3, 0.9) * RATE)
        k += 1
    path = folder / f"conversation-{minutes}min.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes((np.clip(mix, -1, 1) * 32767).astype("<i2").tobytes())
    return path, turns


def der(reference: list, turns: list[dict], collar: float) -> float:
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    ref, hyp = Annotation(), Annotation()
    for a, b, who in reference:
        ref[Segment(a, b)] = who
    for t in turns:
        hyp[Segment(t["start"] / 1000, t["end"] / 1000)] = t["speaker"]
    return DiarizationErrorRate(collar=collar)(ref, hyp)


def one(path: str, out: str) -> None:
    """In a fresh process: diarize `path`, write the turns as JSON."""
    from clipkit.diarize import diarize
    from clipkit.media import iter_audio

    turns = diarize(iter_audio(Path(path), block_seconds=60.0))
    Path(out).write_text(json.dumps([t.__dict__ for t in turns]))


def bare(path: str, out: str) -> None:
    """In a fresh process: embed fixed windows of the whole file and cluster them, no more."""
    from sklearn.cluster import AgglomerativeClustering

    from clipkit.diarize import loaded_embedder

    audio = decode_audio(Path(path))
    step, size = RATE * 3 // 4, RATE * 3 // 2
    starts = range(0, max(1, len(audio) - size), step)
    vectors = loaded_embedder("campplus").embed([audio[a : a + size] for a in starts])
    labels = AgglomerativeClustering(
        n_clusters=None, distance_threshold=0.5, metric="cosine", linkage="average"
    ).fit_predict(vectors)
    turns = [
        {"start": a * 1000 // RATE, "end": (a + step) * 1000 // RATE, "speaker": f"S{label}"}
        for a, label in zip(starts, labels, strict=True)
    ]
    Path(out).write_text(json.dumps(turns))


def row(
    name: str, path: Path, seconds: float, reference: list, folder: Path, how: str = "--one"
) -> str:
    out = folder / f"{path.stem}{how}.turns.json"
    wall, rss = measure([sys.executable, __file__, how, str(path), str(out)])
    turns = json.loads(out.read_text())
    speakers = len({t["speaker"] for t in turns})
    return (
        f"| {name} | {seconds / 60:.1f} min | {wall:.1f} s | {seconds / wall:.1f}x "
        f"| {rss:.0f} MB | {speakers} | {der(reference, turns, 0.5):.1%} "
        f"| {der(reference, turns, 0.0):.1%} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--one", nargs=2, metavar=("AUDIO", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--bare", nargs=2, metavar=("AUDIO", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--minutes", default="5,30", help="conversation lengths (minutes)")
    parser.add_argument("--data", type=Path, help="a folder of NAME.wav + NAME.rttm to score")
    parser.add_argument("--held-out", default="", help="names in --data never tuned on")
    args = parser.parse_args()
    if args.one or args.bare:
        (one if args.one else bare)(*(args.one or args.bare))
        return 0
    import warnings

    warnings.filterwarnings("ignore", message=".*uem.*")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print("| recording | length | diarization | speed | peak RSS | speakers found "
              "| DER (±0.25 s) | DER (no collar) |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|")
        for minutes in (int(m) for m in args.minutes.split(",") if m):
            path, reference = conversation(folder, minutes)
            print(row("generated, 2 people", path, minutes * 60, reference, folder), flush=True)
            print(row("  bare embedding + clustering", path, minutes * 60, reference, folder,
                      "--bare"), flush=True)  # fmt: skip
        manifest = REALSPEECH / "manifest.json"
        if manifest.is_file():
            for item in json.loads(manifest.read_text())["items"]:
                if not item.get("speaker_turns"):
                    continue
                reference = [(t["start"], t["end"], t["speaker"]) for t in item["speaker_turns"]]
                people = len({t["speaker"] for t in item["speaker_turns"]})
                name = f"{item['id']} (real, {people} people)"
                print(row(name, REALSPEECH / item["file"], item["duration_s"], reference, folder))
        if args.data:
            print()
            score_folder(args.data, set(filter(None, args.held_out.split(","))), folder)
    return 0


def read_rttm(path: Path) -> list[tuple[float, float, str]]:
    out = []
    for line in path.read_text().splitlines():
        part = line.split()
        if len(part) >= 8 and part[0] == "SPEAKER":
            out.append((float(part[3]), float(part[3]) + float(part[4]), part[7]))
    return out


def words_right(reference: list, turns: list[dict], words: list[dict]) -> float:
    """The share of words whose speaker, under the best mapping of found speakers to real
    ones, is the person speaking most during the word (words in no reference turn skipped)."""
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    ref, hyp = Annotation(), Annotation()
    for a, b, who in reference:
        ref[Segment(a, b)] = who
    for t in turns:
        hyp[Segment(t["start"] / 1000, t["end"] / 1000)] = t["speaker"]
    mapping = DiarizationErrorRate().optimal_mapping(ref, hyp) if turns else {}
    right = counted = 0
    for w in words:
        heard: dict[str, float] = {}
        for a, b, who in reference:
            heard[who] = heard.get(who, 0.0) + max(0.0, min(b, w["end"]) - max(a, w["start"]))
        who, overlap = max(heard.items(), key=lambda kv: kv[1], default=(None, 0.0))
        if overlap <= 0:
            continue
        counted += 1
        right += mapping.get(w.get("speaker")) == who
    return right / counted if counted else float("nan")


def score_folder(data: Path, held_out: set[str], folder: Path) -> None:
    import statistics

    print("| recording | split | people | found | DER (no collar) | words right |")
    print("|---|---|---|---|---|---|")
    scores: dict[str, list[tuple[float, float]]] = {"calibration": [], "held out": []}
    for rttm in sorted(data.glob("*.rttm")):
        wav = rttm.with_suffix(".wav")
        reference = read_rttm(rttm)
        if not wav.is_file() or not reference:
            continue
        split = "held out" if rttm.stem in held_out else "calibration"
        subprocess.run([sys.executable, "-m", "clipkit", "transcribe", str(wav), "-o",
                        str(folder / "words"), "--speakers", "auto", "-q", "--force"],
                       check=True)  # fmt: skip
        data_json = json.loads((folder / "words" / f"{wav.stem}.json").read_text())
        words = [w for s in data_json["segments"] for w in s.get("words", [])]
        out = folder / f"{wav.stem}.turns.json"
        one(str(wav), str(out))
        turns = json.loads(out.read_text())
        found = len({t["speaker"] for t in turns})
        error, share = der(reference, turns, 0.0), words_right(reference, turns, words)
        scores[split].append((error, share))
        people = len({who for _, _, who in reference})
        print(f"| {wav.stem} | {split} | {people} | {found} | {error:.1%} | {share:.1%} |")
    for split, rows in scores.items():
        if rows:
            print(f"| mean of {len(rows)} | {split} | | | "
                  f"{statistics.mean(r[0] for r in rows):.1%} | "
                  f"{statistics.mean(r[1] for r in rows if r[1] == r[1]):.1%} |")  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
