"""Where subtitle lines break: characters counted as a reader sees them, and the break that
keeps phrases together (Netflix and BBC rules: never after an article or before a closing
word, prefer clause ends, balance the lines). Pure; English word classes, punctuation rules for
every language.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence


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
ARTICLES = frozenset(("a", "an", "the"))  # a line never ends with one
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
SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
CLAUSE_END = re.compile(r"[,;:—–-][\"'”’)\]]*$")


def bare_word(word: str) -> str:
    return re.sub(r"^[^\w']+|[^\w']+$", "", word).lower()


def _is_auxiliary(bare: str) -> bool:
    return bare in _AUXILIARIES or bare.endswith(("n't", "'re", "'ve", "'ll", "'d", "'m"))


def _is_name_part(word: str) -> bool:
    bare = re.sub(r"^[^\w]+|[^\w]+$", "", word)
    return bool(bare) and bare[0].isupper() and bare.lower() not in _PRONOUNS


def break_penalty(before: str, after: str) -> float:
    """Cost of breaking between two words (lines or cues). Low is a good place to break."""
    if SENTENCE_END.search(before):
        return 0.0
    if CLAUSE_END.search(before):
        return 1.5
    prev, nxt = bare_word(before), bare_word(after)
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
            if any(bare_word(tokens[b - 1]) in ARTICLES for b in breaks):
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
