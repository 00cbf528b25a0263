"""`clipkit publish` and `clipkit auth`: the real google-api-python-client and google-auth talking
to a fake YouTube Data API on 127.0.0.1 that speaks the resumable-upload protocol."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import webbrowser
from collections.abc import Iterator
from pathlib import Path

import pytest

from clipkit.publish import STATE_NAME
from clipkit.youtube import SCOPES

from .conftest import ROOT, invoke
from .fake_youtube import FakeYouTube

CHUNK = 256 * 1024
FAST = ["--chunk-size", "256K", "--retry-wait", "0.001", "--timeout", "5", "-q"]
SECRET = "s3cret-client-secret"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeYouTube]:
    server = FakeYouTube().start()
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("CLIPKIT_HOME", str(home))
    monkeypatch.setenv("CLIPKIT_YOUTUBE_API_ROOT", server.url)
    yield server
    server.stop()


def write_token(fake: FakeYouTube, expired: bool = False) -> str:
    access, refresh = fake.issue_tokens()
    expiry = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=-1 if expired else 1)
    token = {
        "token": access, "refresh_token": refresh, "token_uri": f"{fake.url}token",
        "client_id": "123-abc.apps.googleusercontent.com", "client_secret": SECRET,
        "scopes": SCOPES, "expiry": expiry.isoformat() + "Z",
    }  # fmt: skip
    path = Path(os.environ["CLIPKIT_HOME"]) / "youtube-token.json"
    path.write_text(json.dumps(token))
    path.chmod(0o600)
    return refresh


def make_extracts(folder: Path, sizes: list[int], titles: list[str] | None = None) -> list[Path]:
    """Sidecars as `clipkit cut` writes them, with videos of the given sizes (content random)."""
    folder.mkdir(parents=True, exist_ok=True)
    sidecars = []
    for k, size in enumerate(sizes):
        slug = f"story-{k + 1}"
        video = folder / f"{slug}.mp4"
        video.write_bytes(os.urandom(size))
        (folder / f"{slug}.srt").write_text(
            f"1\n00:00:00,000 --> 00:00:02,000\nLine {k}\n", encoding="utf-8"
        )
        side = {
            "format": "clipkit-extract/1", "title": (titles or [])[k] if titles else f"Story {k + 1}",
            "description": f"Part {k + 1}", "tags": ["community", "stories"], "slug": slug,
            "video": video.name, "subtitles": {"srt": f"{slug}.srt", "vtt": f"{slug}.vtt"},
            "sha256": hashlib.sha256(video.read_bytes()).hexdigest(), "plan_row": f"plan.csv:{k + 2}",
        }  # fmt: skip
        sidecars.append(folder / f"{slug}.json")
        sidecars[-1].write_text(json.dumps(side), encoding="utf-8")
    return sidecars


def state_of(folder: Path) -> dict:
    return json.loads((folder / STATE_NAME).read_text(encoding="utf-8"))


def assert_consistent(
    fake: FakeYouTube, folder: Path, count: int, playlist: str = "Stories"
) -> None:
    """No duplicate videos, the playlist in plan order, the state file valid and true."""
    state = state_of(folder)
    playlist_id = state["playlists"][playlist]
    assert len(fake.videos) == count
    by_slug = {e["slug"]: e for e in state["extracts"].values() if e.get("video_id")}
    expected = [by_slug[f"story-{k + 1}"]["video_id"] for k in range(count)]
    assert fake.playlist_video_ids(playlist_id) == expected
    for k in range(count):
        video = (folder / f"story-{k + 1}.mp4").read_bytes()
        entry = state["extracts"][hashlib.sha256(video).hexdigest()]
        assert fake.video_sha256(entry["video_id"]) == hashlib.sha256(video).hexdigest()
        assert "session_uri" not in entry and entry["caption"]["id"]
    assert len(fake.captions) == count


def publish(folder: Path, *extra: str):  # type: ignore[no-untyped-def]
    return invoke("publish", str(folder), "--playlist", "Stories", *FAST, *extra)


def test_publish_then_rerun_makes_no_upload_calls(fake: FakeYouTube, tmp_path: Path) -> None:
    write_token(fake)
    folder = tmp_path / "extracts"
    make_extracts(folder, [600_000, 300_000, 100_000])
    result = publish(folder, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [e["status"] for e in report["extracts"]] == ["published"] * 3
    # playlists.list + insert, the channel's uploads checked (channels.list, one page), then
    # each extract's upload, playlist item and captions
    assert report["quota_used"] == 1 + 50 + 2 + 3 * (1600 + 50 + 400)
    assert_consistent(fake, folder, 3)
    assert fake.count("chunk") == 3 + 2 + 1  # 256K chunks
    playlist = fake.playlists[state_of(folder)["playlists"]["Stories"]]
    assert (
        playlist["snippet"]["title"] == "Stories"
        and playlist["status"]["privacyStatus"] == "private"
    )
    video = fake.videos[json.loads(result.stdout)["extracts"][0]["video_id"]]
    assert video["snippet"]["title"] == "Story 1" and video["snippet"]["tags"] == [
        "community",
        "stories",
        "clipkit-" + hashlib.sha256((folder / "story-1.mp4").read_bytes()).hexdigest()[:16],
    ]

    before = list(fake.requests)
    again = publish(folder, "--json")
    assert again.exit_code == 0
    assert [e["status"] for e in json.loads(again.stdout)["extracts"]] == ["already"] * 3
    new = fake.requests[len(before) :]
    assert not [
        r
        for r in new
        if r[1] in ("session", "chunk", "status", "captions.insert", "playlistItems.insert")
    ]
    assert_consistent(fake, folder, 3)


def test_playlist_found_by_title_across_pages(fake: FakeYouTube, tmp_path: Path) -> None:
    write_token(fake)
    for title in ("A", "B", "C", "Stories", "E"):
        pid = f"PLx{title}"
        fake.playlists[pid] = {"id": pid, "snippet": {"title": title}}
    folder = tmp_path / "extracts"
    make_extracts(folder, [100_000])
    assert publish(folder).exit_code == 0
    assert state_of(folder)["playlists"]["Stories"] == "PLxStories"
    assert fake.count("playlists.list") == 2 and fake.count("playlists.insert") == 0


@pytest.mark.parametrize("fault", [503, 500, 429, "drop"])
def test_transient_fault_on_a_chunk(fault: object, fake: FakeYouTube, tmp_path: Path) -> None:
    write_token(fake)
    folder = tmp_path / "extracts"
    make_extracts(folder, [900_000, 200_000])
    fake.inject("chunk", fault)
    fake.inject("chunk", fault)  # twice: the second hits the retry of the first
    result = publish(folder)
    assert result.exit_code == 0, result.output
    assert_consistent(fake, folder, 2)
    upload = next(u for u in fake.uploads.values() if u.total == 900_000)
    assert upload.resent <= CHUNK


def test_dropped_connection_mid_chunk_resends_at_most_one_chunk(
    fake: FakeYouTube, tmp_path: Path
) -> None:
    write_token(fake)
    folder = tmp_path / "extracts"
    make_extracts(folder, [1_200_000])
    for _ in range(3):
        fake.inject("chunk", "drop")
    assert publish(folder).exit_code == 0
    (upload,) = fake.uploads.values()
    assert upload.resent <= CHUNK and len(upload.data) == 1_200_000
    assert_consistent(fake, folder, 1)


def test_quota_exceeded_fails_fast_with_reset_time(fake: FakeYouTube, tmp_path: Path) -> None:
    write_token(fake)
    folder = tmp_path / "extracts"
    make_extracts(folder, [100_000, 100_000])
    fake.inject("session", "quota")
    result = publish(folder)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: YouTube's daily API quota is used up (uploading story-1.mp4); it resets at midnight Pacific time ("
    )
    assert result.stderr.count("\n") == 1
    assert fake.videos == {} and fake.count("session") == 1  # no retry of a quota error
    json.loads((folder / STATE_NAME).read_text())  # the state file is valid


def test_upload_limit_exceeded(fake: FakeYouTube, tmp_path: Path) -> None:
    write_token(fake)
    folder = tmp_path / "extracts"
    make_extracts(folder, [100_000])
    fake.inject("session", "upload-limit")
    result = publish(folder)
    assert result.exit_code == 1 and "YouTube's upload limit is used up" in result.stderr


def test_expired_access_token_is_refreshed_and_upload_continues(
    fake: FakeYouTube, tmp_path: Path
) -> None:
    write_token(fake)
    folder = tmp_path / "extracts"
    make_extracts(folder, [700_000])
    fake.inject("chunk", "expire")  # the access token stops working mid-upload: 401
    result = publish(folder)
    assert result.exit_code == 0, result.output
    assert [r["grant_type"] for r in fake.token_requests] == ["refresh_token"]
    assert_consistent(fake, folder, 1)
    saved = json.loads((Path(os.environ["CLIPKIT_HOME"]) / "youtube-token.json").read_text())
    assert saved["token"] in fake.access_tokens  # the refreshed token was kept


def test_revoked_refresh_token(fake: FakeYouTube, tmp_path: Path) -> None:
    refresh = write_token(fake, expired=True)
    fake.revoke(refresh)
    folder = tmp_path / "extracts"
    make_extracts(folder, [100_000])
    result = publish(folder)
    assert result.exit_code == 1
    assert (
        result.stderr
        == "Error: YouTube refused the saved login (expired or revoked): run `clipkit auth login`\n"
    )
    assert fake.videos == {}


def test_not_logged_in(fake: FakeYouTube, tmp_path: Path) -> None:
    folder = tmp_path / "extracts"
    make_extracts(folder, [100_000])
    result = publish(folder)
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: not logged in to YouTube: run `clipkit auth login`\n",
    )


def test_killed_mid_upload_resumes_from_confirmed_offset(fake: FakeYouTube, tmp_path: Path) -> None:
    write_token(fake)
    folder = tmp_path / "extracts"
    make_extracts(folder, [3_000_000, 200_000])
    fake.chunk_delay = 0.15
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "clipkit.cli", "publish", str(folder), "--playlist", "Stories", *FAST],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    confirmed = 0
    while time.monotonic() < deadline and confirmed < 3 * CHUNK:
        time.sleep(0.05)
        try:
            entries = state_of(folder)["extracts"].values()
            confirmed = max((e.get("bytes_confirmed", 0) for e in entries), default=0)
        except (FileNotFoundError, json.JSONDecodeError):
            continue
    assert confirmed >= 3 * CHUNK, "the upload never got going"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    fake.chunk_delay = 0.0
    sessions_before = fake.count("session")

    result = publish(folder)
    assert result.exit_code == 0, result.output
    assert fake.count("session") == sessions_before + 1  # only the second extract starts a session
    assert fake.count("status") >= 1  # the first asked the server where to resume
    big = next(u for u in fake.uploads.values() if u.total == 3_000_000)
    assert big.resent == 0 and len(big.data) == 3_000_000, fake.ranges  # every byte received once
    assert_consistent(fake, folder, 2)


def test_changed_extract_needs_replace(fake: FakeYouTube, tmp_path: Path) -> None:
    write_token(fake)
    folder = tmp_path / "extracts"
    make_extracts(folder, [100_000, 100_000])
    assert publish(folder).exit_code == 0
    old_id = state_of(folder)["extracts"][
        hashlib.sha256((folder / "story-1.mp4").read_bytes()).hexdigest()
    ]["video_id"]
    (folder / "story-1.mp4").write_bytes(os.urandom(120_000))  # re-cut

    result = publish(folder)
    assert result.exit_code == 1
    assert (
        result.stderr
        == "Error: 1 extract(s) changed since they were published (story-1): --replace replaces them\n"
    )
    assert len(fake.videos) == 2 and fake.count("session") == 2

    replaced = publish(folder, "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert old_id not in fake.videos
    assert_consistent(fake, folder, 2)


def test_quota_budget_stops_before_exceeding(fake: FakeYouTube, tmp_path: Path) -> None:
    write_token(fake)
    folder = tmp_path / "extracts"
    make_extracts(folder, [100_000, 100_000])
    result = publish(folder, "--quota-budget", "2200")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: stopped before videos.insert (1600 units): it would exceed the quota budget of 2200 units (2103 used)"
    )
    assert len(fake.videos) == 1
    assert publish(folder).exit_code == 0  # the next day: carries on
    assert_consistent(fake, folder, 2)


def test_unverified_project_note_and_fixups(fake: FakeYouTube, tmp_path: Path) -> None:
    fake.lock_private = True
    write_token(fake)
    folder = tmp_path / "extracts"
    long_title = "A " * 60
    make_extracts(folder, [100_000], titles=[long_title])
    side = json.loads((folder / "story-1.json").read_text())
    side["description"] = "Use <b>bold</b> " + "x" * 6000
    (folder / "story-1.json").write_text(json.dumps(side))
    result = invoke(
        "publish", str(folder), "--playlist", "Stories", "--privacy", "public", *FAST[:-1]
    )
    assert result.exit_code == 0, result.output
    assert "Warning: story-1.json: title shortened to 100 characters" in result.stderr
    assert "Warning: story-1.json: < and > in the description replaced by ‹ and ›" in result.stderr
    assert "Warning: story-1.json: description shortened to 5000 bytes" in result.stderr
    assert (
        "uploaded as private, not public" in result.stderr
        and "unverified API projects" in result.stderr
    )
    (video,) = fake.videos.values()
    assert (
        len(video["snippet"]["title"]) == 100
        and len(video["snippet"]["description"].encode()) <= 5000
    )


def test_dry_run_needs_no_login_and_calls_nothing(fake: FakeYouTube, tmp_path: Path) -> None:
    folder = tmp_path / "extracts"
    make_extracts(folder, [100_000, 100_000])
    result = invoke("publish", str(folder), "--playlist", "Stories", "--dry-run")
    assert result.exit_code == 0
    assert "Estimated quota: 4153 units of the 10000-unit daily budget" in result.stdout
    assert "a day's quota uploads about 4 extracts with their captions" in result.stdout
    assert fake.requests == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.pop("title"), "{side}: no title"),
        (
            lambda s: s.update(title="Best <script> ever"),
            "{side}: the title contains < or >, which YouTube does not accept",
        ),
        (lambda s: s.update(video="gone.mp4"), "{side}: video gone.mp4 is missing"),
    ],
)
def test_bad_sidecars(change, message: str, fake: FakeYouTube, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    write_token(fake)
    folder = tmp_path / "extracts"
    (side,) = make_extracts(folder, [100_000])
    data = json.loads(side.read_text())
    change(data)
    side.write_text(json.dumps(data))
    result = publish(folder)
    assert (result.exit_code, result.stderr) == (1, f"Error: {message.format(side=side)}\n")
    assert fake.requests == []


# --- OAuth ----------------------------------------------------------------------------------


class ScriptedBrowser(webbrowser.BaseBrowser):
    """Plays the user: approves at once and follows the redirect to clipkit's loopback server."""

    def __init__(self, fake: FakeYouTube) -> None:
        super().__init__("scripted")
        self.fake = fake
        self.opened: list[str] = []

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        self.opened.append(url)
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(url).query))
        code = "code-123"
        self.fake.auth_codes[code] = query["scope"]
        target = f"{query['redirect_uri']}?" + urllib.parse.urlencode(
            {"state": query["state"], "code": code, "scope": query["scope"]}
        )
        threading.Thread(
            target=lambda: urllib.request.urlopen(target, timeout=10).read(), daemon=True
        ).start()
        return True


