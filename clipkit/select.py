"""Choosing the moments from the transcript: a Markdown selection file per recording, where the
editor ticks runs of sentences and writes a heading above each (`## Title | description |
tags`); `--apply` turns each ticked run into a plan row cut at its words' bounds.

Pure functions over transcripts and text; reading and writing files happen in `write_selections` /
`apply_selections` and the CLI.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .find import Sentence, sentences_of
from .fsutil import read_user_text
from .project import Project
from .subtitles import Word
from .timecode import format_clock, parse_timecode
from .transcript import PARAGRAPH_PAUSE_MS, Transcript

HEADER = """<!--
Choose the moments of this recording (clipkit select).
1. Tick the sentences of a moment: change "- [ ]" to "- [x]" on each, in a run.
2. Above the first ticked sentence of each moment, write a heading:
   ## Title | description | tags; separated; by; semicolons
3. Run `clipkit select --apply` (or `make extracts`): every heading's ticked run becomes a row
   of plan.csv, cut at the first word's start and the last word's end, padded a little.
Running `clipkit select` again keeps your ticks and headings. Lines you add elsewhere are kept
only as notes; the times in brackets are where each sentence starts.
-->
"""
SENTENCE_LINE = re.compile(r"^- \[(?P<tick>[ xX])\] \[(?P<time>[\d:.]+)\] (?P<text>.*)$")
HEADING_LINE = re.compile(r"^## (?P<heading>.+)$")
RECORDING_LINE = re.compile(r"^recording: (?P<path>.+)$")


def sentence_key(start_ms: int, text: str) -> tuple[int, str]:
    """A sentence's identity in a selection file: its start to the tenth of a second, its text."""
    return start_ms // 100, " ".join(text.split())  # the tenths the file shows (truncated)


@dataclass(frozen=True)
class Marks:
    """What an editor wrote in a selection file: ticked sentences and headings (each anchored
    to the sentence it stands above)."""

    ticked: frozenset[tuple[int, str]]
    headings: dict[tuple[int, str], str]


def read_marks(text: str) -> Marks:
    ticked: set[tuple[int, str]] = set()
    headings: dict[tuple[int, str], str] = {}
    pending: str | None = None
    for line in text.splitlines():
        if m := HEADING_LINE.match(line):
            pending = m["heading"].strip()
        elif m := SENTENCE_LINE.match(line):
            key = sentence_key(parse_timecode(m["time"]), m["text"])
            if m["tick"] in "xX":
                ticked.add(key)
            if pending is not None:
                headings[key] = pending
                pending = None
    return Marks(frozenset(ticked), headings)


def render_selection(
    title: str, recording: str, transcript: Transcript, marks: Marks | None = None
) -> tuple[str, list[str]]:
    """The selection file for a transcript, carrying over an earlier file's marks. Returns the
    text and warnings about marks whose sentence changed (a new transcription)."""
    marks = marks or Marks(frozenset(), {})
    sentences = sentences_of(transcript.words)
    keys = [sentence_key(s.start, s.text) for s in sentences]
    carried = _carry(marks, keys)
    lines = [f"# {title}: choose the moments", "", HEADER, f"recording: {recording}", ""]
    previous: Sentence | None = None
    for sentence, key in zip(sentences, keys, strict=True):
        if previous is None or _new_paragraph(previous, sentence):
            who = f" {sentence.speaker}" if sentence.speaker else ""
            lines += ["", f"### [{format_clock(sentence.start).rsplit('.', 1)[0]}]{who}"]
        if key in carried.headings:
            lines += ["", f"## {carried.headings[key]}"]
        tick = "x" if key in carried.ticked else " "
        lines.append(f"- [{tick}] [{format_clock(sentence.start)[:-2]}] {sentence.text}")
        previous = sentence
    warnings = [
        f"a marked sentence changed or is gone after a new transcription: "
        f"[{format_clock(k[0] * 100)[:-2]}] {k[1]}"
        for k in sorted((marks.ticked | set(marks.headings)) - set(keys))
        if k not in carried.moved
    ]
    warnings += [
        f"a marked sentence changed after a new transcription; its mark is kept on "
        f"[{format_clock(new[0] * 100)[:-2]}] {new[1]} (was: {old[1]})"
        for old, new in carried.moved.items()
    ]
    return "\n".join(lines) + "\n", warnings


