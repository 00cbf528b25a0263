"""The one module that runs ffmpeg and probes media.

ffmpeg is called with argument lists (never a shell). The quoted command is logged at debug
level and a failure carries the tail of ffmpeg's stderr. Media are probed with PyAV because the
static ffmpeg from imageio-ffmpeg ships no ffprobe.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import shutil
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import FFmpegError, MediaError

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


@dataclass(frozen=True)
class FFmpegBinary:
    path: str
    source: str  # "CLIPKIT_FFMPEG", "PATH" or "imageio-ffmpeg"


def find_ffmpeg(configured: str | None = None) -> FFmpegBinary:
    """A configured path, then `ffmpeg` on PATH, then the binary inside the imageio-ffmpeg wheel."""
    explicit = configured or os.environ.get("CLIPKIT_FFMPEG")
    if explicit:
        resolved = shutil.which(explicit) or (explicit if Path(explicit).is_file() else None)
        if not resolved:
            raise FFmpegError(f"ffmpeg not found at {explicit!r} (set by CLIPKIT_FFMPEG or config)")
        return FFmpegBinary(resolved, "CLIPKIT_FFMPEG")
    on_path = shutil.which("ffmpeg")
    if on_path:
        return FFmpegBinary(on_path, "PATH")
    try:
        import imageio_ffmpeg

        return FFmpegBinary(imageio_ffmpeg.get_ffmpeg_exe(), "imageio-ffmpeg")
    except (ImportError, RuntimeError) as exc:
        raise FFmpegError(
            "ffmpeg not found: install it (e.g. `apt-get install ffmpeg`) or "
            "`pip install imageio-ffmpeg`, or set CLIPKIT_FFMPEG to its path"
        ) from exc


def ffmpeg_version(binary: FFmpegBinary) -> str:
    out = subprocess.run(
        [binary.path, "-hide_banner", "-version"], capture_output=True, text=True, check=False
    )
    first = out.stdout.splitlines()[0] if out.stdout else "unknown"
    return first.removeprefix("ffmpeg version ").split(" Copyright")[0]


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


ProgressCallback = Callable[[int], None]  # receives output time in ms


def run_ffmpeg(
    args: Sequence[str],
    *,
    on_progress: ProgressCallback | None = None,
    binary: FFmpegBinary | None = None,
    check_fonts: bool = False,
    stdout_sink: Callable[[bytes], None] | None = None,
) -> str:
    """Run ffmpeg with `args` (everything after the program name); returns its stderr text.

    `on_progress` receives the output position in ms parsed from `-progress pipe:1`.
    `stdout_sink` receives raw stdout bytes instead (for piping decoded audio).
    """
    binary = binary or find_ffmpeg()
    argv = [binary.path, "-hide_banner", "-nostdin", *args]
    if on_progress is not None and stdout_sink is None:
        argv[3:3] = ["-progress", "pipe:1", "-nostats"]
    log.debug("ffmpeg: %s", shlex.join(argv))
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise FFmpegError(f"could not run ffmpeg at {binary.path}: {exc}") from exc

    stderr_tail: deque[str] = deque(maxlen=400)

    def drain_stderr() -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            stderr_tail.append(raw.decode("utf-8", "replace").rstrip())

    reader = threading.Thread(target=drain_stderr, daemon=True)
    reader.start()
    with _running_lock:
        _running.add(proc)
    try:
        assert proc.stdout is not None
        if stdout_sink is not None:
            while chunk := proc.stdout.read(1 << 16):
                stdout_sink(chunk)
        else:
            for raw in proc.stdout:
                line = raw.decode("ascii", "replace").strip()
                if on_progress and line.startswith("out_time_us="):
                    value = line.partition("=")[2]
                    if value.isdigit():
                        on_progress(int(value) // 1000)
        code = proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        with _running_lock:
            _running.discard(proc)
        reader.join(timeout=5)
    stderr = "\n".join(stderr_tail)
    if code != 0:
        tail = "\n".join(list(stderr_tail)[-12:])
        raise FFmpegError(f"ffmpeg failed (exit {code}):\n{tail}")
    if check_fonts and any(m in stderr for m in FONT_FAILURE_MARKERS):
        raise FFmpegError(
            "ffmpeg found no font for subtitles (libass: failed to find any fallback); "
            "nothing would be burnt in"
        )
    return stderr


def decode_audio(path: str | os.PathLike[str], sample_rate: int = 16000):  # -> numpy array
    """Decode the first audio stream as mono float32 PCM at `sample_rate` (what Whisper takes).

    PyAV decodes in-process (no ffmpeg binary, no pipe); both engines get the same samples.
    """
    import av
    import numpy as np

    # One float32 buffer sized from the container's duration, filled as frames are resampled:
    # no list of chunks, no concatenated copy (a 30-minute recording is 115 MB of float32).
    audio = np.empty(0, dtype=np.float32)
    filled = 0

    def append(frames: list) -> None:  # type: ignore[type-arg]
        nonlocal audio, filled
        for out in frames:
            samples = out.to_ndarray().reshape(-1)
            if filled + len(samples) > len(audio):
                audio = np.resize(audio, max(2 * len(audio), filled + len(samples)))
            np.multiply(
                samples, 1 / 32768.0, out=audio[filled : filled + len(samples)], casting="unsafe"
            )
            filled += len(samples)

    try:
        with av.open(os.fspath(path)) as container:
            stream = next(iter(container.streams.audio), None)
            if stream is None:
                raise MediaError(f"{path}: has no audio stream")
            seconds = float(container.duration / av.time_base) if container.duration else 60.0
            audio = np.empty(int(seconds * sample_rate) + sample_rate, dtype=np.float32)
            resampler = av.AudioResampler(format="s16", layout="mono", rate=sample_rate)
            # resampling a few large frames is much cheaper than thousands of codec-sized ones
            fifo = av.AudioFifo()
            for frame in container.decode(stream):
                frame.pts = None  # the FIFO then takes frames without continuous timestamps
                fifo.write(frame)
                if fifo.samples >= 500_000:
                    append(resampler.resample(fifo.read()))
            if fifo.samples:
                append(resampler.resample(fifo.read()))
            append(resampler.resample(None))
    except av.FFmpegError as exc:
        raise MediaError(f"{path}: cannot decode audio ({exc})") from exc
    return audio[:filled]


@dataclass(frozen=True)
class MediaInfo:
    path: str
    duration_ms: int
    has_audio: bool
    has_video: bool
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    sample_rate: int | None = None


def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Read a recording's streams and duration with PyAV; MediaError when it is not media."""
    p = Path(path)
    if not p.exists():
        raise MediaError(f"{p}: no such file")
    if p.is_dir():
        raise MediaError(f"{p}: is a directory, not a recording")
    try:
        import av
    except ImportError as exc:  # pragma: no cover - av is a core dependency
        raise MediaError("PyAV (`av`) is not installed") from exc
    try:
        with av.open(str(p)) as container:
            video = next(iter(container.streams.video), None)
            audio = next(iter(container.streams.audio), None)
            if video is None and audio is None:
                raise MediaError(f"{p}: no audio or video stream")
            duration = _duration_ms(container, video, audio)
            fps = float(video.average_rate) if video is not None and video.average_rate else None
            return MediaInfo(
                path=str(p),
                duration_ms=duration,
                has_audio=audio is not None,
                has_video=video is not None,
                width=video.codec_context.width if video is not None else None,
                height=video.codec_context.height if video is not None else None,
                fps=fps,
                video_codec=video.codec_context.name if video is not None else None,
                audio_codec=audio.codec_context.name if audio is not None else None,
                sample_rate=audio.codec_context.sample_rate if audio is not None else None,
            )
    except MediaError:
        raise
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(f"{p}: not a media file ffmpeg can read") from exc