def test_auth_login_status_logout(
    fake: FakeYouTube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "OAUTHLIB_INSECURE_TRANSPORT", "1"
    )  # the fake's token endpoint is plain http
    secrets = tmp_path / "client_secrets.json"
    secrets.write_text(json.dumps({"installed": {
        "client_id": "123-abc.apps.googleusercontent.com", "client_secret": SECRET,
        "auth_uri": f"{fake.url}auth", "token_uri": f"{fake.url}token", "redirect_uris": ["http://localhost"],
    }}))  # fmt: skip
    browser = ScriptedBrowser(fake)
    webbrowser.register("clipkit-test", None, browser)
    result = invoke(
        "auth", "login", "--client-secrets", str(secrets), "--browser-name", "clipkit-test"
    )
    assert result.exit_code == 0, result.output
    auth_url = urllib.parse.urlparse(browser.opened[0])
    params = dict(urllib.parse.parse_qsl(auth_url.query))
    assert set(params["scope"].split()) == set(SCOPES) and params["access_type"] == "offline"
    (grant,) = fake.token_requests
    assert (
        grant["grant_type"] == "authorization_code"
        and grant["code"] == "code-123"
        and grant["code_verifier"]
    )
    token = Path(os.environ["CLIPKIT_HOME"]) / "youtube-token.json"
    assert token.stat().st_mode & 0o777 == 0o600
    saved = json.loads(token.read_text())
    assert saved["refresh_token"] in fake.refresh_tokens

    status = invoke("auth", "status")
    assert status.exit_code == 0
    assert "channel: Community Reporters" in status.stdout and "youtube.upload" in status.stdout
    assert "token_file_mode: 0o600" in status.stdout
    for secret in (SECRET, saved["refresh_token"], saved["token"]):
        assert secret not in status.stdout and secret not in result.stdout

    out = invoke("auth", "logout")
    assert out.exit_code == 0 and not token.exists()
    assert invoke("auth", "status").stdout.startswith("Not logged in")


