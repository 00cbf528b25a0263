"""Real engines, the real tiny.en model, real ffmpeg, on the bundled sample."""

from __future__ import annotations

import difflib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import srt

from clipkit.metrics import normalize_words, word_error_rate

from .conftest import SAMPLE, SCRIPT, SCRIPT_TEXT, invoke

ENGINES = ["faster-whisper", "openai-whisper"]


def load_json(out: Path, stem: str = "conversation") -> dict:
    return json.loads((out / f"{stem}.json").read_text(encoding="utf-8"))


def transcript_words(data: dict) -> list[dict]:
    return [w for seg in data["segments"] for w in seg["words"]]


def sentence_start_errors(data: dict) -> list[tuple[str, float | None]]:
    """For each script sentence, |transcribed start of its first word - known start| (None: missing).

    Script and transcript words are aligned by edit operations, so a misheard first word still
    counts at the time the engine put it.
    """
    words = transcript_words(data)
    hyp = [(normalize_words(w["word"]) or [""])[0] for w in words]
    ref, first_index = [], []
    for s in SCRIPT["sentences"]:
        first_index.append(len(ref))
        ref += normalize_words(s["text"])
    mapping: dict[int, int] = {}
    for op, i1, i2, j1, _j2 in difflib.SequenceMatcher(a=ref, b=hyp, autojunk=False).get_opcodes():
        if op == "equal":
            mapping.update({i1 + k: j1 + k for k in range(i2 - i1)})
        elif op == "replace":
            mapping[i1] = j1
    out = []
    for s, idx in zip(SCRIPT["sentences"], first_index, strict=True):
        j = mapping.get(idx)
        out.append((s["text"], None if j is None else abs(words[j]["start"] - s["start"])))
    return out


@pytest.mark.engine
@pytest.mark.parametrize("engine", ENGINES)
def test_sample_accuracy(engine: str, transcribe_sample: Callable[[str], Path]) -> None:
    data = load_json(transcribe_sample(engine))
    text = " ".join(seg["text"] for seg in data["segments"])
    wer = word_error_rate(SCRIPT_TEXT, text)
    print(f"{engine}: WER {wer:.1%}")
    assert wer <= 0.15
    late = [(t, e) for t, e in sentence_start_errors(data) if e is None or e > 0.5]
    assert late == []


@pytest.mark.engine
@pytest.mark.parametrize("engine", ENGINES)
def test_output_formats_parse(engine: str, transcribe_sample: Callable[[str], Path]) -> None:
    out = transcribe_sample(engine)
    subs = list(srt.parse((out / "conversation.srt").read_text(encoding="utf-8")))
    assert len(subs) >= 8
    assert all(s.end > s.start for s in subs)
    assert all(a.end <= b.start for a, b in zip(subs, subs[1:], strict=False))
    raw = (out / "conversation.srt").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw
    vtt = (out / "conversation.vtt").read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT\n\n")
    assert vtt.count(" --> ") == len(subs)
    txt = (out / "conversation.txt").read_text(encoding="utf-8")
    assert "community" in txt.lower() and txt.endswith("\n")
    data = load_json(out)
    assert data["format"] == "clipkit-transcript/1"
    assert data["engine"] == engine and data["model"] == "tiny.en" and data["language"] == "en"
    assert data["clipkit_version"] and abs(data["duration"] - SCRIPT["duration"]) < 0.2
    for seg in data["segments"]:
        assert set(seg) >= {"start", "end", "text", "words"}
        for w in seg["words"]:
            assert set(w) == {"start", "end", "word", "probability"}
            assert seg["start"] - 0.01 <= w["start"] <= w["end"] <= seg["end"] + 0.01
            assert 0.0 <= w["probability"] <= 1.0
    # the SRT text is the transcript's text, reshaped into cues
    srt_words = " ".join(s.content for s in subs).split()
    assert srt_words == [w["word"].strip() for w in transcript_words(data)]


