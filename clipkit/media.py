"""Media read in-process with PyAV: probing (streams, duration, rotation, HDR, the output frame
rate) and decoding audio (the speech track of a many-track Zoom file). PyAV links ffmpeg's
libraries; the ffmpeg program itself is run only by `ffmpeg.py`. The static ffmpeg from
imageio-ffmpeg ships no ffprobe, which is why probing is done here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import MediaError

# --- probing -------------------------------------------------------------------------------

HDR_TRANSFERS = {16: "smpte2084", 18: "arib-std-b67"}  # PQ and HLG


@dataclass(frozen=True)
class MediaInfo:
    path: str
    duration_ms: int
    has_audio: bool
    has_video: bool
    width: int | None = None  # as stored
    height: int | None = None
    fps: float | None = None  # average frame rate
    video_codec: str | None = None
    audio_codec: str | None = None
    sample_rate: int | None = None
    rotation: int = 0  # degrees the player turns the stored picture (0, 90, 180, 270)
    sar: Fraction = Fraction(1)  # sample (pixel) aspect ratio
    video_index: int = 0  # among the video streams (cover art skipped)
    audio_streams: int = 0
    channels: int = 0  # of the first audio stream
    video_start_ms: int = 0
    audio_start_ms: int = 0
    pix_fmt: str | None = None
    hdr: str | None = None  # "smpte2084" (PQ) or "arib-std-b67" (HLG)
    frame_rate: Fraction | None = None  # the constant rate the output gets
    variable_rate: bool = False

    @property
    def display_size(self) -> tuple[int, int] | None:
        """The picture as a player shows it: square pixels, turned upright."""
        if self.width is None or self.height is None:
            return None
        width, height = round(self.width * self.sar), self.height
        if self.sar < 1:
            width, height = self.width, round(self.height / self.sar)
        return (height, width) if self.rotation in (90, 270) else (width, height)


def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Read a recording's streams and duration with PyAV; MediaError when it is not media."""
    from .fsutil import check_regular_file

    p = Path(path)
    check_regular_file(p)
    st = p.stat()
    return _probe(str(p), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=128)
def _probe(path: str, size: int, mtime_ns: int) -> MediaInfo:
    try:
        import av
    except ImportError as exc:  # pragma: no cover - av is a core dependency
        raise MediaError("PyAV (`av`) is not installed") from exc
    p = Path(path)
    try:
        with av.open(path) as container:
            videos = [
                s
                for s in container.streams.video
                if not (s.disposition & av.stream.Disposition.attached_pic)
            ]
            video = videos[0] if videos else None
            audios = list(container.streams.audio)
            audio = audios[0] if audios else None
            if video is None and audio is None:
                raise MediaError(f"{p}: no audio or video stream")
            duration = _duration_ms(container, video, audio)
            extra: dict = {}  # type: ignore[type-arg]
            if video is not None:
                extra = _video_details(container, video)
            return MediaInfo(
                path=path,
                duration_ms=duration,
                has_audio=audio is not None,
                has_video=video is not None,
                video_codec=video.codec_context.name if video is not None else None,
                audio_codec=audio.codec_context.name if audio is not None else None,
                sample_rate=audio.codec_context.sample_rate if audio is not None else None,
                audio_streams=len(audios),
                channels=audio.codec_context.channels if audio is not None else 0,
                audio_start_ms=_start_ms(audio),
                **extra,
            )
    except MediaError:
        raise
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(f"{p}: not a media file ffmpeg can read") from exc


def _start_ms(stream) -> int:  # type: ignore[no-untyped-def]
    if stream is None or stream.start_time is None or stream.time_base is None:
        return 0
    return int(stream.start_time * stream.time_base * 1000)


STANDARD_RATES = tuple(
    Fraction(r) for r in ("24000/1001", "24", "25", "30000/1001", "30", "50", "60000/1001", "60")
)


def output_rate(average: Fraction | None, base: Fraction | None) -> tuple[Fraction, bool]:
    """The constant frame rate an extract gets, and whether the source's rate varies.

    A constant-rate source keeps its rate; a variable one (Zoom, phones) gets the standard rate
    nearest its average, so frames are duplicated or dropped evenly instead of drifting.
    """
    if not average or average <= 0:
        return (base if base and 0 < base <= 120 else Fraction(25)), False
    variable = base is None or abs(float(base) - float(average)) > 0.01 * float(average)
    if not variable:
        return average, False
    nearest = min(STANDARD_RATES, key=lambda r: abs(float(r) - float(average)))
    if abs(float(nearest) - float(average)) <= 0.06 * float(average):
        return nearest, True
    return Fraction(max(1, round(float(average)))), True


