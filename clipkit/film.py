"""A film across stories: moments (cut extracts, by slug) joined with crossfades, a title card,
the speaker's name as a lower third at each moment, an end card (recommendations, credits),
chapters at the joins, in one encode. The film is described in `films/NAME.toml`:

    title = "What we learned"
    subtitle = "Stories from the Leeds parents' group"
    moments = ["growing-up-in-leeds", "when-the-centre-closed"]
    end = ["Keep the centre open", "Fund the parents' group"]
    crossfade = 0.5       # seconds
    card = 3.0            # seconds each card shows

The timeline is pure (`plan_film`): integer ms, tested table-style; `render_film` turns it into
one ffmpeg run through the ffmpeg room.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .errors import InputError
from .project import Project
from .sidecar import EXTRACT_FORMAT
from .subtitle_text import render_srt
from .subtitles import Cue
from .timecode import format_clock

KEYS = {"title", "subtitle", "moments", "end", "crossfade", "card", "lower_thirds"}


@dataclass(frozen=True)
class FilmSpec:
    name: str
    title: str
    subtitle: str
    moments: tuple[str, ...]
    end: tuple[str, ...]
    crossfade_ms: int
    card_ms: int
    lower_thirds: bool
    text: str  # the file as written: part of what the film is made from


@dataclass(frozen=True)
class Segment:
    kind: str  # "card" or "moment"
    start_ms: int  # on the film's timeline, where its crossfade in begins
    duration_ms: int
    label: str  # the chapter's name
    slug: str = ""
    video: Path | None = None
    srt: Path | None = None
    speaker: str = ""
    story: str = ""
    recording: str = ""

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.duration_ms


def read_film(path: Path) -> FilmSpec:
    from .fsutil import read_user_text

    text = read_user_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: {exc}") from exc
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise InputError(
            f"{path}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(KEYS))})"
        )
    moments = data.get("moments")
    if not isinstance(moments, list) or not moments or not all(isinstance(m, str) for m in moments):
        raise InputError(f'{path}: moments must list extract slugs, e.g. ["growing-up-in-leeds"]')
    end = data.get("end", [])
    end = [end] if isinstance(end, str) else end
    if not isinstance(end, list) or not all(isinstance(e, str) for e in end):
        raise InputError(f"{path}: end must be a line of text or a list of lines")

    def seconds(key: str, default: float, low: float, high: float) -> int:
        value = data.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise InputError(f"{path}: {key} must be seconds from {low:g} to {high:g}")
        return round(value * 1000)

    return FilmSpec(
        name=path.stem, title=str(data.get("title", "")), subtitle=str(data.get("subtitle", "")),
        moments=tuple(moments), end=tuple(end), crossfade_ms=seconds("crossfade", 0.5, 0, 2),
        card_ms=seconds("card", 3.0, 1, 15), lower_thirds=bool(data.get("lower_thirds", True)),
        text=text,
    )  # fmt: skip


def plan_film(spec: FilmSpec, moments: Sequence[Segment]) -> list[Segment]:
    """The film's timeline: the title card, the moments, the end card, each overlapping the one
    before by the crossfade. Pure: `moments` carry their durations."""
    pieces: list[Segment] = []
    if spec.title:
        pieces.append(Segment("card", 0, spec.card_ms, spec.title))
    pieces += list(moments)
    if spec.end:
        pieces.append(Segment("card", 0, spec.card_ms, spec.end[0]))
    cf = spec.crossfade_ms
    too_short = [p.label for p in pieces if p.duration_ms <= 2 * cf]
    if too_short:
        raise InputError(f"{spec.name}: {too_short[0]!r} is not longer than two crossfades")
    out, at = [], 0
    for k, piece in enumerate(pieces):
        start = at - (cf if k else 0)
        out.append(Segment(**{**piece.__dict__, "start_ms": start}))
        at = start + piece.duration_ms
    return out


def film_length(timeline: Sequence[Segment]) -> int:
    return timeline[-1].end_ms if timeline else 0


def chapters_text(timeline: Sequence[Segment]) -> str:
    """A YouTube description's chapter list: `0:00 Title`, one line per segment."""
    return "".join(
        f"{format_clock(max(0, s.start_ms)).rsplit('.', 1)[0]} {s.label}\n" for s in timeline
    )


