"""The pure subtitle core: words in, broadcast-shaped cues out. No I/O; times are integer ms.

Shaping follows the Netflix Timed Text Style Guide and the BBC Subtitle Guidelines (the numbers
live in TOML profiles under `configs/profiles/`): a cue holds at most `max_lines` lines of
`max_chars_per_line` characters, is read at no more than `max_cps` characters per second
(aiming for `target_cps`), lasts between `min_duration_ms` and `max_duration_ms`, and leaves
`min_gap_ms` before the next cue. Cue boundaries are chosen by dynamic programming over the word
sequence so that sentence ends, pauses and speaker changes win over mid-phrase splits.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import srt as srtlib

from .errors import SubtitleError
from .timecode import format_vtt_time


@dataclass(frozen=True)
class Word:
    start: int
    end: int
    text: str
    probability: float = 1.0
    speaker: str | None = None


@dataclass(frozen=True)
class Cue:
    start: int
    end: int
    lines: tuple[str, ...]
    speaker: str | None = None

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def chars(self) -> int:
        """Characters a viewer reads: the lines joined by a space, counted as characters."""
        return char_count(" ".join(self.lines))

    @property
    def duration(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Profile:
    name: str = "netflix-en"
    max_chars_per_line: int = 42
    max_lines: int = 2
    target_cps: float = 17.0
    max_cps: float = 20.0
    min_duration_ms: int = 833
    max_duration_ms: int = 7000
    min_gap_ms: int = 80
    linger_ms: int = 500
    max_pause_in_cue_ms: int = 1500


@dataclass(frozen=True)
class Violation:
    cue: int  # 1-based, as numbered in the SRT
    rule: str
    value: float
    limit: float
    hard: bool

    def describe(self) -> str:
        kind = "hard" if self.hard else "soft"
        return f"cue {self.cue}: {self.rule} {self.value:g} (limit {self.limit:g}, {kind})"


def char_count(text: str) -> int:
    """Count user-perceived characters (NFC code points, no combining marks), never bytes."""
    normal = unicodedata.normalize("NFC", text)
    return sum(1 for ch in normal if not unicodedata.combining(ch))


# --- line breaking -------------------------------------------------------------------------

# Word classes for English line-break rules. Other languages get the punctuation and balance
# rules only; the lists are deliberately small and conservative.
_ARTICLES_DETERMINERS = frozenset(
    "a an the this that these those my your his her its our their some any every no each "
    "another such what which whose".split()
)
_ARTICLES = frozenset(("a", "an", "the"))  # a line never ends with one
_CONJUNCTIONS = frozenset(
    "and but or nor so yet because although though while whereas if unless until since "
    "when whenever where wherever that which who whom whose as than whether".split()
)
_PREPOSITIONS = frozenset(
    "of in on at to for with from by about into onto over after before under between through "
    "during without within against among around across behind beyond like near towards toward "
    "upon via".split()
)
_AUXILIARIES = frozenset(
    "am is are was were be been being have has had do does did will would shall should can "
    "could may might must".split()
)
_PRONOUNS = frozenset("i you he she it we they".split())
_OBJECT_PRONOUNS = frozenset("me him us them".split())
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
_CLAUSE_END = re.compile(r"[,;:—–-][\"'”’)\]]*$")


def _bare(word: str) -> str:
    return re.sub(r"^[^\w']+|[^\w']+$", "", word).lower()


def _is_auxiliary(bare: str) -> bool:
    return bare in _AUXILIARIES or bare.endswith(("n't", "'re", "'ve", "'ll", "'d", "'m"))


def _is_name_part(word: str) -> bool:
    bare = re.sub(r"^[^\w]+|[^\w]+$", "", word)
    return bool(bare) and bare[0].isupper() and bare.lower() not in _PRONOUNS


def break_penalty(before: str, after: str) -> float:
    """Cost of breaking between two words (lines or cues). Low is a good place to break."""
    if _SENTENCE_END.search(before):
        return 0.0
    if _CLAUSE_END.search(before):
        return 1.5
    prev, nxt = _bare(before), _bare(after)
    if prev in _ARTICLES_DETERMINERS:
        return 12.0  # article/determiner + noun stay together
    if prev in _PRONOUNS and _is_auxiliary(nxt):
        return 10.0  # pronoun + verb
    if _is_auxiliary(prev) and nxt not in _CONJUNCTIONS and nxt not in _PREPOSITIONS:
        return 14.0  # auxiliary + verb or subject ("didn't | have", "I'm | going", "Could | you")
    if prev in _PRONOUNS:
        return 10.0  # pronoun + verb (Netflix keeps them together)
    if _is_name_part(before) and _is_name_part(after):
        return 10.0  # first + last name
    if nxt in _OBJECT_PRONOUNS:
        return 8.0  # verb + its object pronoun ("tell me")
    if nxt in _CONJUNCTIONS:
        return 2.0  # before a conjunction (also after a preposition: "about | where you...")
    if prev in _PREPOSITIONS:
        return 8.0  # preposition + its object
    if nxt in _PREPOSITIONS:
        return 2.0  # before a preposition
    if nxt in _PRONOUNS:
        return 3.0  # a new clause often starts with its subject
    return 6.0


def break_lines(tokens: Sequence[str], max_chars: int, max_lines: int) -> tuple[str, ...] | None:
    """Split words into the fewest lines that fit, choosing good, balanced, bottom-heavy breaks.

    Returns None when the words cannot fit in `max_lines` lines of `max_chars` characters.
    """
    return _break_lines(tuple(tokens), max_chars, max_lines)


def _break_lines(tokens: tuple[str, ...], max_chars: int, max_lines: int) -> tuple[str, ...] | None:
    if not tokens:
        return ()
    whole = " ".join(tokens)
    if char_count(whole) <= max_chars:
        return (whole,)
    n = len(tokens)
    lengths = [char_count(t) for t in tokens]

    def span(i: int, j: int) -> int:
        return sum(lengths[i:j]) + (j - i - 1)

    for line_count in range(2, max_lines + 1):
        candidates: list[tuple[float, tuple[int, ...]]] = []
        for breaks in _all_partitions(n, line_count, span, max_chars):
            if any(_bare(tokens[b - 1]) in _ARTICLES for b in breaks):
                continue  # never "the | centre": an article stays with its noun
            widths = [span(a, b) for a, b in zip((0, *breaks), (*breaks, n), strict=True)]
            cost = sum(break_penalty(tokens[b - 1], tokens[b]) for b in breaks)
            mean = sum(widths) / len(widths)
            cost += sum(abs(w - mean) for w in widths) / 8.0  # balance matters less than syntax
            # bottom-heavy: a top line longer than the one below costs a little more
            cost += sum(0.5 for a, b in zip(widths, widths[1:], strict=False) if a > b)
            candidates.append((cost, breaks))
        if candidates:
            _, breaks = min(candidates, key=lambda c: (c[0], c[1]))
            bounds = list(zip((0, *breaks), (*breaks, n), strict=True))
            return tuple(" ".join(tokens[a:b]) for a, b in bounds)
    return None


def _all_partitions(n: int, parts: int, span, max_chars: int):  # type: ignore[no-untyped-def]
    """Every way to cut n words into `parts` non-empty lines that each fit."""

    def rec(i: int, k: int):  # type: ignore[no-untyped-def]
        if k == 1:
            if span(i, n) <= max_chars:
                yield ()
            return
        for j in range(i + 1, n - k + 2):
            if span(i, j) > max_chars:
                break
            for rest in rec(j, k - 1):
                yield (j, *rest)

    yield from rec(0, parts)


# --- shaping words into cues ---------------------------------------------------------------


def clean_words(words: Iterable[Word]) -> list[Word]:
    """Strip whitespace, drop empty words, and make times monotonic and non-negative."""
    out: list[Word] = []
    for w in words:
        text = " ".join(w.text.split())
        if not text:
            continue
        start = max(w.start, 0, out[-1].start if out else 0)
        out.append(replace(w, text=text, start=start, end=max(w.end, start)))
    return out


CLOSING_GAP_MS = 500


def _display_end(
    start: int,
    last_end: int,
    next_start: int | None,
    profile: Profile,
    chars: int,
    media_end: int | None = None,
) -> int:
    """Up to `linger_ms` after the last word; longer only where a hard rule needs it (minimum
    duration, maximum reading speed); never into the gap before the next cue, never past the
    maximum duration, never past the end of the recording."""
    readable = start + -(-chars * 1000 // int(profile.max_cps)) if profile.max_cps else start
    end = max(last_end + profile.linger_ms, start + profile.min_duration_ms, readable)
    if profile.target_cps:  # a little longer, where the gap allows, to reach the target speed
        target = start + int(-(-chars * 1000 // profile.target_cps))
        end = max(end, min(target, last_end + 2 * profile.linger_ms))
    end = min(end, start + profile.max_duration_ms)
    if next_start is not None:
        end = min(end, next_start - profile.min_gap_ms)
        if next_start - end < CLOSING_GAP_MS:  # Netflix: a short gap is closed to 2 frames
            end = min(next_start - profile.min_gap_ms, start + profile.max_duration_ms)
    if media_end is not None:
        end = min(end, media_end)
    return max(end, start + 1)


def speaker_label(style: str, speaker: str | None) -> str:
    """The text put before the first words of a speaker's turn."""
    if style == "prefix" and speaker:
        return f"{speaker.upper()}: "
    if style == "dash":
        return "- "
    return ""


