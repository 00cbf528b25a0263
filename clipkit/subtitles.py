"""The pure subtitle core: words in, broadcast-shaped cues out. No I/O; times are integer ms.

Shaping follows the Netflix Timed Text Style Guide and the BBC Subtitle Guidelines (the numbers
live in TOML profiles under `configs/profiles/`): a cue holds at most `max_lines` lines of
`max_chars_per_line` characters, is read at no more than `max_cps` characters per second
(aiming for `target_cps`), lasts between `min_duration_ms` and `max_duration_ms`, and leaves
`min_gap_ms` before the next cue. Cue boundaries are chosen by dynamic programming over the word
sequence so that sentence ends, pauses and speaker changes win over mid-phrase splits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from .linebreak import ARTICLES, SENTENCE_END, bare_word, break_lines, break_penalty, char_count


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
    if not words:
        return []
    tokens = [w.text for w in words]
    if speaker_labels != "none" and any(w.speaker for w in words):
        for k, w in enumerate(words):
            if k == 0 or w.speaker != words[k - 1].speaker:
                tokens[k] = speaker_label(speaker_labels, w.speaker) + tokens[k]
    words, tokens = split_long_words(words, tokens, profile.max_chars_per_line)
    bounds = _cue_bounds(words, tokens, profile)
    cues: list[Cue] = []
    for k, (i, j) in enumerate(bounds):
        next_start = words[bounds[k + 1][0]].start if k + 1 < len(bounds) else None
        start = words[i].start
        lines = break_lines(tokens[i:j], profile.max_chars_per_line, profile.max_lines)
        if lines is None:
            lines = (" ".join(tokens[i:j]),)
        chars = sum(char_count(t) for t in tokens[i:j]) + (j - i - 1)
        end = _display_end(start, words[j - 1].end, next_start, profile, chars, media_end)
        cues.append(Cue(start=start, end=end, lines=lines, speaker=words[i].speaker))
    return within_hard_rules(cues, profile, media_end)


def within_hard_rules(
    cues: Sequence[Cue], profile: Profile = Profile(), media_end: int | None = None
) -> list[Cue]:
    """Cues timed to keep the hard rules: time for a dense cue found nearby first
    (`make_readable`), then, for what that leaves, the cues laid out in order (`keep_hard_rules`)."""
    return keep_hard_rules(make_readable(cues, profile, media_end), profile, media_end)


MAX_WORDS_PER_CUE = 60


def _cue_bounds(
    words: Sequence[Word], tokens: Sequence[str], profile: Profile
) -> list[tuple[int, int]]:
    """Where cues begin and end ([i, j) word ranges): the cheapest split of the whole word
    sequence by dynamic programming over `_cue_cost`."""
    n = len(words)
    lengths = [char_count(t) for t in tokens]
    articles = [bare_word(t) in ARTICLES for t in tokens]
    prefix = [0]
    for width in lengths:
        prefix.append(prefix[-1] + width)

    def chars(i: int, j: int) -> int:
        return prefix[j] - prefix[i] + (j - i - 1)

    inf = float("inf")
    best = [inf] * (n + 1)
    back = [0] * (n + 1)
    best[0] = 0.0
    for j in range(1, n + 1):
        for i in range(j - 1, max(-1, j - 1 - MAX_WORDS_PER_CUE), -1):
            if chars(i, j) > profile.max_chars_per_line * profile.max_lines and j - i > 1:
                break  # a longer span only gets wider
            if best[i] == inf:
                continue
            cost = _cue_cost(words, tokens, lengths, articles, i, j, chars(i, j), profile)
            if cost is None:
                if j - i > 1:
                    continue
                cost = 1000.0  # a word alone always fits (split_long_words saw to that)
            if best[i] + cost < best[j]:
                best[j], back[j] = best[i] + cost, i
    bounds: list[tuple[int, int]] = []
    j = n
    while j > 0:
        bounds.append((back[j], j))
        j = back[j]
    return bounds[::-1]


def _split_token(token: str, width: int) -> list[str]:
    """A token wider than a line, in pieces that fit: after a hyphen or slash where one falls
    close enough to the end of a line (URLs, compounds), else at the width with a hyphen."""
    pieces = []
    while char_count(token) > width:
        head = token[:width]
        cut = max(head.rfind("-"), head.rfind("/")) + 1
        if cut < max(1, width // 2):  # no natural break near the end of the line
            cut = max(1, width - 1)
            pieces.append(token[:cut] + "-")
        else:
            pieces.append(token[:cut])
        token = token[cut:]
    return [*pieces, token] if token else pieces


def split_long_words(
    words: Sequence[Word], tokens: Sequence[str], width: int
) -> tuple[list[Word], list[str]]:
    """Words (and their display tokens) with any token wider than a line split into pieces,
    the word's time shared out by characters: a cue line can then always hold it."""
    out_words: list[Word] = []
    out_tokens: list[str] = []
    for word, token in zip(words, tokens, strict=True):
        if char_count(token) <= width:
            out_words.append(word)
            out_tokens.append(token)
            continue
        pieces = _split_token(token, width)
        total = sum(len(p) for p in pieces)
        t, seen = word.start, 0
        for piece in pieces:
            seen += len(piece)
            end = word.start + (word.end - word.start) * seen // total
            out_words.append(replace(word, start=t, end=end, text=piece))
            out_tokens.append(piece)
            t = end
    return out_words, out_tokens