def ffmetadata(spec: FilmSpec, timeline: Sequence[Segment]) -> str:
    """ffmpeg's metadata file: the title and a chapter at each join."""

    def esc(text: str) -> str:
        for ch in ("\\", "=", ";", "#", "\n"):
            text = text.replace(ch, "\\" + ch)
        return text

    lines = [";FFMETADATA1", f"title={esc(spec.title or spec.name)}"]
    for k, s in enumerate(timeline):
        end = timeline[k + 1].start_ms if k + 1 < len(timeline) else s.end_ms
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={max(0, s.start_ms)}", f"END={end}",
                  f"title={esc(s.label)}"]  # fmt: skip
    return "\n".join(lines) + "\n"


def film_cues(timeline: Sequence[Segment], cf: int) -> list[Cue]:
    """The film's subtitles: each moment's cues moved to its place, kept inside its own part of
    the timeline (none across a join: during a crossfade neither side's cue shows)."""
    from .formats import has_cues, read_cues

    out: list[Cue] = []
    for k, s in enumerate(timeline):
        if s.kind != "moment" or s.srt is None or not has_cues(s.srt):
            continue
        low = s.start_ms + (cf if k else 0)
        high = s.end_ms - (cf if k + 1 < len(timeline) else 0)
        for c in read_cues(s.srt):
            start, end = max(low, c.start + s.start_ms), min(high, c.end + s.start_ms)
            if end - start >= 200:
                out.append(Cue(start, end, c.lines, c.speaker))
    return out


def overlay_ass(spec: FilmSpec, timeline: Sequence[Segment], width: int, height: int) -> str:
    """The cards' text and the lower thirds, as one ASS script on the film's timeline."""
    import pysubs2

    short = min(width, height)
    doc = pysubs2.SSAFile()
    doc.info.update({"PlayResX": str(width), "PlayResY": str(height), "WrapStyle": "0",
                     "ScaledBorderAndShadow": "yes"})  # fmt: skip
    white, black = pysubs2.Color(255, 255, 255), pysubs2.Color(0, 0, 0, 80)
    doc.styles = {
        "Card": pysubs2.SSAStyle(fontname="DejaVu Sans", fontsize=round(0.075 * short), bold=True,
                                 primarycolor=white, outlinecolor=black, outline=0, shadow=0,
                                 alignment=pysubs2.Alignment.MIDDLE_CENTER,
                                 marginl=round(0.08 * width), marginr=round(0.08 * width)),
        "Small": pysubs2.SSAStyle(fontname="DejaVu Sans", fontsize=round(0.045 * short),
                                  primarycolor=white, outlinecolor=black, outline=0, shadow=0,
                                  alignment=pysubs2.Alignment.MIDDLE_CENTER,
                                  marginl=round(0.08 * width), marginr=round(0.08 * width)),
        "Lower": pysubs2.SSAStyle(fontname="DejaVu Sans", fontsize=round(0.045 * short), bold=True,
                                  primarycolor=white, backcolor=black, outlinecolor=black,
                                  borderstyle=3, outline=round(0.01 * short), shadow=0,
                                  alignment=pysubs2.Alignment.BOTTOM_LEFT,
                                  marginl=round(0.05 * width), marginv=round(0.22 * height)),
    }  # fmt: skip

    def lit(text: str) -> str:
        return text.replace("\\", "/").replace("{", "(").replace("}", ")").replace("\n", " ")

    for k, s in enumerate(timeline):
        start, end = max(0, s.start_ms), s.end_ms
        if s.kind == "card" and k == 0 and spec.title:
            text = lit(spec.title) + (r"\N{\rSmall}" + lit(spec.subtitle) if spec.subtitle else "")
            doc.events.append(pysubs2.SSAEvent(start=start, end=end, text=text, style="Card"))
        elif s.kind == "card":
            doc.events.append(pysubs2.SSAEvent(start=start, end=end, style="Small",
                                               text=r"\N".join(lit(x) for x in spec.end)))  # fmt: skip
        elif spec.lower_thirds and (s.speaker or s.story):
            who = " · ".join(x for x in (s.speaker, s.story) if x)
            shown = start + spec.crossfade_ms + 300
            doc.events.append(pysubs2.SSAEvent(start=shown, end=min(end, shown + 4000),
                                               text=lit(who), style="Lower"))  # fmt: skip
    return doc.to_string("ass")