@dataclass(frozen=True)
class _Carried:
    ticked: set[tuple[int, str]]
    headings: dict[tuple[int, str], str]
    moved: dict[tuple[int, str], tuple[int, str]]


def _carry(marks: Marks, keys: list[tuple[int, str]]) -> _Carried:
    """Marks on sentences that still exist stay; a mark whose sentence changed moves to the
    new sentence starting within a second of it."""
    present = set(keys)
    moved: dict[tuple[int, str], tuple[int, str]] = {}
    for old in (marks.ticked | set(marks.headings)) - present:
        near = min(keys, key=lambda k: abs(k[0] - old[0]), default=None)
        if near is not None and abs(near[0] - old[0]) <= 10:
            moved[old] = near
    ticked = {moved.get(k, k) for k in marks.ticked} & present
    headings = {moved.get(k, k): h for k, h in marks.headings.items() if moved.get(k, k) in present}
    return _Carried(ticked, headings, moved)


def _new_paragraph(previous: Sentence, sentence: Sentence) -> bool:
    return (
        sentence.speaker != previous.speaker or sentence.start - previous.end >= PARAGRAPH_PAUSE_MS
    )


@dataclass(frozen=True)
class Moment:
    """A ticked run under a heading: what becomes a plan row."""

    title: str
    description: str
    tags: tuple[str, ...]
    first: tuple[int, str]  # the keys of its first and last sentences
    last: tuple[int, str]
    line: int  # where its heading is in the selection file


def read_moments(text: str, where: str) -> list[Moment]:
    """The editor's moments: each heading with the run of ticked sentences under it."""
    moments: list[Moment] = []
    problems: list[str] = []
    heading: tuple[str, str, tuple[str, ...], int] | None = None
    run: list[tuple[int, str]] = []

    def close() -> None:
        nonlocal run
        if run and heading is not None:
            title, description, tags, line = heading
            if any(m.line == line for m in moments):
                problems.append(
                    f"{where}:{line}: the heading {title!r} has two separate ticked runs; "
                    "give the second its own heading"
                )
            else:
                moments.append(Moment(title, description, tags, run[0], run[-1], line))
        run = []

    for number, line in enumerate(text.splitlines(), start=1):
        if m := HEADING_LINE.match(line):
            close()
            parts = [p.strip() for p in m["heading"].split("|")]
            title = parts[0]
            if not title:
                problems.append(f"{where}:{number}: a heading needs a title before the first |")
            description = parts[1] if len(parts) > 1 else ""
            tags = tuple(
                t.strip() for t in (parts[2] if len(parts) > 2 else "").split(";") if t.strip()
            )
            heading = (title, description, tags, number)
        elif m := SENTENCE_LINE.match(line):
            if m["tick"] in "xX":
                if heading is None:
                    problems.append(
                        f"{where}:{number}: a ticked sentence with no heading above it "
                        "(write `## Title | description | tags` above the moment)"
                    )
                    continue
                run.append(sentence_key(parse_timecode(m["time"]), m["text"]))
            else:
                close()
    close()
    if problems:
        from .errors import PlanError

        raise PlanError(problems)
    return moments


def moment_bounds(moment: Moment, words: Sequence[Word], pad_ms: int) -> tuple[int, int]:
    """In and out points: the first word's start and the last word's end, padded, and kept out
    of the words before and after."""
    sentences = sentences_of(words)
    keys = [sentence_key(s.start, s.text) for s in sentences]
    try:
        first, last = keys.index(moment.first), keys.index(moment.last)
    except ValueError as exc:
        raise InputError(
            f"the moment {moment.title!r} names sentences the transcript no longer has; "
            "run `clipkit select` to refresh the selection file"
        ) from exc
    return padded_bounds(words, sentences[first].start, sentences[last].end, pad_ms)


