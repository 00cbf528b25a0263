"""Plans and cut points: the pure parts, table-style."""

from __future__ import annotations

import pytest

from clipkit.cut import snap_point
from clipkit.plan import PlanError, parse_plan_csv, parse_plan_toml, slugify
from clipkit.subtitles import Word

WORDS = [
    Word(1000, 1400, "We"),
    Word(1450, 1900, "didn't"),
    Word(2600, 3000, "have"),
    Word(3050, 3600, "much."),
]


@pytest.mark.parametrize(
    ("ms", "mode", "is_start", "expected"),
    [
        (1600, "words", True, 1450),  # inside "didn't": start moves to the word's start
        (1600, "words", False, 1900),  # ... and an end to the word's end
        (2200, "words", True, 2200),  # already in a pause: unchanged
        (1600, "silence", True, 2250),  # the middle of the pause 1900-2600
        (3300, "words", False, 3600),
        (5000, "silence", False, 5000),  # no pause within the tolerance
    ],
)
def test_snap_point(ms: int, mode: str, is_start: bool, expected: int) -> None:
    assert snap_point(ms, WORDS, mode, 1000, is_start) == expected


def test_snap_respects_tolerance() -> None:
    long_word = [Word(0, 5000, "Sooooo")]
    assert snap_point(4000, long_word, "words", 1000, True) == 4000


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Tom's story: part 1", "toms-story-part-1"),
        ("../../etc/passwd", "etc-passwd"),
        ("--rm -rf", "rm-rf"),
        (".hidden", "hidden"),
        ("Łódź — ein Straßenfest", "łódź-ein-straßenfest"),
        ("", "extract"),
        ("???", "extract"),
    ],
)
def test_slugify(title: str, slug: str) -> None:
    assert slugify(title) == slug
    assert "/" not in slug and not slug.startswith((".", "-"))


def test_csv_plan_with_bom_blank_rows_and_quoted_fields() -> None:
    rows = parse_plan_csv(
        "\ufeffSource,Start,End,Title,Description,Tags\n"
        'a.mp4,1,2,"One, two","He said ""hi""","x; y"\n'
        ",,,,,\n"
        "b.mp4,00:01:00:12,1:05,Three,,\n",
        "plan.csv",
    )
    assert [(r.where, r.source, r.start, r.title) for r in rows] == [
        ("plan.csv:2", "a.mp4", "1", "One, two"),
        ("plan.csv:4", "b.mp4", "00:01:00:12", "Three"),
    ]
    assert rows[0].description == 'He said "hi"' and rows[0].tags == ("x", "y")


def test_csv_plan_missing_columns() -> None:
    with pytest.raises(PlanError) as err:
        parse_plan_csv("source,title\na.mp4,x\n", "p.csv")
    assert err.value.problems == ["p.csv:1: missing column(s) start, end"]


def test_toml_plan_errors() -> None:
    with pytest.raises(PlanError) as err:
        parse_plan_toml(
            '[[extract]]\nsource = "a.mp4"\nstart = 1\n\n[[extract]]\nsorce = "b"\n', "p.toml"
        )
    assert err.value.problems == [
        "p.toml: extract 1: missing key(s) end",
        "p.toml: extract 2: unknown key(s) sorce (known: source, start, end, title, description, tags, slug, subs, style, pad, origin)",
    ]
