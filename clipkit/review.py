"""`clipkit review`: the story archive in editor mode, served on 127.0.0.1, where selected
transcript text becomes a plan row (written by this local server into plan.csv).

A local tool that no web page can drive: only the review site (built into .clipkit/review) and
the media it names are served, never the project folder; every request must carry this run's
Host, and the secret token of the URL it prints (as Jupyter does: the token in the URL, then a
same-site cookie); a write must come from this server's own origin, as JSON of bounded size.
Every bad request is answered with a 4xx and a JSON error, never a traceback.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import mimetypes
import os
import re
import secrets
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Any

from .archive import build_site, project_file
from .errors import ClipkitError, InputError
from .plan import slugify, update_plan
from .project import Project, project_recordings
from .timecode import format_clock

log = logging.getLogger(__name__)

REVIEW_DIR = Path(".clipkit") / "review"
PAD_MS = 200
REVIEW_ORIGIN = "review"
MAX_BODY = 64 * 1024  # a plan row is a few hundred bytes
TITLE_MAX = 100
TEXT_MAX = 5000
HIDDEN_SUFFIXES = (".toml", ".json", ".csv", ".md", ".lock", ".part")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; media-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # the URL carries the token
    "Cache-Control": "no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _one_line(value: Any, limit: int, what: str) -> str:
    text = " ".join(_CONTROL.sub(" ", str(value or "")).split())
    if len(text) > limit:
        raise InputError(f"the {what} is longer than {limit} characters")
    return text


def _seconds(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InputError("start and end must be seconds")
    try:
        seconds = float(value)
    except ValueError as exc:
        raise InputError("start and end must be seconds") from exc
    if not math.isfinite(seconds):
        raise InputError(f"{key} must be a finite number of seconds")
    return round(seconds * 1000)


def review_row(project: Project, data: dict[str, Any]) -> dict[str, str]:
    """A plan row from the editor's selection, checked as `cut` checks rows (a recording of
    this project, 0 <= start < end <= its duration): whole words padded, kept out of their
    neighbours, as `select --apply` does."""
    from .formats import read_transcript
    from .select import padded_bounds

    if not isinstance(data, dict):
        raise InputError("the request must be a JSON object")
    title = _one_line(data.get("title"), TITLE_MAX, "title")
    if not title:
        raise InputError("the extract needs a title")
    start, end = _seconds(data, "start"), _seconds(data, "end")
    source = str(data.get("source") or "")
    if not source:
        raise InputError("select some words of the transcript first")
    recording = project_file(project, source, "source")
    mine = {p.resolve(): p for p in project_recordings(project)}
    if recording.resolve() not in mine and recording not in mine.values():
        raise InputError(f"source {source!r} is not a recording of this project")
    transcript = project.transcripts / f"{recording.stem}.json"
    if not transcript.is_file():
        raise InputError(f"no transcript for {source}")
    loaded = read_transcript(transcript)
    duration = loaded.duration_ms or (loaded.words[-1].end if loaded.words else 0)
    if not 0 <= start < end:
        raise InputError("the extract must start at 0 or later and end after its start")
    if duration and end > duration + 1:
        raise InputError(f"the extract ends after the recording ({format_clock(duration)})")
    start, end = padded_bounds(loaded.words, start, end, PAD_MS)
    tags = [_one_line(t, TITLE_MAX, "tag") for t in str(data.get("tags") or "").split(";")]
    return {
        "source": os.path.relpath(os.path.normpath(project.root / source), project.root),
        "start": format_clock(start), "end": format_clock(end), "title": title,
        "description": _one_line(data.get("description"), TEXT_MAX, "description"),
        "tags": ";".join(t for t in tags if t),
        "slug": slugify(title), "origin": REVIEW_ORIGIN,
    }  # fmt: skip


class ReviewServer(ThreadingHTTPServer):
    daemon_threads = True
    project: Project
    site: Path
    media: dict[str, Path]
    token: str
    storyteller: str = ""
    storyteller_extracts: dict[str, str] = {}  # slug -> the video's SHA-256 they see

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("review: request from %s failed", client_address, exc_info=True)

    @property
    def origins(self) -> set[str]:
        return {f"http://{host}" for host in self.hosts}

    @property
    def hosts(self) -> set[str]:
        return {f"127.0.0.1:{self.server_port}", f"localhost:{self.server_port}"}


class ReviewHandler(BaseHTTPRequestHandler):
    server: ReviewServer
    server_version = "clipkit-review"
    sys_version = ""
    timeout = 20  # a client that stops sending mid-request is dropped
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("review: " + format, *args)

    # --- answers ------------------------------------------------------------------------------

    def _common_headers(self) -> None:
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)

    def _json(self, status: int, body: dict[str, Any], extra: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self._common_headers()
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        if status >= 400:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (a malformed request line, an unknown method) as JSON."""
        self._json(code, {"ok": False, "error": message or self.responses.get(code, ("",))[0]})

    def _guarded(self, work: Any) -> None:
        try:
            work()
        except BadRequest as exc:
            self._json(exc.status, {"ok": False, "error": str(exc)})
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:
            log.debug("review: internal error", exc_info=True)
            self._json(
                500, {"ok": False, "error": "internal error (clipkit --debug review shows it)"}
            )

    # --- checks -------------------------------------------------------------------------------

    def _check_host(self) -> None:
        if self.headers.get("Host", "") not in self.server.hosts:
            raise BadRequest(403, "wrong Host: open the address clipkit review printed")
        origin = self.headers.get("Origin")
        if origin is not None and origin not in self.server.origins:
            raise BadRequest(403, "requests from other sites are refused")

    def _token_from(self, query: dict[str, list[str]]) -> str | None:
        given = self.headers.get("X-Clipkit-Token") or (query.get("token") or [None])[0]
        if given:
            return given
        for part in self.headers.get("Cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == self._cookie_name:
                return value
        return None

    @property
    def _cookie_name(self) -> str:
        return f"clipkit-review-{self.server.server_port}"

    def _check_token(self, query: dict[str, list[str]]) -> bool:
        """Whether the token came in the URL (then it is set as a cookie)."""
        given = self._token_from(query)
        if not given or not hmac.compare_digest(given.encode(), self.server.token.encode()):
            raise BadRequest(403, "missing or wrong token: open the address clipkit review printed")
        return bool(query.get("token"))

    def _target(self) -> tuple[str, dict[str, list[str]]]:
        parts = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(parts.path)
        if _CONTROL.search(path) or "\\" in path:
            raise BadRequest(400, "bad path")
        return path, urllib.parse.parse_qs(parts.query)

    # --- GET: the review site and its media ---------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._guarded(self._get)

    def do_HEAD(self) -> None:  # noqa: N802
        self._guarded(self._get)

    def _get(self) -> None:
        self._check_host()
        path, query = self._target()
        from_url = self._check_token(query)
        file = self._file_for(path)
        cookie = (
            {
                "Set-Cookie": f"{self._cookie_name}={self.server.token}; Path=/; HttpOnly; SameSite=Strict"
            }
            if from_url
            else {}
        )
        self._send_file(file, cookie)

    def _file_for(self, path: str) -> Path:
        parts = PurePosixPath(path).parts[1:] if path.startswith("/") else ()
        if not parts:
            parts = ("index.html",)
        if any(p.startswith(".") for p in parts) or parts[-1].lower().endswith(HIDDEN_SUFFIXES):
            raise BadRequest(404, "not found")
        if parts[0] == "media" and len(parts) == 2:
            found = self.server.media.get(parts[1])
            if found is None or not found.is_file():
                raise BadRequest(404, "not found")
            return found
        site = self.server.site.resolve()
        file = site.joinpath(*parts).resolve()
        if site not in file.parents or not file.is_file():  # folders are never listed
            raise BadRequest(404, "not found")
        return file

    def _send_file(self, file: Path, extra: dict[str, str]) -> None:
        size = file.stat().st_size
        first, last, status = 0, size - 1, 200
        wanted = self.headers.get("Range")
        if wanted:
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", wanted.strip())
            if not m or not (m.group(1) or m.group(2)):
                raise BadRequest(416, "bad Range")
            if m.group(1):
                first = int(m.group(1))
                last = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
            else:  # the last N bytes
                first, last = max(0, size - int(m.group(2))), size - 1
            if first >= size or last < first:
                self._json(416, {"ok": False, "error": f"the range is past the end ({size} bytes)"},
                           {"Content-Range": f"bytes */{size}"})  # fmt: skip
                return
            status = 206
        self.send_response(status)
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(last - first + 1))
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self._common_headers()
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command == "HEAD":
            return
        with file.open("rb") as fh:
            fh.seek(first)
            remaining = last - first + 1
            while remaining > 0:
                chunk = fh.read(min(1 << 16, remaining))
                if not chunk:
                    break
                self.wfile.write(chunk)
                remaining -= len(chunk)

    # --- POST: a plan row ---------------------------------------------------------------------

    def do_POST(self) -> None:  # noqa: N802
        self._guarded(self._post)

    def _post(self) -> None:
        self._check_host()
        path, query = self._target()
        if self.headers.get("Origin") is None:
            raise BadRequest(403, "a write must come from the review page")
        self._check_token(query)
        if path not in ("/api/rows", "/api/signoff"):
            raise BadRequest(404, "not found")
        if self.headers.get_content_type() != "application/json":
            raise BadRequest(415, "send the row as application/json")
        data = self._body()
        if path == "/api/signoff":
            return self._signoff(data)
        try:
            row = review_row(self.server.project, data)
            added = update_plan(self.server.project.plan, [row])
        except ClipkitError as exc:
            raise BadRequest(400, str(exc)) from exc
        where = "in plan.csv" if added else "already in plan.csv (the same range)"
        self._json(
            200, {"ok": True, "row": f"{row['title']} ({row['start']} to {row['end']}) {where}"}
        )

    def _signoff(self, data: dict[str, Any]) -> None:
        from .signoff import record_signoff

        who = self.server.storyteller
        if not who:
            raise BadRequest(403, "this review server was not started for a storyteller")
        slug, state = str(data.get("slug") or ""), str(data.get("state") or "")
        mine = self.server.storyteller_extracts
        if slug not in mine:
            raise BadRequest(400, f"{slug!r} is not one of {who}'s extracts")
        if state not in ("approved", "declined"):
            raise BadRequest(400, "state must be approved or declined")
        try:
            record_signoff(self.server.project.extracts, [(slug, mine[slug])], state, who)
        except ClipkitError as exc:
            raise BadRequest(400, str(exc)) from exc
        self._json(
            200,
            {
                "ok": True,
                "message": f"{'Approved' if state == 'approved' else 'Declined'}, thank you",
            },
        )

    def _body(self) -> Any:
        raw = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding"):
            raise BadRequest(411, "send a Content-Length, not a chunked body")
        if raw is None:
            raise BadRequest(411, "Content-Length required")
        if not raw.strip().isdigit():
            raise BadRequest(400, "bad Content-Length")
        length = int(raw)
        if length > MAX_BODY:
            raise BadRequest(413, f"body over {MAX_BODY} bytes")
        body = self.rfile.read(length)
        if len(body) < length:
            raise BadRequest(400, "body shorter than its Content-Length")

        def no_constants(name: str) -> None:
            raise ValueError(f"{name} is not a number")

        try:
            data = json.loads(body.decode("utf-8"), parse_constant=no_constants)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise BadRequest(400, "the body is not JSON") from exc
        if not isinstance(data, dict):
            raise BadRequest(400, "the request must be a JSON object")
        return data

    def _refuse(self) -> None:
        self._guarded(lambda: (_ for _ in ()).throw(BadRequest(405, "method not allowed")))

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse  # noqa: N815