def test_auth_login_bad_secrets(
    fake: FakeYouTube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLIPKIT_CLIENT_SECRETS", raising=False)
    result = invoke("auth", "login")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: no OAuth client secrets: pass --client-secrets FILE or set CLIPKIT_CLIENT_SECRETS"
    )
    bad = tmp_path / "secrets.json"
    bad.write_text("{not json")
    result = invoke("auth", "login", "--client-secrets", str(bad))
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: {bad}: not valid JSON (expected OAuth client secrets)\n",
    )
    bad.write_text(json.dumps({"web_app": {}}))
    result = invoke("auth", "login", "--client-secrets", str(bad))
    assert result.exit_code == 1 and "not an OAuth client secrets file" in result.stderr
    missing = tmp_path / "nope.json"
    result = invoke("auth", "login", "--client-secrets", str(missing))
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: OAuth client secrets {missing} not found\n",
    )
    assert fake.requests == [] and fake.token_requests == []


def test_thumbnail_from_a_chosen_frame(fake: FakeYouTube, tmp_path: Path) -> None:
    from .conftest import ffmpeg

    write_token(fake)
    folder = tmp_path / "extracts"
    make_extracts(folder, [1000, 1000])
    for seconds, name in ((3, "story-1.mp4"), (4, "story-2.mp4")):  # two different real videos
        source = f"testsrc2=d={seconds}:s=320x240:r=25"
        ffmpeg(
            "-f",
            "lavfi",
            "-i",
            source,
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            str(folder / name),
        )
    fake.inject("thumbnails.set", "forbidden")  # the first: a channel not yet verified
    result = publish(folder, "--thumbnail-at", "1.5")
    assert result.exit_code == 0, result.output
    assert (
        "story-1.mp4: no custom thumbnail" in result.stderr and "verified channel" in result.stderr
    )
    (second,) = fake.thumbnails.values()
    assert second.startswith(b"\xff\xd8")  # a JPEG
    state = state_of(folder)
    assert [e["thumbnail"]["at"] for e in state["extracts"].values() if e.get("thumbnail")] == [1.5]
    again = publish(folder, "--thumbnail-at", "1.5")
    assert again.exit_code == 0
    assert fake.count("thumbnails.set") == 3  # the refused one is tried again, the set one is not