@pytest.mark.engine
def test_converted_checkpoint_matches_ctranslate2_original(
    transcribe_sample: Callable[[str], Path],
) -> None:
    """openai-whisper runs a checkpoint rebuilt from the CTranslate2 weights: same WER within 3 points."""
    wers = {}
    for engine in ENGINES:
        data = load_json(transcribe_sample(engine))
        wers[engine] = word_error_rate(SCRIPT_TEXT, " ".join(s["text"] for s in data["segments"]))
    assert abs(wers["openai-whisper"] - wers["faster-whisper"]) <= 0.03, wers


@pytest.mark.engine
@pytest.mark.parametrize("engine", ENGINES)
def test_silence_gives_empty_transcript(
    engine: str, media: dict[str, Path], tmp_path: Path
) -> None:
    result = invoke(
        "transcribe", str(media["silence"]), "-o", str(tmp_path), "--engine", engine, "-q"
    )
    assert result.exit_code == 0, result.output
    data = load_json(tmp_path, "silence")
    assert data["segments"] == []
    assert (tmp_path / "silence.txt").read_text() == ""
    assert (tmp_path / "silence.srt").read_text() == ""


@pytest.mark.engine
@pytest.mark.parametrize("engine", ENGINES)
def test_no_text_in_long_silent_stretch(
    engine: str, media: dict[str, Path], tmp_path: Path
) -> None:
    result = invoke("transcribe", str(media["gap"]), "-o", str(tmp_path), "--engine", engine, "-q")
    assert result.exit_code == 0, result.output
    words = transcript_words(load_json(tmp_path, "long gap"))
    in_gap = [w for w in words if w["end"] > 20.5 and w["start"] < 44.5]
    assert in_gap == []
    assert sum(1 for w in words if w["start"] >= 45.0) >= 20  # speech after the gap is still there


@pytest.mark.engine
def test_parallel_jobs_rerun_skip_and_force(tmp_path: Path) -> None:
    inputs = []
    for name in ("first story.mp4", "second: story’s end.mp4"):
        target = tmp_path / name
        target.write_bytes(SAMPLE.read_bytes())
        inputs.append(str(target))
    out = tmp_path / "out"
    result = invoke("transcribe", *inputs, "-o", str(out), "--jobs", "2", "--format", "srt,json")
    assert result.exit_code == 0, result.output
    assert "Transcribed 2 of 2 recording(s)" in result.stderr
    for stem in ("first story", "second: story’s end"):
        assert sorted(p.name for p in out.glob(f"{stem}.*")) == [f"{stem}.json", f"{stem}.srt"]
        data = load_json(out, stem)
        assert word_error_rate(SCRIPT_TEXT, " ".join(s["text"] for s in data["segments"])) <= 0.15
    assert not list(out.glob(".*part*"))

    stamp = (out / "first story.srt").stat().st_mtime_ns
    again = invoke("transcribe", *inputs, "-o", str(out), "--format", "srt,json")
    assert again.exit_code == 0
    assert again.stderr.count("up to date, skipped") == 2
    assert "Transcribed 0 of 2 recording(s), 2 up to date" in again.stderr
    assert (out / "first story.srt").stat().st_mtime_ns == stamp

    forced = invoke(
        "transcribe", inputs[0], "-o", str(out), "--format", "srt,json", "--force", "--json", "-q"
    )
    assert forced.exit_code == 0
    (row,) = json.loads(forced.stdout)
    assert row["status"] == "done" and row["language"] == "en" and row["words"] > 100
    assert (out / "first story.srt").stat().st_mtime_ns > stamp


