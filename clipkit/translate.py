"""An English subtitle track for a story told in another language, on the same cues.

Whisper's translate task turns speech into English text. Translating the whole recording gives
English segments with their own times, which do not line up with the original's cues; here each
run of cues that makes a sentence (a *unit*: up to the next full stop, pause or change of
speaker, and never longer than Whisper's 30 s window) is translated on its own audio, and the
English words are shared out over that unit's cues in proportion to the original's characters.
A viewer switching languages sees the same cue at the same time in both tracks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .errors import InputError
from .linebreak import break_lines, char_count
from .subtitles import Cue, Profile, within_hard_rules

# Whisper's translate task writes English and nothing else
TRANSLATION_TARGETS = ("en",)
MAX_UNIT_MS = 25_000  # under Whisper's 30 s window, with the padding
MIN_UNIT_MS = 8_000  # a sentence alone is too little context: Whisper invents on 2 s clips
MAX_UNIT_GAP_MS = 1_500
SENTENCE_END = (".", "?", "!", "…", "。", "？", "！")
PADDING_MS = 150  # audio either side of a unit, so its first and last words are whole


@dataclass(frozen=True)
class Unit:
    first: int  # index of its first cue
    last: int  # index of its last cue (inclusive)
    start_ms: int
    end_ms: int


def check_target(language: str | None) -> str | None:
    if not language:
        return None
    language = language.strip().lower()
    if language not in TRANSLATION_TARGETS:
        raise InputError(
            f"--translate {language}: Whisper translates into English only (--translate en)"
        )
    return language


def translation_units(cues: Sequence[Cue]) -> list[Unit]:
    """Runs of cues to translate together: a unit ends with a sentence once it holds enough
    context, at a pause, at a change of speaker, or before it would outgrow Whisper's window."""
    units: list[Unit] = []
    first = 0
    for k, cue in enumerate(cues):
        last_text = cue.lines[-1].rstrip("\"'”»)") if cue.lines else ""
        nxt = cues[k + 1] if k + 1 < len(cues) else None
        ends = (
            nxt is None
            or (last_text.endswith(SENTENCE_END) and cue.end - cues[first].start >= MIN_UNIT_MS)
            or nxt.start - cue.end > MAX_UNIT_GAP_MS
            or nxt.speaker != cue.speaker
            or nxt.end - cues[first].start > MAX_UNIT_MS
        )
        if ends:
            units.append(Unit(first, k, cues[first].start, cue.end))
            first = k + 1
    return units


def spread_text(text: str, cues: Sequence[Cue], profile: Profile) -> list[Cue]:
    """`text` shared out over `cues` (their times kept) in proportion to each cue's characters,
    each broken into lines by `profile`. A cue left without words is dropped."""
    tokens = text.split()
    if not tokens or not cues:
        return []
    weights = [max(1, char_count(" ".join(c.lines))) for c in cues]
    sizes = [char_count(t) + 1 for t in tokens]
    total_weight, total_chars = sum(weights), sum(sizes)
    ends, acc = [0], 0  # ends[i]: characters before token i
    for size in sizes:
        acc += size
        ends.append(acc)
    cuts, acc, previous = [], 0, 0
    for w in weights[:-1]:  # a cut before token i, near the cue's share, at punctuation if near
        acc += w
        target = acc / total_weight * total_chars
        best = min(
            range(previous, len(tokens) + 1),
            key=lambda i: abs(ends[i] - target) - _break_bonus(tokens, i),
        )
        cuts.append(best)
        previous = best
    bounds = [0, *cuts, len(tokens)]
    groups = [list(tokens[bounds[k] : bounds[k + 1]]) for k in range(len(cues))]
    lines_hold = profile.max_chars_per_line * profile.max_lines

    def room(k: int) -> int:
        """What cue k can show: its lines, and what can be read in its time (English often
        runs longer than the original, and the track keeps the original's times)."""
        if not profile.max_cps:
            return lines_hold
        readable = int(profile.max_cps * (cues[k].end - cues[k].start) / 1000)
        return max(1, min(lines_hold, readable))

    def size(words: list[str]) -> int:
        return char_count(" ".join(words))

    for k in range(len(groups) - 1):  # what overflows a cue moves on to the next one
        while len(groups[k]) > 1 and size(groups[k]) > room(k):
            groups[k + 1].insert(0, groups[k].pop())
    for k in range(len(groups) - 1, 0, -1):  # and back, where the cue before has room
        while len(groups[k]) > 1 and size(groups[k]) > room(k):
            if size([*groups[k - 1], groups[k][0]]) > room(k - 1):
                break
            groups[k - 1].append(groups[k].pop(0))
    out = []
    for cue, words in zip(cues, groups, strict=True):
        out += _as_cues(cue, words, profile)
    return out


