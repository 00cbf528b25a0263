"""Subtitles on real human speech (../shared/realspeech: speeches, read speech, a telephone
sentence, meeting and three-speaker recordings): every hard rule on every cue, cue starts on
speech onsets, the engine's words kept, both engines close."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import pytest

from clipkit.formats import read_cues
from clipkit.metrics import onset_errors, word_error_rate
from clipkit.profiles import load_profile

from .conftest import invoke
from .realspeech import MISSING, REALSPEECH, items

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(not (REALSPEECH / "manifest.json").is_file(), reason=MISSING),
]
NETFLIX = load_profile("netflix-en")


@pytest.fixture(scope="module")
def transcribed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every item transcribed once per engine: {engine: output folder}."""
    out = {}
    files = [str(item["path"]) for item in items()]
    for engine in ("faster-whisper", "openai-whisper"):
        folder = tmp_path_factory.mktemp(f"real-{engine}")
        result = invoke("transcribe", *files, "-o", str(folder), "--engine", engine, "-q")
        assert result.exit_code == 0, result.output
        out[engine] = folder
    return out


def text_of(folder: Path, item: dict[str, Any]) -> str:
    data = json.loads((folder / f"{item['path'].stem}.json").read_text(encoding="utf-8"))
    return " ".join(s["text"] for s in data["segments"])


@pytest.fixture(scope="module")
def bare_texts() -> dict[str, str]:
    """The raw engine's text: faster-whisper alone, clipkit's decoding settings."""
    from faster_whisper import WhisperModel

    from clipkit.models import resolve_model

    model = WhisperModel(
        resolve_model("tiny.en", "faster-whisper").path, "cpu", compute_type="int8"
    )
    out = {}
    for item in items():
        segments, _ = model.transcribe(
            str(item["path"]), beam_size=5, vad_filter=True, condition_on_previous_text=False,
            vad_parameters={"min_silence_duration_ms": 500}, word_timestamps=True,
        )  # fmt: skip
        out[item["id"]] = " ".join(s.text.strip() for s in segments)
    return out


def test_every_cue_keeps_every_hard_rule_up_to_the_recordings_end(
    transcribed: dict[str, Path],
) -> None:
    for item in items():
        srt = transcribed["faster-whisper"] / f"{item['path'].stem}.srt"
        result = invoke("subs", "check", str(srt), "--media", str(item["path"]))
        assert result.exit_code == 0, result.output
        cues = read_cues(srt)
        assert all(c.end <= item["duration_s"] * 1000 for c in cues)
        text = "\n".join(line for c in cues for line in c.lines)
        assert " -" not in text.replace(
            " - ", ""
        )  # engine tokens joined: "42-line", not "42 -line"
        for c in cues:
            for line in c.lines[:-1]:
                assert line.split()[-1].lower() not in ("a", "an", "the"), c.lines


def test_reading_speed_target_where_the_speech_allows(transcribed: dict[str, Path]) -> None:
    """Cues over 17 cps are excused only when speech fills them: they already run on to the
    next cue or as long after the last word as the linger allows."""
    within, excused, total = 0, [], 0
    for item in items():
        stem = item["path"].stem
        cues = read_cues(transcribed["faster-whisper"] / f"{stem}.srt")
        data = json.loads((transcribed["faster-whisper"] / f"{stem}.json").read_text())
        words = [w for s in data["segments"] for w in s["words"]]
        for k, cue in enumerate(cues):
            total += 1
            if cue.chars / (cue.duration / 1000) <= NETFLIX.target_cps:
                within += 1
                continue
            last = max(w["end"] * 1000 for w in words if w["start"] * 1000 < cue.end)
            limit = min(
                cues[k + 1].start - NETFLIX.min_gap_ms if k + 1 < len(cues) else 1e9,
                last + 2 * NETFLIX.linger_ms,
                item["duration_s"] * 1000,
            )
            assert cue.end >= limit - 1, f"{stem} cue {k + 1} could linger longer: {cue}"
            excused.append(f"{stem} cue {k + 1}")
    print(f"{within}/{total} cues within 17 cps; over it, with speech to their end: {excused}")
    # every cue the speech rate allows is within the target (100% >= 95%); the rest are
    # reported above: speech fills them to the next cue or the end of the linger
    assert within + len(excused) == total


def test_cues_start_on_speech_onsets(transcribed: dict[str, Path]) -> None:
    errors = []
    for item in items():
        if item["onsets"]:
            cues = read_cues(transcribed["faster-whisper"] / f"{item['path'].stem}.srt")
            errors += onset_errors(item["onsets"], [c.start / 1000 for c in cues])
    median = statistics.median(errors)
    print(f"onset error: median {median:.3f} s over {len(errors)} onsets")
    assert median <= 0.12


def test_words_kept_as_the_engine_heard_them(
    transcribed: dict[str, Path], bare_texts: dict[str, str]
) -> None:
    for item in items():
        if not item.get("reference_text"):
            continue
        ours = word_error_rate(item["reference_text"], text_of(transcribed["faster-whisper"], item))
        bare = word_error_rate(item["reference_text"], bare_texts[item["id"]])
        assert ours <= bare + 0.005, (item["id"], ours, bare)


def test_openai_whisper_within_half_a_point_of_faster_whisper(transcribed: dict[str, Path]) -> None:
    rates = {}
    for engine, folder in transcribed.items():
        refs, hyps = [], []
        for item in items():
            if item.get("reference_text"):
                refs.append(item["reference_text"])
                hyps.append(text_of(folder, item))
        rates[engine] = word_error_rate(" ".join(refs), " ".join(hyps))
    print(f"WER: {rates}")
    assert abs(rates["openai-whisper"] - rates["faster-whisper"]) <= 0.005, rates


def test_speakers_told_apart_by_voice_on_real_recordings() -> None:
    """`--speakers auto` on real people: a two-person meeting (AMI, overlapping talk) and three
    people in turn (Picovoice) within 30 % DER (pyannote.metrics, ±0.25 s collar); one voice
    reading is one speaker."""
    from pyannote.core import Annotation, Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    from clipkit.diarize import diarize
    from clipkit.media import iter_audio

    scores = {}
    for item in items():
        turns = diarize(iter_audio(item["path"], block_seconds=60.0))
        if not item.get("speaker_turns"):
            assert {t.speaker for t in turns} == {"Speaker 1"}, item["id"]
            continue
        ref, hyp = Annotation(), Annotation()
        for t in item["speaker_turns"]:
            ref[Segment(t["start"], t["end"])] = t["speaker"]
        for t in turns:
            hyp[Segment(t.start / 1000, t.end / 1000)] = t.speaker
        whole = Timeline([Segment(0, item["duration_s"])])
        scores[item["id"]] = DiarizationErrorRate(collar=0.5)(ref, hyp, uem=whole)
    print("DER:", {k: f"{v:.1%}" for k, v in scores.items()})
    assert scores and all(v <= 0.30 for v in scores.values()), scores