@pytest.mark.engine
def test_transcripts_are_kept_by_the_recordings_content_not_its_file_time(tmp_path: Path) -> None:
    """A copy that lost its file times (cp, a download, a sync tool) is not transcribed again;
    another recording put in its place is, even with an older file time than the outputs."""
    import os

    from clipkit.ffmpeg import run_ffmpeg
    from clipkit.sourcekey import source_key

    recording, out = tmp_path / "story.mp4", tmp_path / "out"
    recording.write_bytes(SAMPLE.read_bytes())
    args = ("transcribe", str(recording), "-o", str(out), "--format", "srt,json")
    assert invoke(*args, "-q").exit_code == 0
    assert load_json(out, "story")["source_key"] == source_key(recording)
    made = (out / "story.json").stat().st_mtime

    os.utime(recording, (made + 3600, made + 3600))  # newer than its transcript, same content
    again = invoke(*args)
    assert again.exit_code == 0 and "up to date, skipped" in again.stderr

    shorter = tmp_path / "shorter.mp4"
    run_ffmpeg(["-y", "-loglevel", "error", "-i", str(SAMPLE), "-t", "8", "-c", "copy",
                str(shorter)])  # fmt: skip
    os.replace(shorter, recording)
    os.utime(recording, (made - 3600, made - 3600))  # older than the transcript it replaces
    replaced = invoke(*args)
    assert replaced.exit_code == 0 and "skipped" not in replaced.stderr
    data = load_json(out, "story")
    assert data["duration"] < 9 and data["source_key"] == source_key(recording)

    # a transcript from before the key was recorded is judged by file times, as it was made
    del data["source_key"]
    (out / "story.json").write_text(json.dumps(data), encoding="utf-8")
    assert "up to date, skipped" in invoke(*args).stderr


@pytest.mark.engine
def test_other_engine_makes_outputs_stale(
    tmp_path: Path, transcribe_sample: Callable[[str], Path]
) -> None:
    """Outputs made with another engine are not 'up to date' for this one."""
    src = transcribe_sample("faster-whisper")
    for p in src.iterdir():
        (tmp_path / p.name).write_bytes(p.read_bytes())
    result = invoke(
        "transcribe",
        str(SAMPLE),
        "-o",
        str(tmp_path),
        "--engine",
        "openai-whisper",
        "--format",
        "json",
    )
    assert result.exit_code == 0
    assert "skipped" not in result.stderr
    assert load_json(tmp_path)["engine"] == "openai-whisper"


@pytest.mark.engine
def test_models_convert_cli(tmp_path: Path) -> None:
    from clipkit.engines.openai import load_checkpoint
    from clipkit.models import list_local_models

    (tiny,) = [m for m in list_local_models() if m.name == "tiny.en" and m.format == "ctranslate2"]
    out = tmp_path / "tiny converted.pt"
    result = invoke("models", "convert", tiny.path, str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Wrote {out}\n"
    model = load_checkpoint(str(out), "tiny converted")
    assert model.dims.n_text_layer == 4 and model.dims.n_vocab == 51864
    assert model.alignment_heads.to_dense().sum().item() == 8


@pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng not installed (make test installs it)"
)
def test_project_vocabulary_brings_a_made_up_name(tmp_path: Path) -> None:
    """A community project's own name: written as said only when it is in the vocabulary."""
    import subprocess

    wav = tmp_path / "zorblax.wav"
    text = "Welcome everyone. Today we talk about the Zorblax project, and why Zorblax matters."
    subprocess.run(["espeak-ng", "-v", "en-gb", "-s", "150", "-w", str(wav), text], check=True)
    plain, steered = tmp_path / "plain", tmp_path / "steered"
    assert invoke("transcribe", str(wav), "-o", str(plain), "--format", "txt", "-q").exit_code == 0
    result = invoke("transcribe", str(wav), "-o", str(steered), "--format", "json,txt",
                    "--vocabulary", "Zorblax, co-production", "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Zorblax" not in (plain / "zorblax.txt").read_text(encoding="utf-8")
    assert (steered / "zorblax.txt").read_text(encoding="utf-8").count("Zorblax") == 2
    meta = json.loads((steered / "zorblax.json").read_text(encoding="utf-8"))["meta"]
    assert meta == {"vocabulary": ["Zorblax", "co-production"]}


def test_english_only_model_refuses_another_language(tmp_path: Path) -> None:
    result = invoke("transcribe", str(SAMPLE), "-o", str(tmp_path), "--language", "cy")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: model tiny.en knows only English; for --language cy use a multilingual model, "
        "e.g. --model tiny (or small, medium)\n"
    )
