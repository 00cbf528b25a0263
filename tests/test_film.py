"""`clipkit film`: moments from two recordings joined with cards, lower thirds, crossfades,
subtitles and chapters in one encode; probed, measured and looked at, never taken on trust."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import av
import numpy as np
import pytest
import srt

from clipkit.film import FilmSpec, Segment, plan_film
from clipkit.media import probe

from .conftest import SAMPLE, frame, invoke, measure_loudness
from .test_publish import fake  # noqa: F401 - the fixture

SRT_TEXT = "".join(
    f"{k + 1}\n00:00:{2 * k:02d},200 --> 00:00:{2 * k + 1:02d},800\nLine {k + 1} of the story\n\n"
    for k in range(15)
)


def spec(**change: object) -> FilmSpec:
    values = {"name": "f", "title": "T", "subtitle": "", "moments": ("a",), "end": ("E",),
              "crossfade_ms": 500, "card_ms": 3000, "lower_thirds": True, "text": ""}  # fmt: skip
    return FilmSpec(**{**values, **change})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "durations", "starts", "length"),
    [
        ({}, [5000, 7000], [0, 2500, 7000, 13500], 16500),
        ({"title": ""}, [5000, 7000], [0, 4500, 11000], 14000),
        ({"end": ()}, [5000], [0, 2500], 7500),
        ({"crossfade_ms": 0}, [5000, 7000], [0, 3000, 8000, 15000], 18000),
    ],
)
def test_the_timeline(change: dict, durations: list[int], starts: list[int], length: int) -> None:  # type: ignore[type-arg]
    moments = [Segment("moment", 0, d, f"m{k}", slug=f"m{k}") for k, d in enumerate(durations)]
    timeline = plan_film(spec(**change), moments)
    assert [s.start_ms for s in timeline] == starts
    assert timeline[-1].end_ms == length


def test_a_moment_shorter_than_two_crossfades_is_refused() -> None:
    from clipkit.errors import InputError

    with pytest.raises(InputError, match="not longer than two crossfades"):
        plan_film(spec(crossfade_ms=2000), [Segment("moment", 0, 3000, "short")])


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("film") / "project"
    assert invoke("init", str(root)).exit_code == 0
    (root / "clipkit.toml").write_text('[publish]\nplaylist = "Our Voices"\n', encoding="utf-8")
    for name in ("amira.mp4", "tom.mp4"):
        shutil.copy(SAMPLE, root / "recordings" / name)
        (root / "transcripts" / f"{Path(name).stem}.srt").write_text(SRT_TEXT, encoding="utf-8")
    (root / "stories.toml").write_text(
        '[story."amira.mp4"]\nconsent = "given"\nstoryteller = "Amira Khan"\ntitle = "Safe"\n'
        '[story."tom.mp4"]\nconsent = "given"\nstoryteller = "Tom Price"\ntitle = "Rent"\n',
        encoding="utf-8",
    )
    (root / "plan.csv").write_text(
        "source,start,end,title\n"
        "recordings/amira.mp4,2,8,First moment\n"
        "recordings/tom.mp4,10,15,Second moment\n"
        "recordings/amira.mp4,20,26,Third moment\n",
        encoding="utf-8",
    )
    assert invoke("--project", str(root), "cut", "-q").exit_code == 0
    (root / "films").mkdir()
    (root / "films" / "what-we-learned.toml").write_text(
        'title = "What we learned"\nsubtitle = "Three stories"\n'
        'moments = ["first-moment", "second-moment", "third-moment"]\n'
        'end = ["Keep the centre open", "Fund the parents group"]\ncrossfade = 0.5\ncard = 3\n',
        encoding="utf-8",
    )
    (root / "films" / "short.toml").write_text('moments = ["second-moment"]\n', encoding="utf-8")
    result = invoke("--project", str(root), "film", "-q")
    assert result.exit_code == 0, result.output
    return root


def test_the_film_is_one_file_of_the_right_length(project: Path) -> None:
    film = project / "films" / "what-we-learned.mp4"
    moments = [probe(project / "extracts" / f"{s}-moment.mp4").duration_ms
               for s in ("first", "second", "third")]  # fmt: skip
    expected = 3000 + sum(moments) + 3000 - 4 * 500
    info = probe(film)
    assert info.duration_ms == pytest.approx(expected, abs=45)  # a frame, and AAC's last packet
    assert (info.width, info.height, info.video_codec, info.audio_codec) == (
        *(probe(project / "extracts" / "first-moment.mp4").width, probe(project / "extracts" / "first-moment.mp4").height),
        "h264", "aac",
    )  # fmt: skip
    side = json.loads((project / "films" / "what-we-learned.json").read_text())
    assert [m["slug"] for m in side["film"]["moments"]] == [
        "first-moment",
        "second-moment",
        "third-moment",
    ]
    assert {m["recording"] for m in side["film"]["moments"]} == {"amira.mp4", "tom.mp4"}


def test_cards_and_lower_thirds_are_in_the_picture(project: Path) -> None:
    film = project / "films" / "what-we-learned.mp4"
    info = probe(film)
    h, w = info.height, info.width

    def bright(t: float, ys: slice, xs: slice) -> int:
        return int((frame(film, t)[ys, xs].astype(int) > 200).all(axis=2).sum())

    middle = (slice(int(h * 0.3), int(h * 0.7)), slice(0, w))
    assert bright(1.5, *middle) > 500  # the title card's text
    assert bright(info.duration_ms / 1000 - 1.5, *middle) > 200  # the end card's (smaller)
    # the storyteller's name, bottom left, a second into the first moment
    lower = (slice(int(h * 0.6), int(h * 0.8)), slice(0, int(w * 0.45)))
    first = frame(film, 3.5)
    plain = frame(project / "extracts" / "first-moment.mp4", 1.0)
    region = np.abs(first.astype(int) - plain.astype(int))[lower].max(axis=2) > 80
    assert region.sum() > 200


def test_subtitles_stay_inside_their_moment_and_chapters_mark_the_joins(project: Path) -> None:
    film = project / "films" / "what-we-learned.mp4"
    cues = list(srt.parse((project / "films" / "what-we-learned.srt").read_text()))
    assert len(cues) >= 6
    moments = [probe(project / "extracts" / f"{s}-moment.mp4").duration_ms
               for s in ("first", "second", "third")]  # fmt: skip
    starts = [2500, 2500 + moments[0] - 500, 2500 + moments[0] + moments[1] - 1000]
    bounds = [(s + 500, s + d - 500) for s, d in zip(starts, moments, strict=True)]
    for c in cues:
        a, b = c.start.total_seconds() * 1000, c.end.total_seconds() * 1000
        assert any(lo <= a and b <= hi for lo, hi in bounds), (a, b, bounds)
    with av.open(str(film)) as container:
        chapters = container.chapters()
    assert [c["metadata"].get("title") for c in chapters] == [
        "What we learned", "First moment", "Second moment", "Third moment", "Keep the centre open",
    ]  # fmt: skip
    got = [round(float(c["start"] * c["time_base"]) * 1000) for c in chapters]
    assert got == [0, *starts, starts[2] + moments[2] - 500]
    text = (project / "films" / "what-we-learned.txt").read_text()
    assert text.splitlines()[0] == "0:00 What we learned"


def test_the_film_is_at_the_target_loudness(project: Path) -> None:
    measured = measure_loudness(project / "films" / "what-we-learned.mp4")
    assert measured is not None and measured.integrated == pytest.approx(-14, abs=1.0)


def test_editing_one_film_renders_only_that_film(project: Path) -> None:
    films = project / "films"
    before = {p.name: p.stat().st_mtime_ns for p in films.glob("*.mp4")}
    again = invoke("--project", str(project), "film", "--json", "-q")
    assert [r["status"] for r in json.loads(again.stdout)] == ["skipped", "skipped"]
    spec_file = films / "short.toml"
    spec_file.write_text('title = "Short"\nmoments = ["second-moment"]\n', encoding="utf-8")
    result = invoke("--project", str(project), "film", "--json", "-q")
    assert {r["name"]: r["status"] for r in json.loads(result.stdout)} == {
        "short": "done", "what-we-learned": "skipped",
    }  # fmt: skip
    after = {p.name: p.stat().st_mtime_ns for p in films.glob("*.mp4")}
    assert after["what-we-learned.mp4"] == before["what-we-learned.mp4"]
    assert after["short.mp4"] != before["short.mp4"]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('moments = ["nosuch"]\n', "moment 'nosuch' is not a cut extract"),
        ("moments = []\n", "moments must list extract slugs"),
        ('moments = ["first-moment"]\ncolour = 1\n', "unknown key(s) colour"),
        ('moments = ["first-moment"]\ncrossfade = 9\n', "crossfade must be seconds from 0 to 2"),
        ("moments = [\n", "films/bad.toml: "),
    ],
)
def test_bad_film_files(project: Path, tmp_path: Path, text: str, error: str) -> None:
    bad = project / "films" / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    try:
        result = invoke("--project", str(project), "film", "bad", "-q")
    finally:
        bad.unlink()
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and error in result.stderr, result.stderr


def test_a_film_is_published_with_its_chapters_and_its_stories_consent(
    project: Path,
    fake,  # type: ignore[no-untyped-def]  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    from .test_publish import FAST, write_token

    write_token(fake)
    films = project / "films"
    result = invoke(
        "--project", str(project), "publish", str(films / "what-we-learned.json"), *FAST
    )
    assert result.exit_code == 0, result.output
    (video,) = fake.videos.values()
    assert video["snippet"]["title"] == "What we learned"
    assert video["snippet"]["description"].splitlines()[2] == "0:00 What we learned"
    assert len(fake.captions) == 1  # the film's subtitles
    stories = project / "stories.toml"
    kept = stories.read_text()
    stories.write_text(
        kept.replace(
            '[story."tom.mp4"]\nconsent = "given"', '[story."tom.mp4"]\nconsent = "withheld"'
        )
    )
    try:
        held = invoke(
            "--project", str(project), "publish", str(films / "what-we-learned.json"), *FAST
        )
    finally:
        stories.write_text(kept)
    assert held.exit_code == 1
    assert "tom.mp4: left out, consent is withheld" in held.stderr


def test_a_vertical_film_for_shorts(project: Path) -> None:
    (project / "films" / "short.toml").write_text('moments = ["second-moment"]\n', "utf-8")
    result = invoke("--project", str(project), "film", "short", "--vertical", "-q")
    assert result.exit_code == 0, result.output
    film = project / "films" / "short-vertical.mp4"
    info = probe(film)
    assert (info.width, info.height) == (720, 1280)
    moment = probe(project / "extracts" / "second-moment.mp4").duration_ms
    assert info.duration_ms == pytest.approx(moment, abs=45)  # no cards in this film
    # the 16:9 moment sits inside the tall frame, letterboxed, not stretched
    top = frame(film, 1.0)[:200]
    assert np.abs(top.astype(int) - np.array([0x14, 0x21, 0x3D])).max() < 30


def test_a_moment_without_speech_joins_the_film_without_subtitles(
    project: Path, tmp_path: Path
) -> None:
    """An extract with no speech in it has an empty SRT: the film is made, with no cues there."""
    copy = tmp_path / "project"
    shutil.copytree(project, copy, symlinks=True)
    (copy / "extracts" / "second-moment.srt").write_text("", encoding="utf-8")
    result = invoke("--project", str(copy), "film", "short", "-q", "--force")
    assert result.exit_code == 0, result.output
    assert (copy / "films" / "short.srt").read_text(encoding="utf-8").strip() == ""
    assert probe(copy / "films" / "short.mp4").duration_ms > 4000
