"""The encode: the video and audio filter chains and the one ffmpeg argument list."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..ffmpeg import FFmpegBinary, escape_filter_value, find_ffmpeg, input_path
from ..media import MediaInfo
from ..resources import fonts_dir
from .loudness import downmix, loudness_chain
from .options import MADE_BY, VERTICAL, CutOptions, Extract

if TYPE_CHECKING:
    pass

# --- the encode ----------------------------------------------------------------------------


def output_size(info: MediaInfo, aspect: str | None) -> tuple[int, int]:
    """The extract's frame: the picture as players show it (turned upright, square pixels),
    or a vertical 9:16 frame."""
    size = info.display_size
    if size is None:
        return (720, 1280) if aspect == VERTICAL else (1280, 720)
    width, height = size
    if aspect == VERTICAL:
        return (1080, 1920) if min(width, height) >= 1080 else (720, 1280)
    return max(2, width - width % 2), max(2, height - height % 2)


# PQ/HLG to SDR BT.709: linear light, then a tone curve, then back (zscale + tonemap)
TONEMAP = (
    "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,"
    "tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv"
)


def needs_constant_rate(info: MediaInfo) -> bool:
    """A variable-rate source (Zoom, phones), one whose rate is unknown, or one whose video
    starts apart from its audio gets the fps filter; a constant-rate one needs no filter (it
    costs a few per cent of the encode)."""
    return (
        info.frame_rate is None or info.variable_rate or info.video_start_ms != info.audio_start_ms
    )


def _joined(chain: list[str]) -> str:
    return ",".join(chain) or "null"  # no filter needed: pass the frames through


def video_chain(extract: Extract, options: CutOptions, binary: FFmpegBinary) -> list[str]:
    """Filters from the decoded (already upright: ffmpeg applies the display rotation) frames
    to the output frame, before subtitles: constant frame rate, SDR, square pixels, framing."""
    info = extract.info
    width, height = output_size(info, options.aspect)
    rate = info.frame_rate or 25
    chain = []
    if needs_constant_rate(info):
        # a constant rate from the first frame at 0: VFR phone/Zoom video stays in sync
        chain.append(f"fps={rate.numerator}/{rate.denominator}:start_time=0")
    if info.hdr and binary.tonemap:
        chain.append(TONEMAP)
    display = info.display_size
    assert display is not None and info.width and info.height
    shown_w, shown_h = display
    if options.aspect == VERTICAL:
        if options.fill == "blur":
            return [
                _joined(chain) + ",split=2[bg][fg];"
                f"[bg]scale={width}:{height}:force_original_aspect_ratio=increase,"
                f"crop={width}:{height},boxblur=20:3[bgb];"
                f"[fg]scale={width}:-2[fgs];[bgb][fgs]overlay=(W-w)/2:(H-h)/2"
            ]
        # crop the centre of the picture as shown (a portrait phone video needs no crop)
        chain.append(f"scale={shown_w}:{shown_h}")
        crop_w = min(shown_w, round(shown_h * 9 / 16)) // 2 * 2
        crop_h = min(shown_h, round(shown_w * 16 / 9)) // 2 * 2
        chain.append(f"crop={crop_w}:{crop_h},scale={width}:{height}")
        return [_joined(chain)]
    decoded = (info.height, info.width) if info.rotation in (90, 270) else (info.width, info.height)
    if (width, height) != decoded or info.sar != 1:
        chain.append(f"scale={width}:{height}")
    return [_joined(chain)]


def audio_chain(
    extract: Extract, options: CutOptions, gain_db: float | None, binary: FFmpegBinary
) -> list[str]:
    chain = []
    if gain_db is not None:
        chain.append(loudness_chain(gain_db, options, extract.info, binary))
    elif extract.info.has_audio and (mix := downmix(extract.info)):
        chain.append(mix)
    # one rate for AAC whatever the source had; audio starts with the video at 0 (an edit
    # list or a stream starting late is padded or trimmed, not left to drift)
    chain.append("aresample=48000:first_pts=0")
    return chain


def _inputs(
    extract: Extract, size: tuple[int, int], binary: FFmpegBinary, options: CutOptions
) -> tuple[list[str], str, str]:
    """The input arguments, the filter that frames the picture (`[framed]`), and the audio
    input's label: a recording without video gets a plain background (for YouTube), one
    without audio a silent track."""
    info, dur = extract.info, f"{extract.duration_ms / 1000:.3f}"
    args = ["-y", "-loglevel", "level+warning", "-ss", f"{extract.start_ms / 1000:.3f}",
            "-t", dur, "-i", input_path(extract.source)]  # fmt: skip
    next_input = 1
    if info.has_video:
        framed = f"[0:v:{info.video_index}]" + video_chain(extract, options, binary)[0] + "[framed]"
    else:
        width, height = size
        args += ["-f", "lavfi", "-t", dur, "-i", f"color=c=0x14181f:s={width}x{height}:r=25"]
        framed = f"[{next_input}:v]null[framed]"
        next_input += 1
    if info.has_audio:
        return args, framed, f"[0:a:{extract.audio_track}]"
    args += ["-f", "lavfi", "-t", dur, "-i", "anullsrc=r=48000:cl=stereo"]
    return args, framed, f"[{next_input}:a]"


def _fades(extract: Extract, options: CutOptions, prefix: str = "") -> list[str]:
    """Fade in and out over `fade_ms` (at most a third of the extract); `prefix` "a" for audio."""
    fade = min(options.fade_ms, extract.duration_ms // 3) / 1000
    if fade <= 0:
        return []
    out_at = extract.duration_ms / 1000 - fade
    return [
        f"{prefix}fade=t=in:st=0:d={fade:.3f}",
        f"{prefix}fade=t=out:st={out_at:.3f}:d={fade:.3f}",
    ]


def build_encode_args(
    extract: Extract,
    options: CutOptions,
    output: str,
    ass_path: str | None,
    gain_db: float | None,
    binary: FFmpegBinary | None = None,
) -> list[str]:
    """The single ffmpeg run for one extract (everything after the program name)."""
    binary = binary or find_ffmpeg()
    args, framed, audio_in = _inputs(
        extract, output_size(extract.info, options.aspect), binary, options
    )
    chain = ["setsar=1"]
    if ass_path is not None:
        fonts = escape_filter_value(str(fonts_dir()))
        chain.append(f"subtitles=filename={escape_filter_value(ass_path)}:fontsdir={fonts}")
    chain += [*_fades(extract, options), "format=yuv420p"]
    audio = [*audio_chain(extract, options, gain_db, binary), *_fades(extract, options, "a")]
    graph = [framed, f"[framed]{','.join(chain)}[v]", f"{audio_in}{','.join(audio)}[a]"]
    return [
        *args,
        "-filter_complex", ";".join(graph),
        "-map", "[v]", "-map", "[a]",
        "-c:v", "libx264", "-preset", options.preset, "-crf", str(options.crf), "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", options.audio_bitrate, "-ar", "48000",
        "-t", f"{extract.duration_ms / 1000:.3f}",
        "-map_metadata", "-1", "-map_chapters", "-1",
        "-metadata", f"comment={MADE_BY}",  # how a later run knows the file is its own
        "-movflags", "+faststart",
        "-f", "mp4", output,
    ]  # fmt: skip