def test_playlist_stays_in_step_with_the_plan(fake: FakeYouTube, tmp_path: Path) -> None:
    write_token(fake)
    folder = tmp_path / "extracts"
    sidecars = make_extracts(folder, [100_000, 100_000, 100_000])
    assert publish(folder).exit_code == 0

    def edit(path: Path, **changes: str) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps({**data, **changes}), encoding="utf-8")

    # a new title for one extract, and the first two rows swapped in the plan
    edit(sidecars[1], title="Story two, retitled")
    edit(sidecars[0], plan_row="plan.csv:3")
    edit(sidecars[1], plan_row="plan.csv:2")
    dry = publish(folder, "--dry-run")
    assert "story-2.mp4: videos.update (title changed)  50 units" in dry.stdout
    assert "playlist: playlistItems.list (check the playlist's order)  1 units" in dry.stdout
    assert dry.stdout.count("playlistItems.update (move ") == 1
    estimate = int(re.search(r"Estimated quota: (\d+) units", dry.stdout).group(1))
    before = list(fake.requests)
    result = publish(folder, "--json")
    assert result.exit_code == 0, result.output
    # as foretold: YouTube pages lists by 50; this fake pages by 2 to exercise paging, so it
    # charges one more list call than the estimate
    assert json.loads(result.stdout)["quota_used"] - 1 == estimate == 50 + 1 + 50
    new = [route for _, route in fake.requests[len(before) :]]
    assert new.count("videos.update") == 1 and "session" not in new and "videos.insert" not in new
    assert [e["status"] for e in json.loads(result.stdout)["extracts"]] == [
        "updated", "already", "already"
    ]  # fmt: skip
    state = state_of(folder)
    videos = {s: state["extracts"][sha]["video_id"] for s, sha in state["slugs"].items()}
    order = fake.playlist_video_ids(state["playlists"]["Stories"])
    assert order == [videos["story-2"], videos["story-1"], videos["story-3"]]
    assert fake.videos[videos["story-2"]]["snippet"]["title"] == "Story two, retitled"

    # a row removed from the plan: reported, and removed from the playlist with --prune only
    sidecars[2].unlink()
    kept = publish(folder)
    assert kept.exit_code == 0 and "no longer in the plan: --prune removes it" in kept.stderr
    assert len(fake.playlist_video_ids(state["playlists"]["Stories"])) == 3
    pruned = publish(folder, "--prune")
    assert pruned.exit_code == 0, pruned.output
    assert len(fake.playlist_video_ids(state["playlists"]["Stories"])) == 2
    assert videos["story-3"] in fake.videos  # the video itself stays on the channel