def shape_words(
    words: Sequence[Word],
    profile: Profile = Profile(),
    speaker_labels: str = "none",
    media_end: int | None = None,
) -> list[Cue]:
    """Group timed words into cues that meet the profile, preferring natural break points.
    `media_end`: the recording's length; no cue runs past it.

    With `speaker_labels` "prefix" (`NAME: `) or "dash" (`- `), the first cue of each speaker
    turn is marked; the label counts towards the line length.
    """
    words = clean_words(words)
    n = len(words)
    if n == 0:
        return []
    tokens = [w.text for w in words]
    if speaker_labels != "none" and any(w.speaker for w in words):
        for k, w in enumerate(words):
            if k == 0 or w.speaker != words[k - 1].speaker:
                tokens[k] = speaker_label(speaker_labels, w.speaker) + tokens[k]
    lengths = [char_count(t) for t in tokens]
    articles = [_bare(t) in _ARTICLES for t in tokens]
    prefix = [0]
    for width in lengths:
        prefix.append(prefix[-1] + width)

    def chars(i: int, j: int) -> int:
        return prefix[j] - prefix[i] + (j - i - 1)

    max_words = 60
    inf = float("inf")
    best = [inf] * (n + 1)
    back = [0] * (n + 1)
    best[0] = 0.0
    for j in range(1, n + 1):
        for i in range(j - 1, max(-1, j - 1 - max_words), -1):
            if chars(i, j) > profile.max_chars_per_line * profile.max_lines and j - i > 1:
                break  # a longer span only gets wider
            if best[i] == inf:
                continue
            cost = _cue_cost(words, tokens, lengths, articles, i, j, chars(i, j), profile)
            if cost is None:
                if j - i > 1:
                    continue
                cost = 1000.0  # a single word that cannot fit: keep it alone, check reports it
            total = best[i] + cost
            if total < best[j]:
                best[j] = total
                back[j] = i
    bounds: list[tuple[int, int]] = []
    j = n
    while j > 0:
        i = back[j]
        bounds.append((i, j))
        j = i
    bounds.reverse()
    cues: list[Cue] = []
    for k, (i, j) in enumerate(bounds):
        next_start = words[bounds[k + 1][0]].start if k + 1 < len(bounds) else None
        start = words[i].start
        lines = break_lines(tokens[i:j], profile.max_chars_per_line, profile.max_lines)
        if lines is None:
            lines = (" ".join(tokens[i:j]),)
        end = _display_end(start, words[j - 1].end, next_start, profile, chars(i, j), media_end)
        cues.append(Cue(start=start, end=end, lines=lines, speaker=words[i].speaker))
    return make_readable(cues, profile, media_end)


