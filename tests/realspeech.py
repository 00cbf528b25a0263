"""Real human speech from public repositories, kept beside the project in ../shared/realspeech
(never copied into it): the manifest's items with their reference text, words and turns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from clipkit.metrics import speech_onsets

REALSPEECH = Path(__file__).resolve().parent.parent.parent / "shared" / "realspeech"
MISSING = f"real speech not found at {REALSPEECH} (the workplace's shared folder)"


def items() -> list[dict[str, Any]]:
    manifest = json.loads((REALSPEECH / "manifest.json").read_text(encoding="utf-8"))
    out = []
    for item in manifest["items"]:
        item = dict(item, path=REALSPEECH / item["file"])
        spans = [(w["start"], w["end"]) for w in item.get("words") or []] or [
            (t["start"], t["end"]) for t in item.get("speaker_turns") or []
        ]
        item["onsets"] = speech_onsets(spans) if spans else []
        out.append(item)
    return out
