"""Search a project's transcripts: phrases (case- and punctuation-insensitive) or regular
expressions, each hit with its recording, time, speaker and sentence; hits can become plan rows
cut at sentence bounds. Pure functions over transcripts; reading and writing happen in callers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import InputError
from .subtitles import Word
from .timecode import format_clock
from .transcript import Transcript

SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
LONG_PAUSE_MS = 2000


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    words: tuple[Word, ...]
    speaker: str | None

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


@dataclass(frozen=True)
class Hit:
    recording: str  # the transcript's name (its recording's stem)
    source: str  # the recording as the transcript records it
    start: int  # the first matched word
    end: int
    matched: str
    speaker: str | None
    sentences: tuple[Sentence, ...]  # the enclosing sentence with its context

    @property
    def clip_start(self) -> int:
        return self.sentences[0].start

    @property
    def clip_end(self) -> int:
        return self.sentences[-1].end


def sentences_of(words: Sequence[Word]) -> list[Sentence]:
    """Split at sentence-ending punctuation, speaker changes and long pauses."""
    out: list[Sentence] = []
    current: list[Word] = []
    for k, w in enumerate(words):
        if current and (
            w.speaker != current[-1].speaker or w.start - current[-1].end > LONG_PAUSE_MS
        ):
            out.append(
                Sentence(current[0].start, current[-1].end, tuple(current), current[0].speaker)
            )
            current = []
        current.append(w)
        if SENTENCE_END.search(w.text) or k == len(words) - 1:
            out.append(
                Sentence(current[0].start, current[-1].end, tuple(current), current[0].speaker)
            )
            current = []
    return out


def normalize(token: str) -> str:
    text = unicodedata.normalize("NFKC", token).casefold().replace("’", "'")
    return re.sub(r"^[^\w]+|[^\w]+$", "", text)


def _phrase_spans(words: Sequence[Word], phrase: str) -> list[tuple[int, int]]:
    wanted = [t for t in (normalize(x) for x in re.split(r"[\s\-–—]+", phrase)) if t]
    if not wanted:
        raise InputError("empty search phrase")
    tokens = [normalize(w.text) for w in words]
    n = len(wanted)
    return [(i, i + n) for i in range(len(tokens) - n + 1) if tokens[i : i + n] == wanted]


REGEX_TIMEOUT_S = 5.0  # per transcript: a backtracking pattern must not run for ever


def _regex_spans(words: Sequence[Word], pattern: str, name: str = "") -> list[tuple[int, int]]:
    """Word spans a user's regular expression matches, through the `regex` module: Python's `re`
    cannot be stopped, `regex` stops after REGEX_TIMEOUT_S."""
    import bisect

    import regex

    try:
        compiled = regex.compile(pattern, regex.IGNORECASE | regex.VERSION0)
    except (regex.error, OverflowError, RecursionError) as exc:
        raise InputError(f"invalid regular expression {pattern!r}: {exc}") from exc
    starts, parts, length = [], [], 0
    for w in words:
        starts.append(length)
        parts.append(w.text + " ")
        length += len(w.text) + 1
    text = "".join(parts)
    spans = []
    try:
        for m in compiled.finditer(text, timeout=REGEX_TIMEOUT_S):
            if m.end() == m.start():
                continue
            first = bisect.bisect_right(starts, m.start()) - 1
            last = bisect.bisect_left(starts, m.end()) - 1
            spans.append((first, last + 1))
    except TimeoutError as exc:
        raise InputError(
            f"the regular expression {pattern!r} ran over {REGEX_TIMEOUT_S:g} s on "
            f"{name or 'a transcript'} and was stopped; simplify it (a repeat inside a repeat, "
            "like (a|aa)+, can take for ever)"
        ) from exc
    return spans


def search(
    transcripts: dict[str, Transcript], query: str, regex: bool = False, context: int = 0
) -> list[Hit]:
    hits: list[Hit] = []
    for name in sorted(transcripts):
        t = transcripts[name]
        words = t.words
        if not words:
            continue
        sentences = sentences_of(words)
        index_of: list[int] = []
        for k, s in enumerate(sentences):
            index_of += [k] * len(s.words)
        spans = _regex_spans(words, query, name) if regex else _phrase_spans(words, query)
        for a, b in spans:
            first, last = index_of[a], index_of[b - 1]
            window = sentences[max(0, first - context) : last + context + 1]
            hits.append(
                Hit(
                    recording=name,
                    source=t.source,
                    start=words[a].start,
                    end=words[b - 1].end,
                    matched=" ".join(w.text for w in words[a:b]),
                    speaker=words[a].speaker,
                    sentences=tuple(window),
                )
            )
    return hits


def pick_hits(numbered: list[tuple[int, Hit]], spec: str) -> list[tuple[int, Hit]]:
    """The hits an editor picked by their printed numbers ("1,3" or "2-4")."""
    wanted: set[int] = set()
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        first, _, last = part.partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            raise InputError(f"--pick {spec!r}: give hit numbers as printed, e.g. 1,3 or 2-4")
        wanted.update(range(int(first), int(last or first) + 1))
    unknown = sorted(wanted - {n for n, _ in numbered})
    if unknown:
        raise InputError(
            f"--pick: no hit {', '.join(map(str, unknown))} (there are {len(numbered)})"
        )
    return [(n, h) for n, h in numbered if n in wanted]


def plan_rows(
    hits: Sequence[Hit], sources: dict[str, str], lead_ms: int = 300, tail_ms: int = 500
) -> list[dict[str, str]]:
    """Plan rows for hits, each cut at its sentences' bounds, with a slug of its own (recording
    and time) and no title: the editor writes it, and `cut` refuses the row until then (the
    hit's text goes into the description to help)."""
    from .plan import slugify

    rows: list[dict[str, str]] = []
    seen: set[tuple[str, int, int]] = set()
    for hit in hits:
        start, end = max(0, hit.clip_start - lead_ms), hit.clip_end + tail_ms
        key = (sources[hit.recording], start, end)
        if key in seen:
            continue
        seen.add(key)
        rows.append({
            "source": sources[hit.recording], "start": format_clock(start),
            "end": format_clock(end), "title": "",
            "description": " ".join(s.text for s in hit.sentences), "tags": "",
            "slug": slugify(f"{hit.recording}-{format_clock(start).replace(':', '-')}"),
            "origin": FIND_ORIGIN,
        })  # fmt: skip
    return rows


FIND_ORIGIN = "find"  # rows `find --to-plan` added: they need a title before `cut` takes them


def filter_hits(
    hits: list[Hit], recording: str | None = None, speaker: str | None = None
) -> list[Hit]:
    """Only the hits in `recording` (its name or its file's name) and said by `speaker`
    (as the transcript names them, any case)."""
    from pathlib import Path

    if recording:
        hits = [h for h in hits if recording in (h.recording, Path(h.source).name)]
    if speaker:
        hits = [h for h in hits if (h.speaker or "").casefold() == speaker.casefold()]
    return hits
