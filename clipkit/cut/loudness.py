"""Two-pass loudness: measure the extract's audio, then one gain and a limiter in the encode."""

from __future__ import annotations

from dataclasses import dataclass

from ..ffmpeg import FFmpegBinary, find_ffmpeg, loudness_and_peak
from ..media import MediaInfo
from .options import CutOptions, Extract

# --- loudness ------------------------------------------------------------------------------

# Sample peaks are held this far under the true-peak target: inter-sample peaks and the AAC
# encoder add some back.
LIMITER_HEADROOM_DB = 1.5
MAX_GAIN_DB = 30.0


# ebur128 prints the sample peak to 0.1 dB
PEAK_MARGIN_DB = 0.1


def limit_db(options: CutOptions) -> float:
    return options.true_peak - LIMITER_HEADROOM_DB


def limiter(options: CutOptions, binary: FFmpegBinary) -> str:
    limit = 10 ** (limit_db(options) / 20)
    # `latency` (ffmpeg >= 5.1) removes the limiter's 5 ms look-ahead delay; older ones keep it
    latency = ":latency=true" if binary.alimiter_latency else ""
    return f"alimiter=limit={limit:.4f}:attack=5:release=50:level=false{latency}"


def downmix(info: MediaInfo) -> str | None:
    """Surround is folded to stereo before loudness is measured and limited: a limiter on six
    channels lets the stereo fold-down a player makes peak over the true-peak limit."""
    return "aformat=channel_layouts=stereo" if info.channels > 2 else None


def loudness_chain(
    gain_db: float, options: CutOptions, info: MediaInfo, binary: FFmpegBinary
) -> str:
    parts = [downmix(info), f"volume={gain_db:.2f}dB", limiter(options, binary)]
    return ",".join(p for p in parts if p)


@dataclass(frozen=True)
class GainPlan:
    gain_db: float
    measured_lufs: float  # the extract's audio through the gain and limiter, before encoding


def plan_gain(
    extract: Extract, options: CutOptions, record: list[list[str]] | None = None
) -> GainPlan | None:
    """The gain that brings the extract to the target loudness, peaks held by a limiter.

    loudnorm's linear mode cannot raise quiet speech whose peaks would then clip: it silently
    switches to its dynamic mode, which missed the target by 2 LU on short extracts here. So
    clipkit measures the integrated loudness (EBU R128, audio only), applies the gain through a
    limiter set under the true-peak target, and measures again through that same chain: the
    limiter takes away more as the gain grows, so loudness rises slower than the gain, and the
    secant method on the measured points finds the gain (usually in one or two more passes).
    None: silent audio, left as it is.
    """
    source, start, dur = extract.source, extract.start_ms, extract.duration_ms
    binary = find_ffmpeg()
    track = extract.audio_track
    measured, peak = loudness_and_peak(source, start, dur, downmix(extract.info), track, record)
    if measured is None:
        return None
    points = [(0.0, measured)]
    gain = min(options.loudness - measured, MAX_GAIN_DB)
    if peak is not None and peak + gain <= limit_db(options) - PEAK_MARGIN_DB:
        # no sample reaches the limiter: the chain is a plain gain, and loudness moves with it
        return GainPlan(gain, measured + gain)
    result = GainPlan(gain, measured)
    for _ in range(6):
        chain = loudness_chain(gain, options, extract.info, binary)
        level = loudness_and_peak(source, start, dur, chain, track, record, peak=False)[0]
        if level is None:
            break
        result = GainPlan(gain, level)
        error = options.loudness - level
        if abs(error) < 0.15:
            break
        g0, l0 = points[-1]
        slope = min(1.0, max(0.1, (level - l0) / (gain - g0))) if gain != g0 else 1.0
        points.append((gain, level))
        gain = min(gain + error / slope, MAX_GAIN_DB)
    return result
