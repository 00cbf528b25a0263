"""The one module that runs the ffmpeg program (media read in-process with PyAV: media.py).

ffmpeg is called with argument lists (never a shell). The quoted command is logged at debug
level and a failure carries the line of ffmpeg's stderr that names the cause. Media are probed
with PyAV because the static ffmpeg from imageio-ffmpeg ships no ffprobe.

Users have the ffmpeg their distribution ships (Ubuntu 22.04: 4.4, Debian 12: 5.1, Ubuntu
24.04: 6.1, Debian 13: 7.1). Each candidate binary is checked once (cached per path, size and
mtime) by running the filters and encoders clipkit uses on a one-second lavfi source; one that
fails is passed over for the bundled binary, with a note saying why.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from .errors import FFmpegError

log = logging.getLogger(__name__)

_running: set[subprocess.Popen[bytes]] = set()
_running_lock = threading.Lock()


def stop_all() -> None:
    """Stop every ffmpeg this process started (on Ctrl-C while worker threads wait on them)."""
    with _running_lock:
        for proc in list(_running):
            if proc.poll() is None:
                proc.terminate()


# libass in a static ffmpeg renders no subtitles when it finds no font, and still exits 0.
FONT_FAILURE_MARKERS = ("fontselect: failed to find any fallback", "failed to find any fallback")

# what the cut chain uses; checked on every candidate binary
REQUIRED_FILTERS = (
    "subtitles", "scale", "crop", "setsar", "fade", "format", "fps", "split", "boxblur",
    "overlay", "afade", "aformat", "aresample", "volume", "alimiter", "ebur128", "testsrc2",
    "color", "anullsrc", "sine",
)  # fmt: skip
REQUIRED_ENCODERS = ("libx264", "aac")
CHECK_REVISION = 1  # bump when the check chain changes, so cached verdicts are redone


@dataclass(frozen=True)
class FFmpegBinary:
    path: str
    source: str  # "CLIPKIT_FFMPEG", "PATH" or "imageio-ffmpeg"
    version: str = ""
    alimiter_latency: bool = True  # alimiter's `latency` option (ffmpeg >= 5.1)
    tonemap: bool = False  # zscale + tonemap for HDR sources
    note: str = ""  # why another candidate was passed over


@dataclass(frozen=True)
class BinaryCheck:
    """What one ffmpeg binary can do for clipkit."""

    path: str
    version: str
    missing: tuple[str, ...] = ()
    failure: str = ""  # the cause line when the one-second chain failed
    alimiter_latency: bool = False
    tonemap: bool = False
    filters: tuple[str, ...] = field(default=(), repr=False)

    @property
    def usable(self) -> bool:
        return not self.missing and not self.failure

    def problem(self) -> str:
        parts = []
        if self.missing:
            parts.append("lacks " + ", ".join(self.missing))
        if self.failure:
            parts.append(f"fails clipkit's test chain ({self.failure})")
        return "; ".join(parts)


def bundled_ffmpeg_path() -> str | None:
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        return None


def candidates() -> list[tuple[str, str]]:
    """(source, path) of every ffmpeg clipkit could use, in order of preference."""
    found: list[tuple[str, str]] = []
    explicit = os.environ.get("CLIPKIT_FFMPEG")
    if explicit:
        resolved = shutil.which(explicit) or (explicit if Path(explicit).is_file() else None)
        if not resolved:
            raise FFmpegError(f"ffmpeg not found at {explicit!r} (set by CLIPKIT_FFMPEG)")
        found.append(("CLIPKIT_FFMPEG", resolved))
    on_path = shutil.which("ffmpeg")
    if on_path:
        found.append(("PATH", on_path))
    bundled = bundled_ffmpeg_path()
    if bundled:
        found.append(("imageio-ffmpeg", bundled))
    return found


def find_ffmpeg() -> FFmpegBinary:
    """CLIPKIT_FFMPEG (checked, and an error when unusable), then `ffmpeg` on PATH when it passes
    the check, then the binary inside the imageio-ffmpeg wheel."""
    return _find_ffmpeg(os.environ.get("CLIPKIT_FFMPEG", ""), os.environ.get("PATH", ""))


@lru_cache(maxsize=8)
def _find_ffmpeg(explicit: str, path_env: str) -> FFmpegBinary:
    notes = []
    for source, path in candidates():
        check = check_binary(path)
        if check.usable:
            note = "; ".join(notes)
            if note:
                log.warning("%s; using %s (%s)", note, path, check.version)
            return FFmpegBinary(
                path, source, check.version, check.alimiter_latency, check.tonemap, note
            )
        if source == "CLIPKIT_FFMPEG":
            raise FFmpegError(
                f"ffmpeg {check.version} at {path} (CLIPKIT_FFMPEG) {check.problem()}"
            )
        notes.append(f"ffmpeg {check.version} on PATH ({path}) {check.problem()}")
    if notes:
        raise FFmpegError(
            notes[0] + "; install imageio-ffmpeg (`pip install imageio-ffmpeg`) for a complete one"
        )
    raise FFmpegError(
        "ffmpeg not found: install it (e.g. `apt-get install ffmpeg`) or "
        "`pip install imageio-ffmpeg`, or set CLIPKIT_FFMPEG to its path"
    )


def bundled_ffmpeg() -> FFmpegBinary:
    """The imageio-ffmpeg binary, whatever is on PATH (tests make their media with it)."""
    path = bundled_ffmpeg_path()
    if path is None:
        raise FFmpegError("imageio-ffmpeg is not installed")
    check = check_binary(path)
    return FFmpegBinary(
        path, "imageio-ffmpeg", check.version, check.alimiter_latency, check.tonemap
    )


def _binary_key(path: str) -> str:
    from . import __version__

    st = os.stat(path)
    return f"{os.path.realpath(path)}|{st.st_size}|{st.st_mtime_ns}|{__version__}|{CHECK_REVISION}"


def _cache_file() -> Path:
    from .resources import clipkit_home

    return clipkit_home() / "ffmpeg-checks.json"


def check_binary(path: str, *, fresh: bool = False) -> BinaryCheck:
    """Check a binary once: version, filters, encoders, and a one-second cut + burn + loudness
    chain on a lavfi source. The verdict is cached per binary (path, size, mtime)."""
    key = _binary_key(path)
    cache = _cache_file()
    stored: dict[str, dict] = {}  # type: ignore[type-arg]
    with contextlib.suppress(OSError, ValueError):
        stored = json.loads(cache.read_text(encoding="utf-8"))
    if not fresh and key in stored:
        with contextlib.suppress(TypeError):
            data = stored[key]
            return BinaryCheck(**{**data, "missing": tuple(data["missing"]), "filters": ()})
    result = _run_check(path)
    stored[key] = {k: v for k, v in asdict(result).items() if k != "filters"}
    with contextlib.suppress(OSError):
        from .fsutil import atomic_write_text

        cache.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(cache, json.dumps(stored, indent=1))
    return result


def _listing(path: str, *what: str) -> str:
    try:
        out = subprocess.run(
            [path, "-hide_banner", *what], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout


def _version_of(path: str) -> str:
    first = (_listing(path, "-version").splitlines() or ["unknown"])[0]
    return first.removeprefix("ffmpeg version ").split(" Copyright")[0].strip() or "unknown"


def _names(listing: str) -> set[str]:
    """Names from `-filters`/`-encoders` lines (flags, then the name)."""
    names = set()
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) >= 2 and re.fullmatch(r"[A-Z.|]{2,8}", parts[0]):
            names.add(parts[1])
    return names


def _run_check(path: str) -> BinaryCheck:
    from .resources import fonts_dir

    version = _version_of(path)
    if version == "unknown":
        return BinaryCheck(path, version, failure="does not run as ffmpeg")
    filters = _names(_listing(path, "-filters"))
    encoders = _names(_listing(path, "-encoders"))
    missing = tuple(
        [f"the {f} filter" for f in REQUIRED_FILTERS if f not in filters]
        + [f"the {e} encoder" for e in REQUIRED_ENCODERS if e not in encoders]
    )
    latency = (
        "latency" in _listing(path, "-h", "filter=alimiter") if "alimiter" in filters else False
    )
    tonemap = {"zscale", "tonemap"} <= filters
    failure = ""
    if not missing:
        failure = _check_chain(path, latency, fonts_dir())
    return BinaryCheck(path, version, missing, failure, latency, tonemap, tuple(sorted(filters)))


_CHECK_ASS = """[Script Info]
ScriptType: v4.00+
PlayResX: 320
PlayResY: 240

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Default,DejaVu Sans,24,&H00FFFFFF,&H00FFFFFF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,0,2,10,10,10,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:00.00,0:00:01.00,Default,,0,0,0,,clipkit check
"""


def _check_chain(path: str, latency: bool, fonts: Path) -> str:
    """Run the cut chain's filters on one second of lavfi input; '' when it works."""
    with tempfile.TemporaryDirectory(prefix=f"clipkit-{os.getpid()}-") as tmp:
        ass = Path(tmp) / "check's sub.ass"  # an apostrophe, as real titles have
        ass.write_text(_CHECK_ASS, encoding="utf-8")
        limiter = "alimiter=limit=0.7:attack=5:release=50:level=false" + (
            ":latency=true" if latency else ""
        )
        graph = (
            "[0:v]scale=320:240,setsar=1,fps=25,"
            f"subtitles=filename={escape_filter_value(str(ass))}:fontsdir={escape_filter_value(str(fonts))},"
            "fade=t=in:st=0:d=0.2,format=yuv420p[v];"
            "[1:a]aformat=channel_layouts=stereo,ebur128=framelog=verbose,volume=1.00dB,"
            f"{limiter},aresample=48000,afade=t=in:st=0:d=0.2[a]"
        )
        args = [
            path, "-hide_banner", "-nostdin", "-y", "-loglevel", "level+warning",
            "-f", "lavfi", "-i", "testsrc2=d=1:s=320x240:r=25",
            "-f", "lavfi", "-i", "sine=f=440:d=1:r=44100",
            "-filter_complex", graph, "-map", "[v]", "-map", "[a]",
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-ar", "48000", "-movflags", "+faststart",
            "-f", "mp4", str(Path(tmp) / "check.mp4"),
        ]  # fmt: skip
        try:
            out = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"could not run: {exc}"
        lines = out.stderr.splitlines()
        if out.returncode != 0:
            return error_cause(lines) or f"exit {out.returncode}"
        if any(m in out.stderr for m in FONT_FAILURE_MARKERS):
            return "libass found no font"
        return ""