def _duration_ms(container, video, audio) -> int:  # type: ignore[no-untyped-def]
    if container.duration is not None and container.duration > 0:
        return int(container.duration / 1000)  # av.time_base is microseconds
    for stream in (audio, video):
        if stream is not None and stream.duration and stream.time_base:
            return int(stream.duration * stream.time_base * 1000)
    return 0


@dataclass(frozen=True)
class Loudness:
    integrated: float  # LUFS
    true_peak: float  # dBTP
    lra: float  # LU
    threshold: float
    offset: float


def measure_loudness(
    path: str | os.PathLike[str],
    start_ms: int = 0,
    duration_ms: int | None = None,
    target: tuple[float, float, float] = (-14.0, -1.5, 11.0),
    pre_filter: str | None = None,
) -> Loudness | None:
    """EBU R128 loudness of an audio range (loudnorm's analysis pass, audio only: cheap),
    optionally after `pre_filter`. None when the range is silent (loudness -inf).
    """
    i, tp, lra = target
    args = ["-ss", f"{start_ms / 1000:.3f}"]
    if duration_ms is not None:
        args += ["-t", f"{duration_ms / 1000:.3f}"]
    args += ["-i", input_path(path), "-vn", "-sn", "-dn", "-map", "0:a:0",
             "-af", (f"{pre_filter}," if pre_filter else "") + f"loudnorm=I={i}:TP={tp}:LRA={lra}:print_format=json",
             "-f", "null", "-"]  # fmt: skip
    stderr = run_ffmpeg(args)
    start = stderr.rfind("{")
    end = stderr.rfind("}")
    try:
        data = json.loads(stderr[start : end + 1])
        values = [
            float(data[k])
            for k in ("input_i", "input_tp", "input_lra", "input_thresh", "target_offset")
        ]
    except (ValueError, KeyError) as exc:
        raise FFmpegError(f"could not read loudness analysis of {path}") from exc
    if not all(map(_finite, values)) or values[0] < -70:
        return None
    return Loudness(*values)


_EBUR128_I = re.compile(r"Integrated loudness:\s*\n\s*I:\s*(-?[\d.]+|-inf|nan) LUFS")


def integrated_loudness(
    path: str | os.PathLike[str],
    start_ms: int = 0,
    duration_ms: int | None = None,
    pre_filter: str | None = None,
) -> float | None:
    """Integrated loudness (LUFS) by the ebur128 filter: no true-peak oversampling, so several
    times cheaper than loudnorm's analysis. None for silence."""
    args = ["-ss", f"{start_ms / 1000:.3f}"]
    if duration_ms is not None:
        args += ["-t", f"{duration_ms / 1000:.3f}"]
    chain = (f"{pre_filter}," if pre_filter else "") + "ebur128=framelog=quiet"
    args += [
        "-i",
        input_path(path),
        "-vn",
        "-sn",
        "-dn",
        "-map",
        "0:a:0",
        "-af",
        chain,
        "-f",
        "null",
        "-",
    ]
    match = _EBUR128_I.findall(run_ffmpeg(args))
    if not match:
        raise FFmpegError(f"could not read the loudness of {path}")
    value = float(match[-1])
    return value if _finite(value) and value > -70 else None


def _finite(x: float) -> bool:
    return x == x and abs(x) != float("inf")


def sha256_file(path: str | os.PathLike[str]) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