def film_args(
    timeline: Sequence[Segment], cf: int, width: int, height: int, fps: str, ass: str,
    metadata: str, output: str, fonts: str,
) -> list[str]:  # fmt: skip
    """One ffmpeg run for the whole film: every piece brought to one size, rate and sound,
    crossfaded in order, the cards' text and lower thirds drawn over, chapters added."""
    from .ffmpeg import escape_filter_value

    args: list[str] = []
    for s in timeline:
        if s.kind == "card":
            seconds = f"{s.duration_ms / 1000:.3f}"
            args += ["-f", "lavfi", "-i", f"color=c=0x14213d:s={width}x{height}:r={fps}:d={seconds}",
                     "-f", "lavfi", "-i", f"anullsrc=r=48000:cl=stereo:d={seconds}"]  # fmt: skip
        else:
            args += ["-i", str(s.video)]
    args += ["-f", "ffmetadata", "-i", metadata]
    graph, index = [], 0
    for k, s in enumerate(timeline):
        v, a = (
            (f"{index}:v", f"{index + 1}:a")
            if s.kind == "card"
            else (f"{index}:v:0", f"{index}:a:0")
        )
        index += 2 if s.kind == "card" else 1
        seconds = f"{s.duration_ms / 1000:.3f}"
        graph.append(
            f"[{v}]scale={width}:{height}:force_original_aspect_ratio=decrease,"
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=0x14213d,setsar=1,fps={fps},"
            f"format=yuv420p,trim=duration={seconds},setpts=PTS-STARTPTS[v{k}]"
        )
        graph.append(
            f"[{a}]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,"
            f"atrim=duration={seconds},asetpts=PTS-STARTPTS,apad=whole_dur={seconds}[a{k}]"
        )
    video, audio = "v0", "a0"
    for k in range(1, len(timeline)):
        offset = timeline[k].start_ms / 1000
        if cf:
            graph.append(
                f"[{video}][v{k}]xfade=transition=fade:duration={cf / 1000:.3f}:offset={offset:.3f}[x{k}]"
            )
            graph.append(f"[{audio}][a{k}]acrossfade=d={cf / 1000:.3f}:c1=tri:c2=tri[y{k}]")
        else:
            graph.append(f"[{video}][v{k}]concat=n=2:v=1:a=0[x{k}]")
            graph.append(f"[{audio}][a{k}]concat=n=2:v=0:a=1[y{k}]")
        video, audio = f"x{k}", f"y{k}"
    graph.append(
        f"[{video}]subtitles=filename={escape_filter_value(ass)}:fontsdir={escape_filter_value(fonts)}[vout]"
    )
    total = film_length(timeline) / 1000
    return args + [
        "-filter_complex", ";".join(graph), "-map", "[vout]", "-map", f"[{audio}]",
        "-map_metadata", str(index), "-map_chapters", str(index),
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "160k", "-ar", "48000", "-t", f"{total:.3f}",
        "-movflags", "+faststart", "-f", "mp4", output,
    ]  # fmt: skip


@dataclass(frozen=True)
class FilmResult:
    name: str
    status: str  # done, skipped
    video: Path
    duration_ms: int
    left_out: tuple[str, ...] = ()


def film_moments(project: Project, spec: FilmSpec, where: Path) -> tuple[list[Segment], list[str]]:
    """The moments of a film from the project's cut extracts, consent and sign-off kept."""
    from .media import probe
    from .sidecar import NotASidecar, read_sidecar
    from .signoff import left_out, load_signoffs, required, state_of
    from .stories import consent_of, load_stories

    stories = load_stories(project.root)
    signoffs = load_signoffs(project.extracts)
    moments, notes, states = [], [], {}
    for slug in spec.moments:
        sidecar = project.extracts / f"{slug}.json"
        try:
            side = read_sidecar(sidecar)
        except NotASidecar as exc:
            raise InputError(f"{where}: moment {slug!r}: {exc}") from exc
        except InputError as exc:
            if not sidecar.exists():
                raise InputError(
                    f"{where}: moment {slug!r} is not a cut extract (run `clipkit cut`; "
                    f"extracts are named by their slug)"
                ) from exc
            raise
        recording = Path(side.source).name
        if consent_of(stories, recording) != "given":
            notes.append(f"{slug}: left out, the consent of {recording} is not given")
            continue
        if required(project.settings):
            states[slug] = state_of(signoffs, slug, side.sha256)
            if states[slug] != "approved":
                continue
        video = project.extracts / side.video
        story = stories.get(recording)
        moments.append(Segment(
            "moment", 0, probe(video).duration_ms, side.title, slug=slug, video=video,
            srt=project.extracts / side.srt if side.srt else None,
            speaker=story.storyteller if story else "", story=story.title if story else "",
            recording=recording,
        ))  # fmt: skip
    notes += left_out(states)
    if not moments:
        raise InputError(f"{where}: no moment of the film may go online")
    return moments, notes


