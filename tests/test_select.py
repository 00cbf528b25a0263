"""Choosing the moments from the transcript: `clipkit select`, ticks and headings in Markdown,
`--apply` into plan rows, cut with whole first and last words."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest
import srt

from clipkit.metrics import normalize_words

from .conftest import SAMPLE, invoke


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("select") / "stories"
    assert invoke("init", str(root)).exit_code == 0
    shutil.copy(SAMPLE, root / "recordings" / "talk.mp4")
    result = invoke("--project", str(root), "transcribe", "-q")
    assert result.exit_code == 0, result.output
    return root


def tick(text: str, first: str, last: str, heading: str) -> str:
    """Tick the sentences from the one starting with `first` to the one starting with `last`,
    with `heading` above them, as an editor would."""
    lines = text.splitlines()
    a = next(k for k, ln in enumerate(lines) if re.search(rf"\] {re.escape(first)}", ln))
    b = next(k for k, ln in enumerate(lines) if re.search(rf"\] {re.escape(last)}", ln))
    for k in range(a, b + 1):
        lines[k] = lines[k].replace("- [ ]", "- [x]", 1)
    lines.insert(a, f"## {heading}")
    return "\n".join(lines) + "\n"


def sentence_text(selection: str, first: str, last: str) -> str:
    lines = [ln.split("] ", 2)[2] for ln in selection.splitlines() if ln.startswith("- [")]
    a = next(k for k, t in enumerate(lines) if t.startswith(first))
    b = next(k for k, t in enumerate(lines) if t.startswith(last))
    return " ".join(lines[a : b + 1])


def plan_rows(root: Path) -> list[dict[str, str]]:
    return list(csv.DictReader((root / "plan.csv").open(encoding="utf-8")))


def test_select_tick_apply_cut(project: Path) -> None:
    result = invoke("--project", str(project), "select")
    assert result.exit_code == 0, result.output
    path = project / "selections" / "talk.md"
    text = path.read_text(encoding="utf-8")
    assert "recording: recordings/talk.mp4" in text and "- [ ] [0:0" in text
    # the editor's hand-written row stays as it is
    (project / "plan.csv").write_text(
        "source,start,end,title,description,tags\nrecordings/talk.mp4,0:01,0:04,Hello,,\n",
        encoding="utf-8",
    )
    text = tick(text, "I grew up", "We didn't have", "Growing up | Tom on Leeds | leeds; family")
    text = tick(text, "At first we were", "They wrote", "Parents organise | The campaign |")
    path.write_text(text, encoding="utf-8")
    result = invoke("--project", str(project), "select", "--apply")
    assert result.exit_code == 0, result.output
    rows = plan_rows(project)
    assert [r["title"] for r in rows] == ["Hello", "Growing up", "Parents organise"]
    assert rows[1]["tags"] == "leeds;family" and rows[1]["origin"].startswith("selections/talk.md:")
    # applying again: the same rows, not duplicated
    assert invoke("--project", str(project), "select", "--apply").exit_code == 0
    assert plan_rows(project) == rows

    result = invoke("--project", str(project), "cut", "--only", "growing-up",
                    "--only", "parents-organise", "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    for slug, first, last in (("growing-up", "I grew up", "We didn't have"),
                              ("parents-organise", "At first we were", "They wrote")):  # fmt: skip
        cues = list(srt.parse((project / "extracts" / f"{slug}.srt").read_text(encoding="utf-8")))
        said = " ".join(c.content.replace("\n", " ") for c in cues)
        # the extract's subtitles are exactly the ticked sentences: whole first and last words
        assert normalize_words(said) == normalize_words(sentence_text(text, first, last))

    # editing one heading updates that row only
    path.write_text(text.replace("## Parents organise | The campaign |",
                                 "## Parents organise | How the campaign began |"))  # fmt: skip
    assert invoke("--project", str(project), "select", "--apply").exit_code == 0
    new = plan_rows(project)
    assert new[:2] == rows[:2] and new[2]["description"] == "How the campaign began"


def test_reselect_after_a_new_transcription_keeps_ticks(project: Path) -> None:
    path = project / "selections" / "talk.md"
    before = path.read_text(encoding="utf-8")
    assert invoke("--project", str(project), "transcribe", "--force", "-q").exit_code == 0
    result = invoke("--project", str(project), "select")
    assert result.exit_code == 0, result.output
    after = path.read_text(encoding="utf-8")
    assert after.count("- [x]") == before.count("- [x]") > 0
    assert [ln for ln in after.splitlines() if ln.startswith("## ")] == [
        ln for ln in before.splitlines() if ln.startswith("## ")
    ]


def test_ticks_without_a_heading_are_named(project: Path, tmp_path: Path) -> None:
    path = project / "selections" / "talk.md"
    saved = path.read_text(encoding="utf-8")
    try:
        lines = [ln for ln in saved.splitlines() if not ln.startswith("## ")]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        result = invoke("--project", str(project), "select", "--apply")
        assert result.exit_code == 1
        assert "a ticked sentence with no heading above it" in result.stderr
        assert result.stderr.startswith(f"Error: {path}:")
    finally:
        path.write_text(saved, encoding="utf-8")


def test_cut_warns_on_mid_word_and_short_extracts(project: Path) -> None:
    import json

    words = [
        w
        for s in json.loads((project / "transcripts" / "talk.json").read_text())["segments"]
        for w in s["words"]
    ]
    word = next(w for w in words[5:] if w["end"] - w["start"] > 0.25)
    inside = (word["start"] + word["end"]) / 2
    result = invoke("--project", str(project), "cut", str(project / "recordings" / "talk.mp4"), "--start",
                    f"{inside:.3f}", "--end", f"{inside + 2:.3f}", "--snap", "off", "--dry-run")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"falls inside the word {word['word']!r}" in result.stdout
    assert "warning: the extract is only 2.0 s long" in result.stdout
    snapped = invoke("--project", str(project), "cut", str(project / "recordings" / "talk.mp4"), "--start",
                     f"{inside:.3f}", "--end", f"{inside + 2:.3f}", "--dry-run")  # fmt: skip
    assert "falls inside the word" not in snapped.stdout


def test_minutes_typed_as_decimals_get_a_hint(project: Path) -> None:
    result = invoke("--project", str(project), "cut", str(project / "recordings" / "talk.mp4"),
                    "--start", "0.33", "--end", "0.52", "--dry-run")  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: command line: the extract is 0.190 s long; extracts must be at least 1 s "
        "(did you mean 0:33 to 0:52?)\n"
    )


def test_make_extracts_applies_changed_selections(project: Path) -> None:
    from .test_project import make

    path = project / "selections" / "talk.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("## Growing up | Tom on Leeds", "## Growing up in Leeds | Tom"))
    result = make("extracts", f"PROJECT={project}")
    assert result.returncode == 0, result.stderr
    rows = plan_rows(project)
    assert "Growing up in Leeds" in [r["title"] for r in rows]
    assert (project / "extracts" / "growing-up-in-leeds.mp4").is_file()


@pytest.mark.parametrize("fmt", ["otio", "fcpxml", "edl"])
def test_export_timelines_read_back_to_the_frame(project: Path, tmp_path: Path, fmt: str) -> None:
    otio = pytest.importorskip("opentimelineio")
    from clipkit.cut import CutOptions, prepare
    from clipkit.plan import read_plan

    out = tmp_path / "exports"
    plan = tmp_path / "plan.csv"
    talk = project / "recordings" / "talk.mp4"
    plan.write_text(
        "source,start,end,title\n"
        f"{talk},0:01.5,0:03.9,Opening\n{talk},0:08.04,0:17.33,Leeds\n{talk},00:00:37:12,0:48,Parents\n",
        encoding="utf-8",
    )
    result = invoke("export", "--plan", str(plan), "--format", fmt, "-o", str(out))
    assert result.exit_code == 0, result.output
    (path,) = out.iterdir()
    fps = 25  # the sample's rate; an EDL does not record it, so it is read back at it
    read = {"rate": fps} if fmt == "edl" else {}
    timeline = otio.adapters.read_from_file(str(path), **read)
    clips = list(timeline.find_clips())
    extracts = prepare(read_plan(plan), tmp_path, CutOptions(out_dir=out)).extracts
    assert len(clips) == len(extracts) == 3
    # the FCPXML reader floors rational times (201/25 s reads back as frame 200): its file
    # holds the exact frames, checked below, so one frame of slack is the reader's
    slack = 1 if fmt == "fcpxml" else 0
    written = []
    if fmt == "fcpxml":
        import xml.etree.ElementTree as ET
        from fractions import Fraction

        def frames_of(value: str) -> Fraction:
            return Fraction(value.removesuffix("s")) * fps

        written = [
            (frames_of(c.get("start", "0s")), frames_of(c.get("duration", "0s")))
            for c in ET.parse(path).iter("clip")
        ]
    for k, (clip, ex) in enumerate(zip(clips, extracts, strict=True)):
        first = round(ex.start_ms * fps / 1000)
        frames = round(ex.end_ms * fps / 1000) - first
        assert abs(clip.source_range.start_time.rescaled_to(fps).value - first) <= slack
        assert abs(clip.source_range.duration.rescaled_to(fps).value - frames) <= slack
        # CMX 3600 EDLs keep marker text in capitals
        assert [m.name.casefold() for m in clip.markers] == [ex.title.casefold()]
        if written:
            assert written[k] == (first, frames)


def test_a_vertical_extract_longer_than_shorts_allow_is_flagged(tmp_path: Path) -> None:
    from .conftest import ffmpeg

    long = tmp_path / "long.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=320x240:r=10:d=200", "-f", "lavfi",
           "-i", "sine=d=200", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(long))  # fmt: skip
    result = invoke("cut", str(long), "--start", "0", "--end", "3:10", "--aspect", "9:16",
                    "--dry-run", "-o", str(tmp_path / "out"))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        "warning: the extract is 3:10.000 long; YouTube Shorts take at most 3:00" in result.stdout
    )
