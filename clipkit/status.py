"""`clipkit status`: per recording and extract of a project, what is done, stale or failed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .cut import CutOptions, prepare_row, state_of
from .errors import ClipkitError
from .plan import read_plan
from .project import STATE_DIR, Project, project_recordings, recording_id
from .publish import STATE_NAME, PublishState
from .stories import consent_of, load_stories
from .transcribe import TranscribeOptions, is_fresh, output_paths


def _failed(project: Project, name: str) -> bool:
    return (project.root / STATE_DIR / "failed" / name).exists()


def project_status(project: Project) -> dict[str, Any]:
    recordings = []
    stories = load_stories(project.root)
    transcribing = TranscribeOptions.from_settings(project.settings.get("transcribe", {}))
    for rec in project_recordings(project):
        outputs = output_paths(rec, project.transcripts, transcribing.formats)
        if _failed(project, f"{recording_id(rec)}.transcript"):
            state = "failed"
        elif is_fresh(rec, project.transcripts, transcribing):
            state = "done"
        elif any(o.exists() for o in outputs):
            state = "stale"
        else:
            state = "missing"
        recordings.append(
            {"name": rec.name, "transcript": state, "consent": consent_of(stories, rec.name)}
        )
    published = _published(project.extracts / STATE_NAME)
    extracts = []
    options = CutOptions.from_settings(project.settings.get("cut", {}), project.extracts)
    rows = read_plan(project.plan) if project.plan.is_file() else []
    for row in rows:
        try:
            ex = prepare_row(row, project.root, options, {})
        except ClipkitError as exc:
            extracts.append(
                {
                    "slug": row.title or row.where,
                    "video": "invalid",
                    "error": str(exc),
                    "row": row.where,
                }
            )
            continue
        video = project.extracts / f"{ex.slug}.mp4"
        if _failed(project, f"{ex.slug}.extract"):
            state = "failed"
        elif (made := state_of(ex, options)) != "stale":
            state = "done" if made == "done" else "metadata changed"
        elif video.exists():
            state = "stale"
        else:
            state = "missing"
        entry = {"slug": ex.slug, "video": state, "row": row.where}
        if ex.slug in published:
            from .youtube import YouTubeChannel  # the platform names its own addresses

            entry["published"] = f"published as {YouTubeChannel.video_url(published[ex.slug])}"
        extracts.append(entry)
    return {"project": str(project.root), "recordings": recordings, "extracts": extracts}


def _published(state_file: Path) -> dict[str, str]:
    if not state_file.is_file():
        return {}
    try:
        return PublishState(state_file).published()
    except ClipkitError:
        return {}