def _video_details(container, video) -> dict:  # type: ignore[no-untyped-def]
    cc = video.codec_context
    sar = video.sample_aspect_ratio or cc.sample_aspect_ratio
    sar = Fraction(sar) if sar and sar > 0 else Fraction(1)
    rotation = 0
    try:  # the display matrix travels with decoded frames
        frame = next(container.decode(video))
        rotation = int(round(-(getattr(frame, "rotation", 0) or 0))) % 360
    except (StopIteration, av_errors()):
        pass
    rate, variable = output_rate(
        Fraction(video.average_rate) if video.average_rate else None,
        Fraction(video.base_rate) if video.base_rate else None,
    )
    trc = getattr(cc, "color_trc", None)
    return {
        "width": cc.width,
        "height": cc.height,
        "fps": float(video.average_rate) if video.average_rate else None,
        "rotation": rotation,
        "sar": sar,
        "video_index": list(container.streams.video).index(video),
        "video_start_ms": _start_ms(video),
        "pix_fmt": cc.format.name if cc.format is not None else None,
        "hdr": HDR_TRANSFERS.get(int(trc)) if trc is not None else None,
        "frame_rate": rate,
        "variable_rate": variable,
    }


def av_errors() -> type[Exception]:
    import av

    return av.FFmpegError


def _duration_ms(container, video, audio) -> int:  # type: ignore[no-untyped-def]
    if container.duration is not None and container.duration > 0:
        return int(container.duration / 1000)  # av.time_base is microseconds
    for stream in (audio, video):
        if stream is not None and stream.duration and stream.time_base:
            return int(stream.duration * stream.time_base * 1000)
    # no duration in the header (a browser's MediaRecorder WebM, a piped MPEG-TS capture): read
    # every packet's time to the end, without decoding (disk speed)
    stream = audio if audio is not None else video
    return _scanned_duration_ms(container.name, stream.index) if stream is not None else 0


def _scanned_duration_ms(path: str, index: int) -> int:
    """A stream's length from its packets' times: the last packet's end less the first one's
    start."""
    import av

    first = last = None
    with av.open(path) as container:
        stream = container.streams[index]
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            end = packet.pts + (packet.duration or 0)
            first = packet.pts if first is None else min(first, packet.pts)
            last = end if last is None else max(last, end)
        if first is None or last is None or stream.time_base is None:
            return 0
        return int((last - first) * stream.time_base * 1000)


# --- decoding audio ------------------------------------------------------------------------

SILENT_TRACK_DB = -60.0  # a track whose speech-level frames are below this holds no speech


def iter_audio(
    path: str | os.PathLike[str],
    sample_rate: int = 16000,
    track: int = 0,
    block_seconds: float = 30.0,
    limit_seconds: float | None = None,
    channels: bool = False,
) -> Iterator:  # Iterator[numpy.ndarray]
    """Decode one audio stream as mono float32 blocks of about `block_seconds` at `sample_rate`
    (with `channels`: blocks of shape (channels, samples), each channel apart).

    PyAV decodes in-process (no ffmpeg binary, no pipe), so memory stays bounded by the block
    size however long the recording is.
    """
    import av

    block = int(block_seconds * sample_rate)
    limit = int(limit_seconds * sample_rate) if limit_seconds is not None else None
    try:
        with av.open(os.fspath(path)) as container:
            streams = list(container.streams.audio)
            if not streams:
                raise MediaError(f"{path}: has no audio stream")
            if track >= len(streams):
                raise MediaError(f"{path}: has no audio track {track + 1} (it has {len(streams)})")
            chunks = _resampled_chunks(container, streams[track], sample_rate, channels)
            yield from _blocks(chunks, block, limit)
    except av.FFmpegError as exc:
        raise MediaError(f"{path}: cannot decode audio ({exc})") from exc


