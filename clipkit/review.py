"""`clipkit review`: the story archive in editor mode, served on 127.0.0.1, where selected
transcript text becomes a plan row (written by this local server into plan.csv)."""

from __future__ import annotations

import functools
import json
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .archive import build_site
from .errors import InputError
from .plan import slugify, update_plan
from .project import Project
from .serve import QuietHandler
from .timecode import format_clock

REVIEW_DIR = Path(".clipkit") / "review"
PAD_MS = 200
REVIEW_ORIGIN = "review"


def review_row(project: Project, data: dict[str, Any]) -> dict[str, str]:
    """A plan row from the editor's selection: whole words padded, kept out of their
    neighbours, as `select --apply` does."""
    from .formats import read_transcript
    from .select import padded_bounds

    title = str(data.get("title") or "").strip()
    source = str(data.get("source") or "")
    if not title:
        raise InputError("the extract needs a title")
    try:
        start, end = round(float(data["start"]) * 1000), round(float(data["end"]) * 1000)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError("start and end must be seconds") from exc
    if not source or end <= start:
        raise InputError("select some words of the transcript first")
    transcript = project.transcripts / f"{Path(source).stem}.json"
    if not transcript.is_file():
        raise InputError(f"no transcript for {source}")
    start, end = padded_bounds(read_transcript(transcript).words, start, end, PAD_MS)
    return {
        "source": source, "start": format_clock(start), "end": format_clock(end), "title": title,
        "description": str(data.get("description") or ""),
        "tags": ";".join(t.strip() for t in str(data.get("tags") or "").split(";") if t.strip()),
        "slug": slugify(title), "origin": REVIEW_ORIGIN,
    }  # fmt: skip


class ReviewHandler(QuietHandler):
    project: Project

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        if self.path != "/api/rows":
            self.send_error(404)
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
            data = json.loads(self.rfile.read(min(length, 1 << 16)) or b"{}")
            row = review_row(self.project, data)
            update_plan(self.project.plan, [row])
            reply = {
                "ok": True,
                "row": f"{row['title']} ({row['start']} to {row['end']}) in plan.csv",
            }
        except (InputError, ValueError) as exc:
            reply = {"ok": False, "error": str(exc)}
        body = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def start_review(project: Project, port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Build the editor-mode site and serve the project on 127.0.0.1 (its recordings are linked
    from the pages). Returns the running server and the index URL."""
    site = project.root / REVIEW_DIR
    build_site(project, site, link_media=True, editor=True)
    handler = type("Handler", (ReviewHandler,), {"project": project})
    server = ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(handler, directory=str(project.root))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/{REVIEW_DIR.as_posix()}/index.html"
