"""What the archive is built from: the project's transcripts, recordings and extract sidecars,
each path refused unless it lies inside the project."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..project import Project, project_recordings
from ..sidecar import EXTRACT_FORMAT, ExtractSidecar
from ..transcript import JSON_FORMAT, Transcript, from_json_dict


def project_file(project: Project, value: str | os.PathLike[str], what: str) -> Path:
    """A file named by the project's settings or metadata, refused unless it resolves inside the
    project (links followed). A recording linked into recordings/ by the user is the exception:
    recordings often live on another disk."""
    from ..fsutil import inside

    root = project.root
    lexical = Path(os.path.normpath(root / value))
    if lexical.parent == Path(os.path.normpath(project.recordings)):
        return lexical
    return inside(root, value, what)


def _documents(folder: Path, fmt: str) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The JSON files of `folder` in clipkit's format `fmt` (others are skipped), parsed once."""
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot be read ({exc})") from exc
        except ValueError as exc:  # a damaged file is named, not mistaken for no file at all
            raise InputError(f"{path}: damaged, not JSON ({exc}); make it again") from exc
        if isinstance(data, dict) and data.get("format") == fmt:
            yield path, data


def load_transcripts(project: Project) -> dict[str, Transcript]:
    """Every clipkit transcript JSON in the project's transcripts/, by name."""
    out = {
        path.stem: from_json_dict(data, str(path))
        for path, data in _documents(project.transcripts, JSON_FORMAT)
    }
    if not out:
        raise InputError(
            f"no transcripts in {project.transcripts} (run `clipkit transcribe` first)"
        )
    return out


def recording_paths(project: Project, transcripts: dict[str, Transcript]) -> dict[str, str]:
    """Each transcript's recording, relative to the project (as plan.csv names it)."""
    by_stem = {p.stem: p for p in project_recordings(project)}
    out = {}
    for name, t in transcripts.items():
        path = by_stem.get(name) or (Path(t.source) if t.source else None)
        if path is None:
            out[name] = f"recordings/{name}"
            continue
        try:
            rel = os.path.relpath(path.absolute(), project.root)
        except ValueError:  # another drive on Windows
            rel = ".."
        # a transcript made elsewhere (a project copied or moved) names its recording where it
        # was: the project's own recordings/ is where it belongs now, never outside
        out[name] = f"recordings/{path.name}" if rel.startswith("..") else rel
    return out


def extract_sidecars(project: Project) -> list[tuple[Path, ExtractSidecar]]:
    out = [
        (path, ExtractSidecar.from_json_dict(data, str(path)))
        for path, data in _documents(project.extracts, EXTRACT_FORMAT)
    ]
    return sorted(out, key=lambda e: (e[1].plan_row, e[1].start_ms))


def story_title(recording: Path, name: str) -> str:
    sidecar = recording.with_name(recording.name + ".source.json")
    if sidecar.is_file():
        try:
            title = json.loads(sidecar.read_text(encoding="utf-8")).get("title")
            if title:
                return str(title)
        except (OSError, ValueError):
            pass
    return name.replace("-", " ").replace("_", " ").strip().capitalize() or name