def test_login_through_a_pipe_shows_the_address_at_once(fake: FakeYouTube, tmp_path: Path) -> None:
    """`clipkit auth login --no-browser | tee log` or under make: the address must not wait in
    a buffer while the login waits for it."""
    import queue
    import subprocess
    import sys
    import time

    secrets = tmp_path / "client_secrets.json"
    secrets.write_text(json.dumps({"installed": {
        "client_id": "123-abc.apps.googleusercontent.com", "client_secret": SECRET,
        "auth_uri": f"{fake.url}auth", "token_uri": f"{fake.url}token", "redirect_uris": ["http://localhost"],
    }}))  # fmt: skip
    env = {**os.environ, "OAUTHLIB_INSECURE_TRANSPORT": "1", "CLIPKIT_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "clipkit", "auth", "login", "--client-secrets", str(secrets), "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(ln) for ln in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    started = time.monotonic()
    url = ""
    while not url.startswith("http") and time.monotonic() - started < 20:
        url = lines.get(timeout=20).strip()
    waited = time.monotonic() - started
    ScriptedBrowser(fake).open(url)  # the person opens it and approves
    assert proc.wait(timeout=30) == 0, proc.stderr.read() if proc.stderr else ""
    # the address arrived while the login was waiting, within a second of it being ready
    assert url.startswith(f"{fake.url}auth?") and waited < 10
    assert (tmp_path / "home" / "youtube-token.json").is_file()


# --- the channel as the source of truth: a lost state file, a second laptop, two runs at once ---


def test_state_file_deleted_uploads_nothing_again(fake: FakeYouTube, tmp_path: Path) -> None:
    write_token(fake)
    folder = tmp_path / "extracts"
    make_extracts(folder, [300_000, 100_000, 100_000])
    assert publish(folder).exit_code == 0
    assert len(fake.videos) == 3 and fake.count("session") == 3
    (folder / STATE_NAME).unlink()  # a new laptop, a colleague's checkout, a cleaned folder
    before = len(fake.requests)
    again = publish(folder, "--json")
    assert again.exit_code == 0, again.output
    new = [route for _, route in fake.requests[before:]]
    assert [
        r for r in new if r in ("session", "chunk", "captions.insert", "playlistItems.insert")
    ] == []
    assert [e["status"] for e in json.loads(again.stdout)["extracts"]] == ["already"] * 3
    assert_consistent(fake, folder, 3)
    assert "3 extract(s) already on the channel (found by clipkit's tag)" in again.stderr


def test_resync_rebuilds_the_state_from_the_channel(fake: FakeYouTube, tmp_path: Path) -> None:
    write_token(fake)
    folder = tmp_path / "extracts"
    make_extracts(folder, [100_000, 100_000])
    assert publish(folder).exit_code == 0
    kept = state_of(folder)
    (folder / STATE_NAME).write_text("{ damaged", encoding="utf-8")
    damaged = publish(folder)
    assert damaged.exit_code == 1 and "the publish state is damaged" in damaged.stderr
    before = len(fake.requests)
    result = publish(folder, "--resync", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["found"] == ["story-1", "story-2"]
    assert not [r for _, r in fake.requests[before:] if r.endswith(("insert", "update", "delete"))]
    rebuilt = state_of(folder)
    for sha, entry in kept["extracts"].items():
        assert rebuilt["extracts"][sha]["video_id"] == entry["video_id"]
    assert rebuilt["playlists"] == kept["playlists"]
    assert publish(folder).exit_code == 0
    assert_consistent(fake, folder, 2)


def test_two_publishes_at_once_upload_each_extract_once(fake: FakeYouTube, tmp_path: Path) -> None:
    write_token(fake)
    folder = tmp_path / "extracts"
    make_extracts(folder, [512 * 1024, 512 * 1024, 256 * 1024])
    fake.chunk_delay = 0.05  # slow enough that the two runs overlap
    argv = [sys.executable, "-m", "clipkit", "publish", str(folder), "--playlist", "Stories", *FAST]
    runs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]  # fmt: skip
    outputs = [r.communicate(timeout=120) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outputs
    assert fake.count("session") == 3
    assert_consistent(fake, folder, 3)
    assert any("Waiting: another clipkit publish is running" in err for _, err in outputs)