def keep_hard_rules(
    cues: Sequence[Cue], profile: Profile = Profile(), media_end: int | None = None
) -> list[Cue]:
    """The last timing pass, for what `make_readable` could not find nearby: speech faster
    than the maximum reading speed for several cues in a row. Cues are laid out in order, each
    shown at least as long as its reading speed and the minimum duration need and the minimum
    gap kept, pushing later cues on (a forward pass); then, from the end of the recording
    back, cues that would run past it are pulled earlier (a backward pass). Subtitles fall a
    little behind a burst of fast speech and catch up at its next pause, rather than flash by.
    Only a recording too short for its own words (shorter than their reading time) is left
    breaking a rule."""
    need = [_required_ms(c, profile) for c in cues]
    gap = profile.min_gap_ms
    times = [[c.start, c.end] for c in cues]
    for k, t in enumerate(times):  # forward: nothing before the previous cue's end + gap
        if k:
            t[0] = max(t[0], times[k - 1][1] + gap)
        t[1] = max(t[1], t[0] + need[k])
    ceiling = media_end if media_end is not None else 1 << 62
    for k in range(len(times) - 1, -1, -1):  # backward: nothing past the next cue or the end
        t = times[k]
        if t[1] > ceiling:
            t[1] = ceiling
            t[0] = min(t[0], ceiling - need[k])
        ceiling = t[0] - gap
    if times and times[0][0] < 0:
        _share_out(times, gap, profile.min_duration_ms)
    return [
        c if (c.start, c.end) == (t[0], t[1]) else replace(c, start=t[0], end=max(t[1], t[0] + 1))
        for c, t in zip(cues, times, strict=True)
    ]


def _share_out(times: list[list[int]], gap: int, shortest: int) -> None:
    """Too little time for the words (the backward pass pushed the first cue before 0): the
    run of cues packed one after another from the first shares the time it has, the minimum
    gaps kept, each cue at least `shortest` where the time allows and the rest in proportion
    to what they needed: every cue of the run read at one speed, rather than the first
    flashing by at many times the speed of the rest."""
    last = 0
    while last + 1 < len(times) and times[last + 1][0] - times[last][1] <= gap:
        last += 1
    run = times[: last + 1]
    room = run[-1][1] - gap * last  # the time the run has to show its cues in
    if room < len(run):  # not even a millisecond a cue: keep the order, squeeze everything
        first, end = run[0][0], run[-1][1]
        for t in run:
            t[:] = [(x - first) * max(end, 0) // (end - first) for x in t]
        return
    needs = [t[1] - t[0] for t in run]
    floored: set[int] = set()  # cues held at `shortest`, the rest sharing what is left
    while True:
        left = room - shortest * len(floored)
        share = sum(n for k, n in enumerate(needs) if k not in floored)
        more = {k for k, n in enumerate(needs)
                if k not in floored and share and left * n // share < min(shortest, n)}  # fmt: skip
        if not more or left - shortest * len(more) <= 0:
            break
        floored |= more
    start = 0
    for k, (t, n) in enumerate(zip(run, needs, strict=True)):
        shown = min(shortest, n) if k in floored else n * left // share
        t[:] = [start, start + max(1, shown)]
        start = t[1] + gap


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
        if pause >= SENTENCE_PAUSE_MS and SENTENCE_END.search(tokens[j - 1]):
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
        if SENTENCE_END.search(tokens[k - 1]):
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
