"""Subtitles on real human speech: clipkit against a bare faster-whisper call (its segments
written as cues, as most tools do) on ../shared/realspeech, in one run.

stable-ts, the other aligner worth comparing, needs torchaudio, which has no build for the CPU
torch this project pins (2.13.0): it cannot be installed here, and the table says so.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clipkit.formats import read_cues  # noqa: E402
from clipkit.metrics import onset_errors, word_error_rate  # noqa: E402
from clipkit.models import resolve_model  # noqa: E402
from clipkit.profiles import load_profile  # noqa: E402
from clipkit.subtitles import Cue, check_cues  # noqa: E402
from tests.realspeech import MISSING, REALSPEECH, items  # noqa: E402

PROFILE = load_profile("netflix-en")


def bare(path: Path, model: object) -> tuple[list[Cue], str]:
    segments, _ = model.transcribe(  # type: ignore[attr-defined]
        str(path), beam_size=5, vad_filter=True, condition_on_previous_text=False,
        vad_parameters={"min_silence_duration_ms": 500}, word_timestamps=True,
    )  # fmt: skip
    segments = list(segments)
    cues = [Cue(round(s.start * 1000), round(s.end * 1000), (s.text.strip(),)) for s in segments]
    return cues, " ".join(s.text.strip() for s in segments)


def score(rows: list[tuple[dict, list[Cue], str]]) -> dict[str, float]:
    errors: list[float] = []
    cues_total = hard_ok = within = 0
    refs, hyps = [], []
    for item, cues, text in rows:
        errors += onset_errors(item["onsets"], [c.start / 1000 for c in cues])
        broken = {
            v.cue for v in check_cues(cues, PROFILE, int(item["duration_s"] * 1000)) if v.hard
        }
        cues_total += len(cues)
        hard_ok += len(cues) - len(broken)
        within += sum(c.chars / max(c.duration / 1000, 1e-3) <= PROFILE.target_cps for c in cues)
        if item.get("reference_text"):
            refs.append(item["reference_text"])
            hyps.append(text)
    return {
        "onset median s": statistics.median(errors),
        "onsets within 0.12 s %": 100 * sum(e <= 0.12 for e in errors) / len(errors),
        "cues within every hard rule %": 100 * hard_ok / cues_total,
        "cues within 17 cps %": 100 * within / cues_total,
        "WER %": 100 * word_error_rate(" ".join(refs), " ".join(hyps)),
    }


def main() -> int:
    if not (REALSPEECH / "manifest.json").is_file():
        print(MISSING)
        return 0
    from faster_whisper import WhisperModel

    model = WhisperModel(
        resolve_model("tiny.en", "faster-whisper").path, "cpu", compute_type="int8"
    )
    real = items()
    with tempfile.TemporaryDirectory(prefix="clipkit-bench-real-") as tmp:
        out = Path(tmp)
        subprocess.run(
            [sys.executable, "-m", "clipkit", "transcribe", *(str(i["path"]) for i in real),
             "-o", str(out), "--jobs", "1", "-q"], check=True,
        )  # fmt: skip
        ours = []
        for item in real:
            data = json.loads((out / f"{item['path'].stem}.json").read_text(encoding="utf-8"))
            text = " ".join(s["text"] for s in data["segments"])
            ours.append((item, read_cues(out / f"{item['path'].stem}.srt"), text))
    theirs = [(item, *bare(item["path"], model)) for item in real]
    seconds = sum(i["duration_s"] for i in real)
    print(f"{len(real)} recordings, {seconds:.0f} s of real speech, tiny.en, netflix-en rules\n")
    table = {
        "clipkit transcribe": score(ours),
        "bare faster-whisper (segments as cues)": score(theirs),
    }
    keys = list(next(iter(table.values())))
    print("| | " + " | ".join(keys) + " |")
    print("|---|" + "---:|" * len(keys))
    for name, values in table.items():
        print(
            f"| {name} | "
            + " | ".join(
                f"{values[k]:.3f}" if k.endswith(" s") else f"{values[k]:.1f}" for k in keys
            )
            + " |"
        )
    print("| stable-ts | not installable here (needs torchaudio for torch 2.13.0) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