def _resampled_chunks(container: Any, stream: Any, sample_rate: int, channels: bool) -> Iterator:  # type: ignore[type-arg]
    """The stream decoded and resampled to float32 in chunks of about 200,000 samples:
    resampling a few large frames is much cheaper than thousands of codec-sized ones."""
    import av
    import numpy as np

    layout = stream.layout.name if channels else "mono"
    resampler = av.AudioResampler(format="s16p", layout=layout, rate=sample_rate)
    fifo = av.AudioFifo()

    def resampled(frames: list) -> Iterator:  # type: ignore[type-arg]
        for out in frames:
            planes = out.to_ndarray().astype(np.float32) * (1 / 32768.0)
            yield planes if channels else planes.reshape(-1)

    for frame in container.decode(stream):
        frame.pts = None  # the FIFO then takes frames without continuous timestamps
        fifo.write(frame)
        if fifo.samples >= 200_000:
            yield from resampled(resampler.resample(fifo.read()))
    if fifo.samples:
        yield from resampled(resampler.resample(fifo.read()))
    yield from resampled(resampler.resample(None))


def _blocks(chunks: Iterator, block: int, limit: int | None) -> Iterator:  # type: ignore[type-arg]
    """Chunks regrouped into blocks of at least `block` samples (the last one shorter), cut
    off at `limit` samples."""
    import numpy as np

    pending: list = []  # type: ignore[type-arg]
    pending_len = produced = 0
    for samples in chunks:
        count = samples.shape[-1]
        if limit is not None and produced + pending_len + count >= limit:
            pending.append(samples[..., : limit - produced - pending_len])
            break
        pending.append(samples)
        pending_len += count
        if pending_len >= block:
            joined = np.concatenate(pending, axis=-1)
            yield joined
            produced += joined.shape[-1]
            pending, pending_len = [], 0
    if pending:
        yield np.concatenate(pending, axis=-1)


def decode_audio(path: str | os.PathLike[str], sample_rate: int = 16000, track: int = 0):  # type: ignore[no-untyped-def]
    """The whole of one audio stream as mono float32 PCM at `sample_rate` (what Whisper takes)."""
    import numpy as np

    blocks = list(iter_audio(path, sample_rate, track, block_seconds=60.0))
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)


@dataclass(frozen=True)
class AudioTrack:
    index: int  # among the audio streams
    level_db: float  # the 98th percentile of 50 ms frame levels: speech, when there is any
    reason: str = ""


def speech_track(path: str | os.PathLike[str], requested: int | None = None) -> AudioTrack:
    """The audio track to use: `requested` (1-based from the user, 0-based here), else the one
    with speech. Zoom and cameras can put a silent or room-tone track first."""
    p = Path(path)
    st = p.stat()
    return _speech_track(str(p), st.st_size, st.st_mtime_ns, requested)


@lru_cache(maxsize=64)
def _speech_track(path: str, size: int, mtime_ns: int, requested: int | None) -> AudioTrack:
    info = _probe(path, size, mtime_ns)
    if not info.has_audio:
        raise MediaError(f"{path}: has no audio stream")
    if requested is not None and not 0 <= requested < info.audio_streams:
        raise MediaError(
            f"{Path(path).name}: has no audio track {requested + 1} (it has {info.audio_streams})"
        )
    if requested is None and info.audio_streams == 1:
        return AudioTrack(0, 0.0)  # nothing to choose: no need to decode minutes of audio
    indices = [requested] if requested is not None else list(range(info.audio_streams))
    # the first two minutes decide: a longer scan of every track costs more than it tells
    levels = {i: _track_level(path, i) for i in indices}
    best = max(indices, key=lambda i: levels[i])
    reason = ""
    if requested is None and best != 0:
        reason = f"audio track {best + 1} holds the speech (track 1 is silent)"
    return AudioTrack(best, levels[best], reason)


def _track_level(path: str, track: int) -> float:
    import numpy as np

    rate = 8000
    parts = list(iter_audio(path, rate, track, block_seconds=120.0, limit_seconds=120.0))
    audio = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
    hop = rate // 20
    count = len(audio) // hop
    if count == 0:
        return float("-inf")
    frames = audio[: count * hop].reshape(count, hop)
    rms = np.sqrt(np.mean(frames * frames, axis=1) + 1e-20)
    return float(20 * np.log10(np.percentile(rms, 98)))