def storyteller_page(
    project: Project, site: Path, name: str
) -> tuple[dict[str, str], dict[str, Path]]:
    """signoff.html: only `name`'s extracts (stories whose storyteller they are), each with its
    video and Approve / Decline. Returns {slug: video SHA-256} and the media it names."""
    import html as html_lib

    from .archive import Theme
    from .fsutil import atomic_write_text
    from .sidecar import NotASidecar, read_sidecar
    from .signoff import load_signoffs, state_of
    from .stories import load_stories

    wanted = " ".join(name.split()).casefold()
    stories = {r: s for r, s in load_stories(project.root).items()
               if " ".join(s.storyteller.split()).casefold() == wanted}  # fmt: skip
    if not stories:
        raise InputError(f"no story in stories.toml has storyteller = {name!r}")
    records = load_signoffs(project.extracts)
    extracts, media, items = {}, {}, []
    for path in sorted(project.extracts.glob("*.json")):
        try:
            side = read_sidecar(path)
        except NotASidecar:
            continue
        if Path(side.source).name not in stories or not (project.extracts / side.video).is_file():
            continue
        extracts[side.slug] = side.sha256
        media[f"signoff-{side.slug}.mp4"] = (project.extracts / side.video).resolve()
        state = state_of(records, side.slug, side.sha256)
        e = html_lib.escape
        items.append(
            f'<li class="signoff" data-slug="{e(side.slug)}" data-state="{e(state)}"><h2>{e(side.title)}</h2>'
            f'<video controls preload="metadata" src="media/signoff-{e(side.slug)}.mp4"></video>'
            f'<p class="meta">From {e(stories[Path(side.source).name].title or Path(side.source).stem)} · now: {e(state)}</p>'
            f'<p><button type="button" data-state="approved">Approve</button> '
            f'<button type="button" data-state="declined">Decline</button> <output role="status"></output></p></li>'
        )
    body = (
        f'<main id="main"><h1>Your extracts, {html_lib.escape(name)}</h1>'
        "<p>Watch each extract. Approve it to let it go online, or decline it: nothing you decline "
        "is published.</p>"
        f'<ul class="extracts">{"".join(items) or "<li>No extracts yet.</li>"}</ul></main>'
    )
    atomic_write_text(site / "signoff.html", Theme.load(project).page("Your extracts", body, 0))
    return extracts, media


def start_review(
    project: Project, port: int = 0, storyteller: str | None = None
) -> tuple[ReviewServer, str]:
    """Build the editor-mode site and serve it on 127.0.0.1 with a fresh secret token. Returns
    the running server and the index URL (with the token: the only way in). With a
    `storyteller`, the address is their sign-off page."""
    site = project.root / REVIEW_DIR
    result = build_site(project, site, editor=True, serve_media=True)
    media = dict(result.media)
    extracts: dict[str, str] = {}
    if storyteller:
        extracts, extra = storyteller_page(project, site, storyteller)
        media.update(extra)
    try:
        server = ReviewServer(("127.0.0.1", port), ReviewHandler)
    except OSError as exc:
        raise InputError(
            f"port {port}: {exc.strerror} (another program uses it? try --port 0)"
        ) from exc
    server.project, server.site, server.media = project, site, media
    server.storyteller, server.storyteller_extracts = (storyteller or "").strip(), extracts
    server.token = secrets.token_urlsafe(24)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    page = "signoff.html" if storyteller else "index.html"
    return server, f"http://127.0.0.1:{server.server_port}/{page}?token={server.token}"