SHIFT_MAX_MS = 500  # how far a cue may appear before its first word, or after it


def _required_ms(cue: Cue, profile: Profile) -> int:
    """The shortest time a cue can be shown within the hard rules."""
    readable = -(-cue.chars * 1000 // int(profile.max_cps)) if profile.max_cps else 0
    return min(max(readable, profile.min_duration_ms), profile.max_duration_ms)


def make_readable(
    cues: Sequence[Cue], profile: Profile = Profile(), media_end: int | None = None
) -> list[Cue]:
    """Fast speech can pack a cue past the maximum reading speed (or under the minimum
    duration) when the next cue follows at once. Such a cue gets the time it needs from the
    gaps around it, then from its neighbours' slack: it may appear up to SHIFT_MAX_MS before
    its first word, the previous cue may leave early and the next come late by as much, but
    never below what they need themselves. What the speech cannot give is left as it is."""
    times = [[c.start, c.end] for c in cues]
    need = [_required_ms(c, profile) for c in cues]
    firsts = [c.start for c in cues]
    gap = profile.min_gap_ms
    limit = media_end if media_end is not None else 1 << 62
    for k in range(len(times)):
        short = need[k] - (times[k][1] - times[k][0])
        if short <= 0:
            continue
        # 1. later end: into the gap before the next cue
        ceiling = min(times[k + 1][0] - gap if k + 1 < len(times) else limit,
                      times[k][0] + profile.max_duration_ms, limit)  # fmt: skip
        take = max(0, min(short, ceiling - times[k][1]))
        times[k][1] += take
        short -= take
        # 2. the next cue a little later, where it has time to spare
        if short > 0 and k + 1 < len(times):
            nxt = times[k + 1]
            spare = min(nxt[1] - nxt[0] - need[k + 1], firsts[k + 1] + SHIFT_MAX_MS - nxt[0])
            take = max(0, min(short, spare, times[k][0] + profile.max_duration_ms - times[k][1]))
            nxt[0] += take
            times[k][1] += take
            short -= take
        # 3. an earlier start: into the gap after the previous cue, then from its spare time
        floor = max(firsts[k] - SHIFT_MAX_MS, 0)
        if short > 0:
            prev_end = times[k - 1][1] + gap if k > 0 else 0
            take = max(0, min(short, times[k][0] - max(floor, prev_end)))
            times[k][0] -= take
            short -= take
        if short > 0 and k > 0:
            prev = times[k - 1]
            spare = prev[1] - prev[0] - need[k - 1]
            take = max(0, min(short, spare, times[k][0] - floor))
            prev[1] -= take
            times[k][0] -= take
    return [replace(c, start=t[0], end=t[1]) for c, t in zip(cues, times, strict=True)]


def _fits(
    lengths: Sequence[int], max_chars: int, max_lines: int, articles: Sequence[bool] = ()
) -> bool:
    """Whether words of these widths fit in max_lines lines, no line ending with an article
    (`articles[k]`: word k is one). Greedy filling uses the fewest lines; an article that would
    end a line moves down with its noun."""
    lines, width, start = 1, -1, 0
    for k, n in enumerate(lengths):
        if n > max_chars:
            return False
        if width + 1 + n <= max_chars:
            width += 1 + n
            continue
        lines, width, start_before, start = lines + 1, n, start, k
        if articles and articles[k - 1]:  # the article goes down to its noun
            if k - 1 == start_before:
                return False  # alone on its line: nothing is left above it
            width, start = lengths[k - 1] + 1 + n, k - 1
            if width > max_chars:
                return False
        if lines > max_lines:
            return False
    return True


SENTENCE_PAUSE_MS = 300


def _cue_cost(
    words: Sequence[Word],
    tokens: Sequence[str],
    lengths: Sequence[int],
    articles: Sequence[bool],
    i: int,
    j: int,
    chars: int,
    profile: Profile,
) -> float | None:
    """Cost of one cue holding words[i:j] (`chars` wide on one line), or None when it breaks a
    hard rule."""
    n = len(words)
    if j - i > 1:
        if any(words[k].speaker != words[i].speaker for k in range(i + 1, j)):
            return None  # a speaker change starts a new cue
        if words[j - 1].end - words[i].start > profile.max_duration_ms:
            return None
        if not _fits(lengths[i:j], profile.max_chars_per_line, profile.max_lines, articles[i:j]):
            return None
    next_start = words[j].start if j < n else None
    start = words[i].start
    end = _display_end(start, words[j - 1].end, next_start, profile, chars)
    cps = chars / max((end - start) / 1000.0, 0.001)

    cost = 4.0  # fewer, fuller cues read better than many flashes
    if j < n:
        pause = words[j].start - words[j - 1].end
        cost += break_penalty(tokens[j - 1], tokens[j])
        if pause >= 700:
            cost -= 2.0
        elif pause >= 250:
            cost -= 1.0
        if pause >= SENTENCE_PAUSE_MS and _SENTENCE_END.search(tokens[j - 1]):
            cost -= 3.0  # a new sentence after a pause starts a new cue, on its speech
    if cps > profile.max_cps:
        cost += 60.0 + 20.0 * (cps - profile.max_cps)
    elif cps > profile.target_cps:
        cost += 3.0 * (cps - profile.target_cps)
    if end - start < profile.min_duration_ms:
        cost += 40.0
    for k in range(i + 1, j):
        pause = words[k].start - words[k - 1].end
        if pause > profile.max_pause_in_cue_ms:
            cost += 30.0  # don't hang a cue over silence
        # a sentence end inside a cue is fine, but a cue that starts a new sentence mid-way
        # and runs on reads worse than one that stops there
        if _SENTENCE_END.search(tokens[k - 1]):
            cost += 1.5
    return cost


# --- checking ------------------------------------------------------------------------------


def label_cues(cues: Sequence[Cue], style: str) -> list[Cue]:
    """Mark the first cue of each speaker turn (for cues kept as they are, not reshaped)."""
    if style == "none":
        return list(cues)
    out = []
    for k, cue in enumerate(cues):
        if cue.speaker and cue.lines and (k == 0 or cue.speaker != cues[k - 1].speaker):
            cue = replace(
                cue, lines=(speaker_label(style, cue.speaker) + cue.lines[0], *cue.lines[1:])
            )
        out.append(cue)
    return out


def check_cues(
    cues: Sequence[Cue], profile: Profile = Profile(), media_end: int | None = None
) -> list[Violation]:
    """Every rule each cue breaks. Hard rules fail `subs check`; soft ones are advice.
    `media_end`: the recording's length in ms; a cue running past it is a hard break."""
    found: list[Violation] = []
    for idx, cue in enumerate(cues, start=1):
        if media_end is not None and cue.end > media_end:
            found.append(Violation(idx, "past-end", cue.end, media_end, True))
        if len(cue.lines) > profile.max_lines:
            found.append(Violation(idx, "lines", len(cue.lines), profile.max_lines, True))
        for line in cue.lines:
            width = char_count(line)
            if width > profile.max_chars_per_line:
                found.append(
                    Violation(idx, "chars-per-line", width, profile.max_chars_per_line, True)
                )
        seconds = cue.duration / 1000.0
        if cue.duration <= 0:
            found.append(Violation(idx, "duration", cue.duration, profile.min_duration_ms, True))
            continue
        cps = round(cue.chars / seconds, 1)
        if cps > profile.max_cps:
            found.append(Violation(idx, "reading-speed", cps, profile.max_cps, True))
        elif cps > profile.target_cps:
            found.append(Violation(idx, "reading-speed", cps, profile.target_cps, False))
        if cue.duration < profile.min_duration_ms:
            found.append(
                Violation(idx, "min-duration", cue.duration, profile.min_duration_ms, True)
            )
        if cue.duration > profile.max_duration_ms:
            found.append(
                Violation(idx, "max-duration", cue.duration, profile.max_duration_ms, True)
            )
        if idx < len(cues):
            gap = cues[idx].start - cue.end
            if gap < 0:
                found.append(Violation(idx, "overlap", -gap, 0, True))
            elif gap < profile.min_gap_ms:
                found.append(Violation(idx, "gap", gap, profile.min_gap_ms, True))
    return found


def share_within_target(cues: Sequence[Cue], profile: Profile = Profile()) -> float:
    """Fraction of cues read at or below the target reading speed."""
    if not cues:
        return 1.0
    ok = sum(
        1
        for c in cues
        if c.duration > 0 and c.chars / (c.duration / 1000) <= profile.target_cps + 0.05
    )
    return ok / len(cues)


# --- slicing and shifting ------------------------------------------------------------------


def shift_cues(cues: Iterable[Cue], offset_ms: int) -> list[Cue]:
    """Move every cue by offset_ms; cues pushed wholly before 0 are dropped, partly ones clipped."""
    out = []
    for cue in cues:
        start, end = cue.start + offset_ms, cue.end + offset_ms
        if end <= 0:
            continue
        out.append(replace(cue, start=max(start, 0), end=end))
    return out


EDGE_MIN_MS = 300  # a cue clipped to less than this at an extract's edge is dropped


def slice_cues(cues: Iterable[Cue], start_ms: int, end_ms: int, min_ms: int = 0) -> list[Cue]:
    """The cues overlapping [start, end), re-timed to start at 0; edge cues clipped, not dropped
    (unless less than `min_ms` of them is left: a flash nobody can read)."""
    if end_ms <= start_ms:
        raise ValueError("slice end must be after its start")
    out = []
    for cue in cues:
        if cue.end <= start_ms or cue.start >= end_ms:
            continue
        if min(cue.end, end_ms) - max(cue.start, start_ms) < min_ms:
            continue
        out.append(
            replace(
                cue,
                start=max(cue.start, start_ms) - start_ms,
                end=min(cue.end, end_ms) - start_ms,
            )
        )
    return out


def slice_words(words: Iterable[Word], start_ms: int, end_ms: int) -> list[Word]:
    """Words whose middle lies in [start, end), re-timed to the slice."""
    out = []
    for w in words:
        mid = (w.start + w.end) // 2
        if start_ms <= mid < end_ms:
            out.append(
                replace(
                    w, start=max(w.start, start_ms) - start_ms, end=min(w.end, end_ms) - start_ms
                )
            )
    return out


def words_from_cues(cues: Iterable[Cue]) -> list[Word]:
    """Spread each cue's time over its words by character count (for SRTs without word timing)."""
    out: list[Word] = []
    for cue in cues:
        tokens = " ".join(cue.lines).split()
        if not tokens:
            continue
        total = sum(char_count(t) + 1 for t in tokens)
        t = cue.start
        for tok in tokens:
            share = (char_count(tok) + 1) * cue.duration // total
            out.append(Word(start=t, end=t + max(share - 1, 0), text=tok, speaker=cue.speaker))
            t += share
    return out


# --- formats -------------------------------------------------------------------------------


def render_srt(cues: Sequence[Cue]) -> str:
    """SRT text (UTF-8 when encoded, no BOM, LF line ends) via the `srt` library."""
    from datetime import timedelta

    items = [
        srtlib.Subtitle(
            index=i,
            start=timedelta(milliseconds=c.start),
            end=timedelta(milliseconds=c.end),
            content=c.text,
        )
        for i, c in enumerate(cues, start=1)
    ]
    return srtlib.compose(items, reindex=False)


def _vtt_escape(text: str) -> str:
    """Cue text as WebVTT reads it: `&`, `<` and `>` escaped (else `<b>` in a transcript, or a
    speaker named `A>B`, would be markup), no blank line (it would end the cue)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"\n\s*\n", "\n", text).strip("\n")


def render_vtt(cues: Sequence[Cue]) -> str:
    parts = ["WEBVTT", ""]
    for c in cues:
        text = _vtt_escape(c.text).replace("--&gt;", "-&gt;")
        if c.speaker:
            text = f"<v {_vtt_escape(' '.join(c.speaker.split()))}>{text}"
        parts += [f"{format_vtt_time(c.start)} --> {format_vtt_time(c.end)}", text, ""]
    return "\n".join(parts)


def parse_srt(text: str, source: str = "<srt>", allow_overlap: bool = False) -> list[Cue]:
    """Parse SRT text into cues, with an error naming the file and line on malformed input.

    Overlapping or out-of-order cues are errors unless `allow_overlap` (for `subs check`, which
    reports them as rule breaks instead).
    """
    if "\x00" in text:
        raise SubtitleError(f"{source}: not a subtitle file (binary data)")
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise SubtitleError(f"{source}: empty subtitle file")
    try:
        items = list(srtlib.parse(text, ignore_errors=False))
    except srtlib.SRTParseError as exc:
        line = text.count("\n", 0, exc.expected_start) + 1
        raise SubtitleError(f"{source}:{line}: malformed SRT cue") from exc
    except ValueError as exc:
        raise SubtitleError(f"{source}: malformed SRT ({exc})") from exc
    # the k-th timing line belongs to the k-th cue; its number line is just above it
    timing_lines = [n for n, ln in enumerate(text.split("\n"), start=1) if _SRT_TIMING.match(ln)]
    cues: list[Cue] = []
    lines_of: list[int] = []
    for k, item in enumerate(items):
        start = int(item.start.total_seconds() * 1000 + 0.5)
        end = int(item.end.total_seconds() * 1000 + 0.5)
        lines = tuple(ln.strip() for ln in item.content.split("\n") if ln.strip())
        cues.append(Cue(start=start, end=end, lines=lines))
        lines_of.append(max(timing_lines[k] - 1, 1) if k < len(timing_lines) else 1)
    return _checked_order(cues, lines_of, source, allow_overlap)


_SRT_TIMING = re.compile(r"^\s*\d+:\d{2}:\d{2}[,.]\d{1,3}\s*-->")


def _checked_order(
    cues: list[Cue], lines_of: list[int], source: str, allow_overlap: bool
) -> list[Cue]:
    if not cues:
        raise SubtitleError(f"{source}: no subtitle cues found")
    for k, cue in enumerate(cues):
        where = f"{source}:{lines_of[k]}: cue {k + 1}"
        if cue.end <= cue.start:
            raise SubtitleError(f"{where} ends before it starts")
        if k and not allow_overlap:
            previous = cues[k - 1]
            if cue.start < previous.start:
                raise SubtitleError(f"{where} starts before the previous cue")
            if cue.start < previous.end:
                raise SubtitleError(
                    f"{where} overlaps the previous cue (starts {format_vtt_time(cue.start)}, "
                    f"previous ends {format_vtt_time(previous.end)})"
                )
    return cues


_VTT_TIMING = re.compile(
    r"^\s*(?P<start>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{3})\s+-->\s+(?P<end>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{3})(?:\s.*)?$"
)
_VOICE = re.compile(r"^<v(?:\.[^ >]*)?\s+([^>]+)>")
_TAG = re.compile(r"</?[^>]+>")
_ZOOM_SPEAKER = re.compile(r"^(?P<name>[^:\n]{1,60}?):\s+(?P<text>\S.*)$", re.DOTALL)


def _vtt_ms(stamp: str) -> int:
    parts = stamp.replace(",", ".").split(":")
    seconds = float(parts[-1])
    minutes = int(parts[-2])
    hours = int(parts[-3]) if len(parts) == 3 else 0
    return (hours * 3600 + minutes * 60) * 1000 + int(round(seconds * 1000))


def parse_vtt(
    text: str, source: str = "<vtt>", zoom_speakers: bool | None = None, allow_overlap: bool = False
) -> list[Cue]:
    """Parse WebVTT, including Zoom cloud-recording transcripts (`Speaker Name: text`).

    Speakers come from `<v Name>` voice tags, or from Zoom's `Name: ` prefixes. With
    `zoom_speakers=None` the prefixes are taken as speakers when most cues carry one and the
    names are few; True or False forces the choice.
    """
    if "\x00" in text:
        raise SubtitleError(f"{source}: not a subtitle file (binary data)")
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise SubtitleError(f"{source}: empty subtitle file")
    lines = text.split("\n")
    if not lines[0].startswith("WEBVTT"):
        raise SubtitleError(f"{source}:1: missing WEBVTT header (is this an SRT file?)")
    raw: list[tuple[int, int, list[str], int]] = []
    k = 1
    while k < len(lines):
        line = lines[k]
        if line.startswith(("NOTE", "STYLE", "REGION")):
            while k < len(lines) and lines[k].strip():
                k += 1
            continue
        match = _VTT_TIMING.match(line)
        if match is None and "-->" in line:
            raise SubtitleError(f"{source}:{k + 1}: malformed cue timing")
        if match:
            start, end = _vtt_ms(match["start"]), _vtt_ms(match["end"])
            timing_line = k + 1
            body = []
            k += 1
            while k < len(lines) and lines[k].strip():
                body.append(lines[k].strip())
                k += 1
            raw.append((start, end, body, timing_line))
            continue
        k += 1
    if not raw:
        raise SubtitleError(f"{source}: no subtitle cues found")

    def voice(body: list[str]) -> str | None:
        m = _VOICE.match(body[0]) if body else None
        return html.unescape(m.group(1).strip()) if m else None

    joined = [" ".join(body) for _, _, body, _ in raw]
    prefixed = [m for t in joined if (m := _ZOOM_SPEAKER.match(_TAG.sub("", t)))]
    if zoom_speakers is None:
        names = {m["name"].strip() for m in prefixed}
        zoom_speakers = len(prefixed) * 2 >= len(raw) and len(names) <= max(2, len(raw) // 3)
    cues: list[Cue] = []
    for start, end, body, _ in raw:
        speaker = voice(body)
        body = [html.unescape(_TAG.sub("", b)).strip() for b in body]
        body = [b for b in body if b]
        if zoom_speakers and body:
            m = _ZOOM_SPEAKER.match(" ".join(body))
            if m:
                speaker = m["name"].strip()
                body = [m["text"].strip()]
        cues.append(Cue(start=start, end=end, lines=tuple(body), speaker=speaker))
    return _checked_order(cues, [r[3] for r in raw], source, allow_overlap)