def padded_bounds(words: Sequence[Word], start: int, end: int, pad_ms: int) -> tuple[int, int]:
    """`start`..`end` (a run of whole words) padded by `pad_ms`, but never past the middle of
    the gap to the word before or after."""
    before = max((w.end for w in words if w.end <= start), default=None)
    after = min((w.start for w in words if w.start >= end), default=None)
    start = max(start - pad_ms, 0 if before is None else (before + start) // 2)
    end = end + pad_ms if after is None else min(end + pad_ms, (end + after) // 2)
    return start, end


def plan_rows(
    moments: Sequence[Moment], words: Sequence[Word], source: str, origin: str, pad_ms: int
) -> list[dict[str, str]]:
    """Plan rows, each marked with the selection (file and line) it came from."""
    rows = []
    for moment in moments:
        start, end = moment_bounds(moment, words, pad_ms)
        rows.append({
            "source": source, "start": format_clock(start), "end": format_clock(end),
            "title": moment.title, "description": moment.description,
            "tags": ";".join(moment.tags), "origin": f"{origin}:{moment.line}",
        })  # fmt: skip
    return rows


def selection_path(project_root: Path, recording: Path) -> Path:
    return project_root / "selections" / f"{recording.stem}.md"


# --- files ---------------------------------------------------------------------------------


def write_selections(project: Project, recordings: Sequence[Path]) -> tuple[list[Path], list[str]]:
    """Write (or refresh, keeping the editor's marks) selections/NAME.md for each recording
    with a transcript. Returns the files and warnings."""
    from .formats import read_transcript
    from .fsutil import atomic_write_text

    written, warnings = [], []
    for recording in recordings:
        transcript_file = project.transcripts / f"{recording.stem}.json"
        if not transcript_file.is_file():
            warnings.append(f"{recording.name}: no transcript yet (run `clipkit transcribe`)")
            continue
        path = selection_path(project.root, recording)
        marks = read_marks(read_user_text(path)) if path.is_file() else None
        text, changed = render_selection(
            recording.stem, str(recording.relative_to(project.root)),
            read_transcript(transcript_file), marks,
        )  # fmt: skip
        warnings += [f"{path.name}: {w}" for w in changed]
        path.parent.mkdir(exist_ok=True)
        if not path.is_file() or read_user_text(path) != text:
            atomic_write_text(path, text)
        written.append(path)
    return written, warnings


def apply_selections(project: Project, pad_ms: int) -> dict[str, int]:
    """Every selection file's moments into plan.csv: rows from a selection are replaced (never
    duplicated) on each apply; rows written by hand are kept as they are. {file: rows}."""
    from .formats import read_transcript
    from .plan import update_plan

    folder = project.root / "selections"
    counts: dict[str, int] = {}
    for path in sorted(folder.glob("*.md")) if folder.is_dir() else []:
        text = read_user_text(path)
        recording = next(
            (m["path"] for line in text.splitlines() if (m := RECORDING_LINE.match(line))), None
        )
        if recording is None:
            raise InputError(f"{path}: no `recording:` line (run `clipkit select` to remake it)")
        transcript_file = project.transcripts / f"{Path(recording).stem}.json"
        if not transcript_file.is_file():
            raise InputError(f"{path}: no transcript {transcript_file.name} for {recording}")
        origin = str(path.relative_to(project.root))
        moments = read_moments(text, str(path))
        words = read_transcript(transcript_file).words
        rows = plan_rows(moments, words, recording, origin, pad_ms)
        mark = f"{origin}:"  # this selection's rows are replaced, never duplicated
        update_plan(
            project.plan, rows, drop=lambda r, mark=mark: (r.get("origin") or "").startswith(mark)
        )
        counts[origin] = len(moments)
    return counts
