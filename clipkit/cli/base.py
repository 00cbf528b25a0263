"""The command group, its shared options, progress printing and the project lookup."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from .. import __version__
from ..errors import ClipkitError
from ..settings import SPEAKER_LABELS, setting

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
    from ..engines import engine_names

    return engine_names()


def _check_engine(name: str) -> None:
    from ..engines import engine_spec

    engine_spec(name)


def _profiles() -> Any:
    from ..profiles import available_profiles

    return available_profiles()


def _check_profile(name: str) -> None:
    from ..profiles import load_profile

    load_profile(name)


def _styles() -> Any:
    from ..burn import available_styles

    return available_styles()


def _check_style(name: str) -> None:
    from ..burn import load_style

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
    from ..project import find_project, load_project

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
    from ..cluster import scheduler_address

    project = _project()
    return scheduler_address(
        project.settings.get("cluster", {}).get("scheduler") if project else None
    )


@contextlib.contextmanager
def _cluster(needed: Callable[[], bool] | None = None) -> Iterator[Any]:
    """The Dask cluster named by $CLIPKIT_SCHEDULER or clipkit.toml's [cluster] scheduler,
    connected and checked; None (work stays here) when none is named or nothing is to do."""
    from ..cluster import Cluster

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
    batch, with an ETA), plain start/finish lines in logs. Work is counted in each event's unit:
    ms of media, or bytes for transfers."""

    def __init__(
        self,
        quiet: bool,
        verb: str = "transcribing",
        skipped: str = "up to date, skipped (--force to redo)",
    ) -> None:
        self.quiet = quiet
        self.verb = verb
        self.skipped = skipped
        self.tty = sys.stderr.isatty()
        self.state: dict[int, tuple[str, int, int]] = {}
        self.reported: dict[int, int] = {}  # the last tenth printed per item, when not a terminal
        self.batch_total = 0  # all the work of the run, when the pipeline announces it
        self.unit = "ms"  # the unit that work is counted in
        self.finished = 0  # work of the items already done
        self.started = time.monotonic()

    @staticmethod
    def _amount(units: int, unit: str) -> str:
        return f"{units / 1e6:.1f} MB" if unit == "bytes" else f"{units / 1000:.1f} s"

    def __call__(self, event: Any) -> None:
        if event.kind == "warning":  # --quiet silences progress, never warnings
            self._clear()
            click.echo(f"Warning: {event.message}", err=True)
            return
        if event.kind == "batch":
            self.batch_total, self.started = event.size, time.monotonic()
            self.unit = event.unit
            return
        if self.quiet:
            return
        name = Path(event.path).name
        prefix = f"[{event.index}/{event.total}] {name}"
        if event.kind == "start":
            self.state[event.index] = (name, event.done, event.size)
            if not self.tty:
                click.echo(
                    f"{prefix}: {self.verb} {self._amount(event.size, event.unit)}", err=True
                )
        elif event.kind == "progress":
            self.state[event.index] = (name, event.done, event.size)
            if not self.tty and event.size:  # a log, make, a pipe: a line every 10 %
                decile = min(9, 10 * event.done // event.size)
                if decile > self.reported.get(event.index, 0):
                    self.reported[event.index] = decile
                    click.echo(
                        f"{prefix}: {10 * decile}% ({self._amount(event.done, event.unit)} of "
                        f"{self._amount(event.size, event.unit)})",
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
            total = self._amount(self.batch_total, self.unit)
            parts.append(f"overall {self._amount(done, self.unit)} of {total}{eta}")
        click.echo("\r\x1b[2K" + " | ".join(parts), err=True, nl=False)

    def _clear(self) -> None:
        if self.tty and not self.quiet:
            click.echo("\r\x1b[2K", err=True, nl=False)


def _short_outputs(outputs: tuple[str, ...]) -> str:
    if not outputs:
        return "-"
    if "://" in outputs[0]:  # a URL (https://youtu.be/ID), not a path to shorten
        return ", ".join(outputs)
    groups: dict[str, list[str]] = {}  # by name without the format: talk.{srt,vtt}, talk.en.srt
    for o in outputs:
        groups.setdefault(str(Path(o).with_suffix("")), []).append(Path(o).suffix.lstrip("."))
    return ", ".join(
        f"{stem}.{{{','.join(fmts)}}}" if len(fmts) > 1 else f"{stem}.{fmts[0]}"
        for stem, fmts in groups.items()
    )


def _status(quiet: bool) -> Any:
    return (lambda msg: None) if quiet else (lambda msg: click.echo(msg, err=True))


# --- transcribe ----------------------------------------------------------------------------


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


def _project_arg(directory: Path | None) -> Any:
    from ..errors import InputError
    from ..project import load_project

    project = load_project(directory) if directory is not None else _project()
    if project is None:
        raise InputError("not in a clipkit project (give its folder, or `clipkit init DIR`)")
    return project


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: running ffmpegs are stopped and partial files removed."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated()


def main() -> None:
    import signal

    signal.signal(signal.SIGTERM, _on_sigterm)
    cli(prog_name="clipkit")


# --- options shared by many commands (each declared once) -----------------------------------


def json_option(help: str = "Print results as JSON on stdout.") -> Callable[[Any], Any]:
    return click.option("--json", "as_json", is_flag=True, help=help)


def quiet_option(help: str = "No progress output.") -> Callable[[Any], Any]:
    return click.option("--quiet", "-q", is_flag=True, help=help)


def audio_track_option(verb: str) -> Callable[[Any], Any]:
    return click.option(
        "--audio-track",
        type=click.IntRange(1, 64),
        help=f"Audio track to {verb}, from 1 (default: the one with speech).",
    )


def force_option(help: str) -> Callable[[Any], Any]:
    return click.option("--force", is_flag=True, help=help)


def setting_option(section: str, key: str, *flags: str, **overrides: Any) -> Callable[[Any], Any]:
    """The command-line option of a setting in clipkit.settings: its flag, type, default and
    help come from the one declaration there (`overrides` for what only the flag needs)."""
    s = setting(section, key)
    types: dict[str, Any] = {
        "choice": click.Choice(s.choices),
        "number": click.FloatRange(s.low, s.high),
        "count": click.IntRange(s.low, s.high),
        "engine": ENGINE,
        "profile": PROFILE,
        "style": STYLE,
    }
    spec: dict[str, Any] = {"help": s.help, "default": s.default}
    names = [*flags, s.flag]
    if s.kind == "bool":
        names[-1] = f"{s.flag}/--no-{s.flag[2:]}"
    elif s.kind == "terms":
        spec.update(multiple=True, default=tuple(s.default))
    elif s.kind in types:
        spec["type"] = types[s.kind]
    if s.default not in (None, ()):
        spec["show_default"] = True
    spec.update(overrides)
    return click.option(*names, key, **spec)
