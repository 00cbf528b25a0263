#!/usr/bin/env python3
"""Cut benchmark: `clipkit cut` (accurate seek + burn-in + loudness + fades, one encode) against
the bare single-pass ffmpeg command doing the same work, on a 10-minute 720p30 recording with a
Zoom-like 250-frame GOP; then a batch of 10 extracts, clipkit vs the sum of bare runs, with the
CPU use that shows whether both cores work. One run, one machine. Run with `make bench`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clipkit.ffmpeg import escape_filter_value, find_ffmpeg, run_ffmpeg  # noqa: E402
from clipkit.resources import fonts_dir  # noqa: E402
from clipkit.subtitle_text import render_srt  # noqa: E402
from clipkit.subtitles import Cue, shift_cues, slice_cues  # noqa: E402

SAMPLE = ROOT / "samples" / "conversation.mp4"
SENTENCES = [
    "We didn't have much money, but the centre was open.",
    "It was the only warm place in winter.",
    "Then a group of parents started meeting every Thursday.",
    "Two years later the centre reopened.",
]


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, children included) of one command."""
    before = os.times()
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return wall, cpu


def make_recording(path: Path, seconds: int) -> None:
    run_ffmpeg(
        ["-y", "-loglevel", "error", "-f", "lavfi", "-i", f"testsrc2=s=1280x720:r=30:d={seconds}",
         "-stream_loop", "-1", "-i", str(SAMPLE), "-map", "0:v", "-map", "1:a", "-t", str(seconds),
         "-c:v", "libx264", "-preset", "ultrafast", "-crf", "23", "-g", "250", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-b:a", "96k", str(path)]
    )  # fmt: skip


def bare_command(
    ffmpeg: str, src: Path, start: float, dur: float, srt: Path, out: Path
) -> list[str]:
    """What a person would type for the same result: one pass, single-pass loudnorm."""
    sub = f"subtitles=filename={escape_filter_value(str(srt))}:fontsdir={escape_filter_value(str(fonts_dir()))}"
    graph = (
        f"[0:v:0]setsar=1,{sub},fade=t=in:st=0:d=0.3,fade=t=out:st={dur - 0.3:.3f}:d=0.3,format=yuv420p[v];"
        # aformat pins the layout: ffmpeg 5.1 cannot negotiate one after loudnorm otherwise
        f"[0:a:0]loudnorm=I=-14:TP=-1.5:LRA=11,aresample=48000,aformat=channel_layouts=mono|stereo,afade=t=in:st=0:d=0.3,"
        f"afade=t=out:st={dur - 0.3:.3f}:d=0.3[a]"
    )
    return [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-ss", f"{start:.3f}",
            "-t", f"{dur:.3f}", "-i", str(src), "-filter_complex", graph, "-map", "[v]", "-map", "[a]",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-c:a", "aac",
            "-b:a", "160k", "-ar", "48000", "-t", f"{dur:.3f}", "-movflags", "+faststart", str(out)]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument(
        "--repeat", type=int, default=2, help="runs of the single-extract case; best counts"
    )
    args = parser.parse_args()
    ffmpeg = find_ffmpeg().path
    clipkit = [sys.executable, "-m", "clipkit.cli"]
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        src = tmp / "recording.mp4"
        started = time.perf_counter()
        make_recording(src, args.minutes * 60)
        print(
            f"made a {args.minutes}-minute 1280x720 30 fps recording in {time.perf_counter() - started:.0f} s"
        )
        cues = [
            Cue(t * 1000, t * 1000 + 2600, (SENTENCES[(t // 3) % len(SENTENCES)],))
            for t in range(1, args.minutes * 60 - 3, 3)
        ]
        (tmp / "recording.srt").write_text(render_srt(cues), encoding="utf-8")

        # one 45 s extract
        start, dur = 253.4, 45.0
        shifted = tmp / "shifted.srt"
        shifted.write_text(
            render_srt(slice_cues(cues, int(start * 1000), int((start + dur) * 1000))),
            encoding="utf-8",
        )
        bare_runs, ours_runs = [], []
        for k in range(args.repeat):
            bare_runs.append(
                timed(bare_command(ffmpeg, src, start, dur, shifted, tmp / f"bare{k}.mp4"))[0]
            )
            ours_runs.append(
                timed([*clipkit, "cut", str(src), "--start", str(start), "--end", str(start + dur),
                       "--title", f"one {k}", "-o", str(tmp / "one"), "-q", "--jobs", "1"])[0]
            )  # fmt: skip
        bare, ours = min(bare_runs), min(ours_runs)

        # a batch of 10 extracts of 20 s
        starts = [30.0 + 55 * i for i in range(10)]
        plan = tmp / "plan.csv"
        plan.write_text(
            "source,start,end,title\n"
            + "".join(f"recording.mp4,{s},{s + 20},Extract {i}\n" for i, s in enumerate(starts)),
            encoding="utf-8",
        )
        bare_sum = bare_cpu = 0.0
        for i, s in enumerate(starts):
            srt_i = tmp / f"s{i}.srt"
            srt_i.write_text(
                render_srt(shift_cues(slice_cues(cues, int(s * 1000), int((s + 20) * 1000)), 0)),
                encoding="utf-8",
            )
            wall, cpu = timed(bare_command(ffmpeg, src, s, 20.0, srt_i, tmp / f"b{i}.mp4"))
            bare_sum += wall
            bare_cpu += cpu
        batch = {}
        for jobs in (1, 2):
            batch[jobs] = timed(
                [
                    *clipkit,
                    "cut",
                    "--plan",
                    str(plan),
                    "-o",
                    str(tmp / f"batch{jobs}"),
                    "-q",
                    "--jobs",
                    str(jobs),
                ]
            )
        default = timed(
            [*clipkit, "cut", "--plan", str(plan), "-o", str(tmp / "batch-default"), "-q"]
        )

    print(
        f"\nCut, 45 s extract of a {args.minutes}-minute 720p30 recording, burn-in + loudness + fades, x264 veryfast CRF 20, {cores} cores"
    )
    print(f"{'case':<52} {'wall s':>8} {'ratio':>7}")
    print(f"{'bare single-pass ffmpeg (single-pass loudnorm)':<52} {bare:>8.2f} {1:>7.2f}")
    print(
        f"{'clipkit cut (measured, calibrated loudness)':<52} {ours:>8.2f} {ours / bare:>7.2f}   target <= 1.05"
    )
    print("\nBatch of 10 extracts of 20 s")
    print(f"{'case':<52} {'wall s':>8} {'ratio':>7} {'cores used':>11}")
    print(
        f"{'sum of 10 bare ffmpeg runs':<52} {bare_sum:>8.2f} {1:>7.2f} {bare_cpu / bare_sum:>11.2f}"
    )
    for jobs, (wall, cpu) in batch.items():
        print(
            f"{'clipkit cut --plan, --jobs ' + str(jobs):<52} {wall:>8.2f} {wall / bare_sum:>7.2f} {cpu / wall:>11.2f}"
        )
    wall, cpu = default
    print(
        f"{'clipkit cut --plan, default jobs':<52} {wall:>8.2f} {wall / bare_sum:>7.2f} {cpu / wall:>11.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