def _as_cues(cue: Cue, words: list[str], profile: Profile) -> list[Cue]:
    """`words` on `cue`'s time; words more than its lines hold (every neighbour full) are
    shown as several cues sharing its time by characters rather than as a third line."""
    pieces: list[tuple[str, ...]] = []
    rest = list(words)
    while rest:
        for k in range(len(rest), 0, -1):  # the most words from the front that fit the lines
            lines = break_lines(rest[:k], profile.max_chars_per_line, profile.max_lines)
            if lines is not None:
                break
        else:  # one word wider than the lines: shown alone
            k, lines = 1, (rest[0],)
        pieces.append(lines)
        rest = rest[k:]
    if len(pieces) <= 1:
        return [replace(cue, lines=lines) for lines in pieces]
    weights = [char_count(" ".join(lines)) for lines in pieces]
    span, total, seen, out = cue.end - cue.start, sum(weights), 0, []
    start = cue.start
    for lines, weight in zip(pieces, weights, strict=True):
        seen += weight
        end = cue.start + span * seen // total
        out.append(replace(cue, start=start, end=max(end, start + 1), lines=lines))
        start = end + profile.min_gap_ms
    return out


def _break_bonus(tokens: Sequence[str], i: int) -> float:
    """How many characters off its share a cue may end to end at a sentence or a clause."""
    if i == 0 or i == len(tokens):
        return 0.0
    before = tokens[i - 1].rstrip("\"'”»)")
    if before.endswith(SENTENCE_END):
        return 15.0
    return 6.0 if before.endswith((",", ";", ":")) else 0.0


def translate_cues(
    cues: Sequence[Cue],
    clips: Callable[[Sequence[Unit]], Iterator[tuple[Unit, Any]]],
    translate: Callable[[Any], str],
    profile: Profile,
    media_end: int | None = None,
) -> list[Cue]:
    """The English track: each unit's audio (from `clips`) translated, spread over its cues.
    Where the English is longer than its cues can be read in, those cues are held longer
    (as the original's are for fast speech) and the next ones follow on: the hard rules are
    kept first, the original's times wherever the English allows."""
    units = translation_units(cues)
    out: list[Cue] = []
    for unit, audio in clips(units):
        english = translate(audio)
        out += spread_text(english, cues[unit.first : unit.last + 1], profile)
    return within_hard_rules(out, profile, media_end)


def unit_clips(
    blocks: Iterable[Any], units: Sequence[Unit], sample_rate: int
) -> Iterator[tuple[Unit, Any]]:
    """Each unit's samples (with padding) from a stream of audio blocks, holding only what the
    next unit needs: bounded memory on long recordings."""
    import numpy as np

    def sample(ms: int) -> int:
        return max(0, ms) * sample_rate // 1000

    buffer = np.zeros(0, dtype=np.float32)
    offset = 0  # the sample index of buffer[0]
    stream = iter(blocks)
    exhausted = False
    for unit in units:
        lo, hi = sample(unit.start_ms - PADDING_MS), sample(unit.end_ms + PADDING_MS)
        while not exhausted and offset + len(buffer) < hi:
            block = next(stream, None)
            if block is None:
                exhausted = True
            else:
                buffer = np.concatenate([buffer, block])
        drop = max(0, min(lo - offset, len(buffer)))
        buffer, offset = buffer[drop:], offset + drop
        clip = buffer[max(0, lo - offset) : max(0, hi - offset)]
        if len(clip):
            yield unit, clip
