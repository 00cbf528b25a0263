#!/usr/bin/env python3
"""Film benchmark: `clipkit film` (title and end cards, three moments crossfaded, lower thirds,
chapters, one encode) against the sum of cutting its moments and against a bare ffmpeg concat
re-encode of the same three cut extracts (no cards, no crossfades, no text). One run, one
machine, one table. Run with `make bench`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clipkit.ffmpeg import find_ffmpeg  # noqa: E402
from clipkit.media import probe  # noqa: E402

SAMPLE = ROOT / "samples" / "conversation.mp4"


def timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    clipkit = [sys.executable, "-m", "clipkit.cli"]
    ffmpeg = find_ffmpeg().path
    with tempfile.TemporaryDirectory() as tmp_name:
        root = Path(tmp_name) / "project"
        subprocess.run([*clipkit, "init", str(root)], check=True, stdout=subprocess.DEVNULL)
        (root / "clipkit.toml").write_text('[publish]\nplaylist = "Bench"\n', encoding="utf-8")
        for name in ("a.mp4", "b.mp4"):
            shutil.copy(SAMPLE, root / "recordings" / name)
        (root / "stories.toml").write_text(
            '[story."a.mp4"]\nconsent = "given"\nstoryteller = "A"\n'
            '[story."b.mp4"]\nconsent = "given"\nstoryteller = "B"\n',
            encoding="utf-8",
        )
        (root / "plan.csv").write_text(
            "source,start,end,title\nrecordings/a.mp4,2,14,One\nrecordings/b.mp4,20,32,Two\n"
            "recordings/a.mp4,36,48,Three\n",
            encoding="utf-8",
        )
        cut = timed([*clipkit, "--project", str(root), "cut", "-q", "--no-burn", "--jobs", "1"])
        (root / "films").mkdir()
        (root / "films" / "f.toml").write_text(
            'title = "Bench"\nmoments = ["one", "two", "three"]\nend = ["Thanks"]\n', "utf-8"
        )
        film = timed([*clipkit, "--project", str(root), "film", "-q"])
        parts = [root / "extracts" / f"{s}.mp4" for s in ("one", "two", "three")]
        inputs = [a for p in parts for a in ("-i", str(p))]
        bare = timed([ffmpeg, "-y", "-loglevel", "error", *inputs, "-filter_complex",
                      "[0:v][0:a][1:v][1:a][2:v][2:a]concat=n=3:v=1:a=1[v][a]", "-map", "[v]",
                      "-map", "[a]", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20",
                      "-c:a", "aac", str(Path(tmp_name) / "bare.mp4")])  # fmt: skip
        length = probe(root / "films" / "f.mp4").duration_ms / 1000
    print(f"\nFilm of 3 moments (12 s each) + 2 cards, {length:.1f} s long, 1 run\n")
    print("| | seconds | ratio to clipkit film |")
    print("|---|---:|---:|")
    print(f"| clipkit film (cards, crossfades, lower thirds, chapters) | {film:.2f} | 1.00 |")
    print(f"| cutting its 3 moments (clipkit cut, --jobs 1) | {cut:.2f} | {cut / film:.2f} |")
    print(f"| bare ffmpeg concat re-encode of the 3 extracts | {bare:.2f} | {bare / film:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