# Lines that say only that something failed, not why: the cause is on an earlier line.
_GENERIC = re.compile(
    r"(?i)^(\[\w+\] )?(conversion failed|error reinitializing filters|failed to inject frame|"
    r"error while (processing|filtering|decoding)|error opening output files?|"
    r"error initializing complex filters|exiting normally|terminating thread)"
)
_CAUSE = re.compile(
    r"(?i)(\[(error|fatal)\]|unable to|invalid|cannot|can't|could not|no such|not found|"
    r"unknown|unrecognized|does not|no option|error)"
)


def error_cause(lines: Sequence[str]) -> str:
    """The first stderr line that names why ffmpeg failed (not "Conversion failed!")."""
    for line in lines:
        text = line.strip()
        if text and _CAUSE.search(text) and not _GENERIC.search(text):
            return re.sub(r"^\[(error|fatal|warning)\] ", "", text)
    return ""


def input_path(path: str | os.PathLike[str]) -> str:
    """An absolute path ffmpeg won't mistake for a protocol (`my:clip.mp4` would be)."""
    absolute = os.path.abspath(os.fspath(path))
    return "file:" + absolute if ":" in absolute else absolute


def escape_filter_value(value: str) -> str:
    """Escape an option value for a filtergraph string, which ffmpeg unescapes twice: first the
    graph (\\ ' [ ] , ;), then the filter's options (\\ ' :). Paths with spaces, quotes, colons,
    commas, brackets, `%` or non-ASCII characters then reach the filter unchanged."""
    option_level = re.sub(r"([\\':])", r"\\\1", value)
    return re.sub(r"([\\'\[\],;])", r"\\\1", option_level)


