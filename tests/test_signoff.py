"""The storyteller's sign-off: per extract, for the video they saw; publish and archive take
only approved extracts when clipkit.toml requires it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from clipkit.signoff import load_signoffs, record_signoff, state_of

from .conftest import invoke
from .fake_youtube import FakeYouTube
from .test_archive import browser  # noqa: F401 - the Chromium fixture
from .test_publish import FAST, fake, make_extracts, write_token  # noqa: F401 - the fixture
from .test_security import CONFIG, clip, make_project  # noqa: F401 - the fixture

NOW = dt.datetime(2026, 12, 6, 10, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("recorded", "sha_now", "state"),
    [
        (None, "a", "pending"),
        ("approved", "a", "approved"),
        ("approved", "b", "pending"),  # cut again since: not the video they saw
        ("declined", "a", "declined"),
        ("declined", "b", "declined"),  # a no stays a no until it is reset
        ("pending", "a", "pending"),  # reset
    ],
)
def test_state_follows_the_video_seen(
    tmp_path: Path, recorded: str | None, sha_now: str, state: str
) -> None:
    if recorded:
        record_signoff(tmp_path, [("x", "a")], recorded, "Tom", now=NOW)
    assert state_of(load_signoffs(tmp_path), "x", sha_now) == state


def signed_project(tmp_path: Path, clip: Path) -> Path:  # noqa: F811
    root = make_project(tmp_path / "project", clip)
    (root / "clipkit.toml").write_text(CONFIG + "\n[signoff]\nrequired = true\n", encoding="utf-8")
    return root


def test_archive_takes_only_approved_extracts(tmp_path: Path, clip: Path) -> None:  # noqa: F811
    root = signed_project(tmp_path, clip)
    result = invoke("archive", str(root))
    assert result.exit_code == 0, result.output
    assert "story: left out, its storyteller's sign-off is pending" in result.stderr
    page = (root / "site" / "stories" / "story.html").read_text(encoding="utf-8")
    assert 'id="extracts"' not in page and not (root / "site" / "captions" / "extracts").exists()
    bad = invoke("--project", str(root), "signoff", "story", "--approve")
    assert (bad.exit_code, bad.stderr) == (
        1,
        "Error: say who signs off: --by NAME (the storyteller)\n",
    )
    unknown = invoke("--project", str(root), "signoff", "nosuch", "--approve", "--by", "Tom")
    assert unknown.exit_code == 1 and "no extract 'nosuch'" in unknown.stderr
    ok = invoke("--project", str(root), "signoff", "story", "--approve", "--by", "Tom Price")
    assert ok.exit_code == 0 and ok.stdout == "story: approved by Tom Price\n"
    listing = json.loads(invoke("--project", str(root), "signoff", "--json").stdout)
    assert listing["required"] is True
    assert [(e["slug"], e["state"], e["by"]) for e in listing["extracts"]] == [
        ("story", "approved", "Tom Price")
    ]
    assert invoke("archive", str(root)).exit_code == 0
    page = (root / "site" / "stories" / "story.html").read_text(encoding="utf-8")
    assert 'id="extracts"' in page
    declined = invoke("--project", str(root), "signoff", "story", "--decline", "--by", "Tom Price")
    assert declined.exit_code == 0
    assert invoke("archive", str(root)).exit_code == 0
    extract = (root / "extracts" / "story.mp4").read_bytes()
    assert all(p.read_bytes() != extract for p in (root / "site" / "media").iterdir())
    assert 'id="extracts"' not in (root / "site" / "stories" / "story.html").read_text("utf-8")


def test_publish_uploads_only_approved_extracts(fake: FakeYouTube, tmp_path: Path) -> None:  # noqa: F811
    write_token(fake)
    root = tmp_path / "project"
    assert invoke("init", str(root)).exit_code == 0
    (root / "clipkit.toml").write_text(
        '[publish]\nplaylist = "Stories"\n[signoff]\nrequired = true\n'
    )
    (root / "stories.toml").write_text('[story."talk.mp4"]\nconsent = "given"\n')
    sidecars = make_extracts(root / "extracts", [100_000, 100_000, 100_000])
    for side in sidecars:
        data = json.loads(side.read_text())
        side.write_text(json.dumps({**data, "source": "../recordings/talk.mp4"}))
    assert (
        invoke("--project", str(root), "signoff", "story-1", "--approve", "--by", "Amira").exit_code
        == 0
    )
    assert (
        invoke("--project", str(root), "signoff", "story-2", "--decline", "--by", "Amira").exit_code
        == 0
    )
    result = invoke("--project", str(root), "publish", *FAST)
    assert result.exit_code == 0, result.output
    assert len(fake.videos) == 1
    (video,) = fake.videos.values()
    assert video["snippet"]["title"] == "Story 1"
    assert "story-2: left out, its storyteller's sign-off is declined" in result.stderr
    assert "story-3: left out, its storyteller's sign-off is pending" in result.stderr
    # a new cut of an approved extract waits for a new approval
    (root / "extracts" / "story-1.mp4").write_bytes(b"a new cut" * 1000)
    side = json.loads(sidecars[0].read_text())
    import hashlib

    side["sha256"] = hashlib.sha256((root / "extracts" / "story-1.mp4").read_bytes()).hexdigest()
    sidecars[0].write_text(json.dumps(side))
    again = invoke("--project", str(root), "publish", *FAST)
    assert again.exit_code == 1
    assert "nothing to publish: no extract is approved by its storyteller" in again.stderr


def test_the_storyteller_signs_off_in_the_browser(tmp_path: Path, clip: Path, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from selenium.webdriver.common.by import By

    from clipkit.project import load_project
    from clipkit.review import start_review

    from .test_archive import wait_for
    from .test_security import HOSTILE, request

    root = signed_project(tmp_path, clip)
    server, url = start_review(load_project(root), storyteller=HOSTILE)
    env = {"port": server.server_port, "token": url.split("token=")[1], "root": root}
    try:
        browser.get(url)
        items = browser.find_elements(By.CSS_SELECTOR, "li.signoff")
        assert [i.get_attribute("data-slug") for i in items] == ["story"]
        assert HOSTILE in browser.find_element(By.TAG_NAME, "h1").text  # shown as text
        wait_for(
            browser, "var v = document.querySelector('li.signoff video'); return v.readyState >= 1;"
        )
        items[0].find_element(By.CSS_SELECTOR, "button[data-state=approved]").click()
        status = wait_for(
            browser,
            "var o = document.querySelector('li.signoff output'); return o.textContent || null;",
        )
        assert status == "Approved, thank you"
        assert state_of(load_signoffs(root / "extracts"), "story", _sha(root)) == "approved"
        assert load_signoffs(root / "extracts")["story"].by == HOSTILE
        # no other page can do it: no token, or an extract that is not theirs
        body = json.dumps({"slug": "story", "state": "declined"}).encode()
        origin = {"Origin": f"http://127.0.0.1:{env['port']}", "Content-Type": "application/json"}
        assert request(env, "POST", "/api/signoff", origin, body)[0] == 403
        cookie = {**origin, "Cookie": f"clipkit-review-{env['port']}={env['token']}"}
        other = json.dumps({"slug": "someone-else", "state": "declined"}).encode()
        assert request(env, "POST", "/api/signoff", cookie, other)[0] == 400
        items[0].find_element(By.CSS_SELECTOR, "button[data-state=declined]").click()
        wait_for(
            browser,
            "return document.querySelector('li.signoff output').textContent === 'Declined, thank you';",
        )
        assert load_signoffs(root / "extracts")["story"].state == "declined"
    finally:
        server.shutdown()
        server.server_close()
    assert invoke("archive", str(root)).exit_code == 0
    assert 'id="extracts"' not in (root / "site" / "stories" / "story.html").read_text("utf-8")


def _sha(root: Path) -> str:
    return json.loads((root / "extracts" / "story.json").read_text()).get("sha256", "")