def _sha_of(project: Project, slug: str) -> str:
    from .sidecar import read_sidecar

    return read_sidecar(project.extracts / f"{slug}.json").sha256


def film_recipe(spec: FilmSpec, timeline: Sequence[Segment], size: tuple[int, int]) -> str:
    from .ffmpeg import sha256_file

    data = {
        "clipkit": __version__, "spec": spec.text, "size": size,
        "videos": [sha256_file(s.video) if s.video else s.label for s in timeline],
        "subs": [hashlib.sha256(s.srt.read_bytes()).hexdigest() if s.srt and s.srt.is_file() else "" for s in timeline],
        "people": [(s.speaker, s.story) for s in timeline],
    }  # fmt: skip
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _write_companions(
    project: Project, spec: FilmSpec, path: Path, out: Path, suffix: str,
    timeline: Sequence[Segment], moments: Sequence[Segment], recipe: str,
) -> None:  # fmt: skip
    """The film's SRT, its chapter list, and an extract sidecar as `publish` reads it (the
    description carries YouTube's chapters), with the film's moments for consent and sign-off."""
    from .ffmpeg import sha256_file
    from .fsutil import atomic_write_text

    atomic_write_text(out.with_suffix(".srt"), render_srt(film_cues(timeline, spec.crossfade_ms)))
    chapters = chapters_text(timeline)
    atomic_write_text(out.with_suffix(".txt"), chapters)
    data = {
        "format": EXTRACT_FORMAT, "kind": "film", "clipkit_version": __version__,
        "title": spec.title or spec.name, "description": (spec.subtitle + "\n\n" if spec.subtitle else "") + chapters,
        "tags": [], "slug": spec.name + suffix, "source": "", "video": out.name,
        "subtitles": {"srt": out.with_suffix(".srt").name, "vtt": "", "cues": 0},
        "start": 0, "end": film_length(timeline) / 1000, "duration": film_length(timeline) / 1000,
        "sha256": sha256_file(out), "recipe": recipe, "plan_row": f"{path.name}:1",
        "film": {"moments": [{"slug": s.slug, "sha256": _sha_of(project, s.slug),
                              "recording": s.recording} for s in moments]},
    }  # fmt: skip
    atomic_write_text(
        out.with_suffix(".json"), json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    )


def render_film(
    project: Project, path: Path, force: bool = False, vertical: bool = False,
    on_progress: Any = None,
) -> FilmResult:  # fmt: skip
    """films/NAME.toml into films/NAME.mp4 (+ .srt, .txt chapters, .json); skipped when the film
    and everything it is made from are unchanged."""
    from .ffmpeg import run_ffmpeg
    from .fsutil import atomic_path, item_lock, temp_dir
    from .media import probe
    from .resources import fonts_dir

    spec = read_film(path)
    moments, notes = film_moments(project, spec, path)
    timeline = plan_film(spec, moments)
    first = probe(moments[0].video)  # type: ignore[arg-type]
    width, height = (720, 1280) if vertical else (first.width or 1280, first.height or 720)
    width, height = width - width % 2, height - height % 2
    fps = str(first.frame_rate or 25)
    suffix = "-vertical" if vertical else ""
    out = path.parent / f"{spec.name}{suffix}.mp4"
    sidecar = out.with_suffix(".json")
    recipe = film_recipe(spec, timeline, (width, height))
    with item_lock(out):
        if not force and out.is_file() and sidecar.is_file():
            try:
                if json.loads(sidecar.read_text(encoding="utf-8")).get("recipe") == recipe:
                    return FilmResult(
                        spec.name, "skipped", out, film_length(timeline), tuple(notes)
                    )
            except ValueError:
                pass
        with temp_dir() as tmp:
            ass = Path(tmp) / "film.ass"
            ass.write_text(overlay_ass(spec, timeline, width, height), encoding="utf-8")
            meta = Path(tmp) / "chapters.txt"
            meta.write_text(ffmetadata(spec, timeline), encoding="utf-8")
            with atomic_path(out) as partial:
                args = film_args(timeline, spec.crossfade_ms, width, height, fps, str(ass), str(meta),
                                 str(partial), str(fonts_dir()))  # fmt: skip
                run_ffmpeg(
                    ["-y", "-loglevel", "error", *args], on_progress=on_progress, check_fonts=True
                )
        _write_companions(project, spec, path, out, suffix, timeline, moments, recipe)
    return FilmResult(spec.name, "done", out, film_length(timeline), tuple(notes))