PositionCallback = Callable[[int], None]  # receives output time in ms


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """ffmpeg gets SIGKILL when the clipkit thread that started it dies, even by `kill -9`."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


_PREEXEC = _die_with_parent if sys.platform.startswith("linux") else None


def run_ffmpeg(
    args: Sequence[str],
    *,
    on_progress: PositionCallback | None = None,
    binary: FFmpegBinary | None = None,
    check_fonts: bool = False,
    stdout_sink: Callable[[bytes], None] | None = None,
) -> str:
    """Run ffmpeg with `args` (everything after the program name); returns its stderr text.

    `on_progress` receives the output position in ms parsed from `-progress pipe:1`.
    `stdout_sink` receives raw stdout bytes instead (for piping decoded audio).
    """
    binary = binary or find_ffmpeg()
    argv = ffmpeg_argv(binary, args, progress=on_progress is not None and stdout_sink is None)
    log.debug("ffmpeg: %s", shlex.join(argv))
    try:
        proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_PREEXEC
        )
    except OSError as exc:
        raise FFmpegError(f"could not run ffmpeg at {binary.path}: {exc}") from exc

    stderr_lines: deque[str] = deque(maxlen=400)

    def drain_stderr() -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            stderr_lines.append(raw.decode("utf-8", "replace").rstrip())

    reader = threading.Thread(target=drain_stderr, daemon=True)
    reader.start()
    with _running_lock:
        _running.add(proc)
    try:
        _read_stdout(proc, on_progress, stdout_sink)
        code = proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        with _running_lock:
            _running.discard(proc)
        reader.join(timeout=5)
    return _checked(code, list(stderr_lines), binary, check_fonts)


def _read_stdout(
    proc: subprocess.Popen[bytes],
    on_progress: PositionCallback | None,
    stdout_sink: Callable[[bytes], None] | None,
) -> None:
    """Raw bytes to the sink, or `-progress` lines parsed into the output position in ms."""
    assert proc.stdout is not None
    if stdout_sink is not None:
        while chunk := proc.stdout.read(1 << 16):
            stdout_sink(chunk)
        return
    for raw in proc.stdout:
        line = raw.decode("ascii", "replace").strip()
        if on_progress and line.startswith("out_time_us="):
            value = line.partition("=")[2]
            if value.isdigit():
                on_progress(int(value) // 1000)


def _checked(code: int, lines: list[str], binary: FFmpegBinary, check_fonts: bool) -> str:
    """ffmpeg's stderr, or an FFmpegError naming the cause (and the last lines) when it failed
    or, for subtitles, found no font."""
    stderr = "\n".join(lines)
    if code < 0:
        raise FFmpegError(f"ffmpeg was stopped ({signal.Signals(-code).name})")
    if code != 0:
        log.debug("ffmpeg stderr:\n%s", stderr)
        cause = error_cause(lines)
        tail = [ln for ln in lines[-4:] if ln.strip() and cause not in ln]
        message = f"ffmpeg {binary.version} failed (exit {code})" + (f": {cause}" if cause else "")
        raise FFmpegError("\n".join([message, *tail]))
    if check_fonts and any(m in stderr for m in FONT_FAILURE_MARKERS):
        raise FFmpegError(
            "ffmpeg found no font for subtitles (libass: failed to find any fallback); "
            "nothing would be burnt in"
        )
    return stderr


def ffmpeg_argv(binary: FFmpegBinary, args: Sequence[str], progress: bool = False) -> list[str]:
    """The exact command line run_ffmpeg runs (also what `cut --dry-run` prints)."""
    head = [binary.path, "-hide_banner", "-nostdin"]
    return head + (["-progress", "pipe:1", "-nostats"] if progress else []) + list(args)


# --- loudness ------------------------------------------------------------------------------
_EBUR128_I = re.compile(r"Integrated loudness:\s*\n\s*I:\s*(-?[\d.]+|-inf|nan) LUFS")
_EBUR128_PEAK = re.compile(r"Sample peak:\s*\n\s*Peak:\s*(-?[\d.]+|-inf|nan) dBFS")


def loudness_args(
    path: str | os.PathLike[str],
    start_ms: int = 0,
    duration_ms: int | None = None,
    pre_filter: str | None = None,
    track: int = 0,
    peak: bool = False,
) -> list[str]:
    """The audio-only ebur128 pass loudness_and_peak runs (`peak`: the sample peak too).

    `framelog=verbose` keeps the per-frame lines out of stderr on every ffmpeg: the `quiet`
    constant does not exist before ffmpeg 6 ("Unable to parse option value quiet" on 5.1)."""
    args = ["-ss", f"{start_ms / 1000:.3f}"]
    if duration_ms is not None:
        args += ["-t", f"{duration_ms / 1000:.3f}"]
    meter = "ebur128=framelog=verbose" + (":peak=sample" if peak else "")
    chain = (f"{pre_filter}," if pre_filter else "") + meter
    return args + ["-i", input_path(path), "-vn", "-sn", "-dn", "-map", f"0:a:{track}",
                   "-af", chain, "-f", "null", "-"]  # fmt: skip


def loudness_and_peak(
    path: str | os.PathLike[str],
    start_ms: int = 0,
    duration_ms: int | None = None,
    pre_filter: str | None = None,
    track: int = 0,
    record: list[list[str]] | None = None,
    peak: bool = True,
) -> tuple[float | None, float | None]:
    """Integrated loudness (LUFS, None for silence) and the sample peak (dBFS, None unless
    `peak`), in one audio-only pass of the ebur128 filter: no true-peak oversampling, so several
    times cheaper than loudnorm's analysis. `record` collects the commands."""
    args = loudness_args(path, start_ms, duration_ms, pre_filter, track, peak)
    if record is not None:
        record.append(args)
    log = run_ffmpeg(args)
    match = _EBUR128_I.findall(log)
    if not match:
        raise FFmpegError(f"could not read the loudness of {path}")
    value = float(match[-1])
    peaks = _EBUR128_PEAK.findall(log) if peak else []
    top = float(peaks[-1]) if peaks else None
    return (value if _finite(value) and value > -70 else None), (
        top if top is not None and _finite(top) else None
    )


def _finite(x: float) -> bool:
    return x == x and abs(x) != float("inf")


def grab_frame(video: str | os.PathLike[str], seconds: float, jpg: str | os.PathLike[str]) -> None:
    """The frame shown at `seconds` as a JPEG at most 1280 pixels wide (thumbnails, posters)."""
    run_ffmpeg(["-y", "-loglevel", "error", "-ss", f"{seconds:.3f}", "-i", input_path(video),
                "-frames:v", "1", "-q:v", "2", "-vf", "scale='min(1280,iw)':-2", str(jpg)])  # fmt: skip


def sha256_file(path: str | os.PathLike[str]) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
