"""`clipkit find` on the sample project, and the static archive opened in a real headless
Chromium (Debian's chromium + chromium-driver, driven by Selenium): assertions on the DOM."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import srt

from clipkit.serve import serve_directory
from clipkit.subtitles import Word
from clipkit.transcript import Segment, Transcript, to_json_dict

from .conftest import ROOT, SAMPLE, SCRIPT, invoke

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def project(
    tmp_path_factory: pytest.TempPathFactory, transcribe_sample: Callable[[str], Path]
) -> Path:
    """A copy of the sample project with its transcript and extracts made."""
    root = tmp_path_factory.mktemp("archive") / "project"
    shutil.copytree(
        ROOT / "samples" / "project",
        root,
        ignore=shutil.ignore_patterns(".clipkit", "transcripts", "extracts"),
    )
    (root / "recordings" / "conversation.mp4").unlink()
    shutil.copy(SAMPLE, root / "recordings" / "conversation.mp4")
    shutil.copytree(transcribe_sample("faster-whisper"), root / "transcripts")
    result = invoke("--project", str(root), "cut", "-q")
    assert result.exit_code == 0, result.output
    return root


# --- find ------------------------------------------------------------------------------------


@pytest.mark.engine
def test_find_known_phrases_at_known_times(project: Path) -> None:
    result = invoke("find", "warm place in winter", str(project), "--json")
    assert result.exit_code == 0, result.output
    (hit,) = json.loads(result.stdout)
    known = next(s for s in SCRIPT["sentences"] if "warm place" in s["text"])
    assert hit["recording"] == "conversation"
    assert known["start"] < hit["start"] < known["end"]
    assert hit["text"].startswith("It was the only warm place in winter")

    # case and punctuation do not matter
    loud = invoke("find", "RECORDED STORIES, LIKE THIS", str(project), "--json")
    (hit,) = json.loads(loud.stdout)
    assert hit["matched"] == "recorded stories like this"


@pytest.mark.engine
def test_find_regex_context_and_no_hits(project: Path) -> None:
    result = invoke("find", r"every\s+thursday", str(project), "--regex", "--json")
    (hit,) = json.loads(result.stdout)
    assert hit["matched"].lower().startswith("every thursday")
    with_context = json.loads(
        invoke("find", "every thursday", str(project), "-C", "1", "--json").stdout
    )[0]
    assert (
        with_context["clip_start"] < hit["clip_start"]
        and with_context["clip_end"] > hit["clip_end"]
    )
    none = invoke("find", "helicopter", str(project))
    assert (none.exit_code, none.stdout) == (1, "")
    assert none.stderr == "No matches for 'helicopter' in 1 transcript(s).\n"
    bad = invoke("find", "(unclosed", str(project), "--regex")
    assert bad.exit_code == 1 and bad.stderr.startswith(
        "Error: invalid regular expression '(unclosed'"
    )


@pytest.mark.engine
def test_find_to_plan_rows_cut_at_sentence_bounds(project: Path, tmp_path: Path) -> None:
    copy = tmp_path / "p"
    shutil.copytree(project, copy)
    before = (copy / "plan.csv").read_text()
    result = invoke("find", "somewhere safe", str(copy), "--to-plan")
    assert result.exit_code == 0
    assert result.stderr == f"Added 1 row(s) to {copy / 'plan.csv'}\n"
    rows = list(csv.DictReader((copy / "plan.csv").open(encoding="utf-8")))
    old = list(csv.DictReader(io.StringIO(before)))
    assert [{k: r[k] for k in old[0]} for r in rows[: len(old)]] == old  # the editor's rows stay
    new = rows[-1]
    assert (new["title"], new["origin"]) == ("", "find")
    assert new["slug"] == "conversation-" + new["start"].replace(":", "-").replace(".", "-")
    assert new["source"] == "recordings/conversation.mp4"
    assert new["description"].startswith("When it closed") and new["description"].endswith(
        "safe to go."
    )
    known = next(s for s in SCRIPT["sentences"] if s["text"].startswith("When it closed"))
    from clipkit.timecode import parse_timecode

    assert abs(parse_timecode(new["start"]) / 1000 - known["start"]) < 0.8
    assert abs(parse_timecode(new["end"]) / 1000 - known["end"]) < 0.8
    again = invoke("find", "somewhere safe", str(copy), "--to-plan")
    assert again.stderr == f"Added 0 row(s) to {copy / 'plan.csv'}\n"  # no duplicate rows
    # cut takes the row once the editor has titled it; until then it names the row
    cut = invoke("--project", str(copy), "cut", "-q")
    assert cut.exit_code == 1
    assert cut.stderr.strip().endswith(
        "plan.csv:4: no title yet: a row `clipkit find` added needs one (fill its title)"
    )
    plan = copy / "plan.csv"
    titled = list(csv.DictReader(plan.open(encoding="utf-8")))
    titled[-1]["title"] = "Somewhere safe"
    with plan.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(titled[0]))
        writer.writeheader()
        writer.writerows(titled)
    cut = invoke("--project", str(copy), "cut", "-q")
    assert cut.exit_code == 0, cut.output


@pytest.mark.engine
def test_find_pick_and_csv(project: Path, tmp_path: Path) -> None:
    copy = tmp_path / "p"
    shutil.copytree(project, copy)
    listed = invoke("find", "the", str(copy), "--recording", "conversation.mp4")
    lines = listed.stdout.splitlines()
    assert len(lines) > 3 and lines[0].startswith("  1  conversation  ")
    rows_before = len(list(csv.DictReader((copy / "plan.csv").open(encoding="utf-8"))))
    picked = invoke("find", "the", str(copy), "--pick", "1,3", "--to-plan")
    assert picked.exit_code == 0 and picked.stdout.splitlines() == [lines[0], lines[2]]
    rows = list(csv.DictReader((copy / "plan.csv").open(encoding="utf-8")))
    assert len(rows) == rows_before + 2 and len({r["slug"] for r in rows[-2:]}) == 2
    pasted = invoke("find", "the", str(copy), "--pick", "2", "--csv")
    assert (
        pasted.stdout.startswith("recordings/conversation.mp4,") and pasted.stdout.count("\n") == 1
    )
    bad = invoke("find", "the", str(copy), "--pick", "99")
    assert bad.exit_code == 1 and bad.stderr.startswith("Error: --pick: no hit 99 (there are ")


@pytest.mark.engine
def test_extract_sidecars_carry_the_transcript_language(project: Path) -> None:
    """publish uploads captions in this language."""
    side = json.loads(
        (project / "extracts" / "growing-up-in-leeds.json").read_text(encoding="utf-8")
    )
    assert side["language"] == "en"


def test_archive_needs_transcripts(tmp_path: Path) -> None:
    invoke("init", str(tmp_path / "empty"))
    result = invoke("archive", str(tmp_path / "empty"))
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: no transcripts in {tmp_path / 'empty' / 'transcripts'} (run `clipkit transcribe` first)\n",
    )


# --- the site in a browser --------------------------------------------------------------------

HOSTILE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'


@pytest.fixture(scope="module")
def site(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The archive of the project plus a hostile story whose recording is missing, served on
    127.0.0.1 (as a static host would)."""
    hostile = Transcript(
        segments=(
            Segment(
                1000,
                3000,
                f"Hello {HOSTILE}",
                words=(Word(1000, 1500, "Hello"), Word(1500, 3000, HOSTILE)),
            ),
        ),
        language="en",
        duration_ms=4000,
        engine="faster-whisper",
        model="tiny.en",
        source=str(project / "recordings" / "gone.mp4"),
    )
    (project / "transcripts" / "gone.json").write_text(
        json.dumps(to_json_dict(hostile, "test")), encoding="utf-8"
    )
    with (project / "stories.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[story."gone.mp4"]\nconsent = "given"\n')
    result = invoke("archive", str(project))
    assert result.exit_code == 0, result.output
    assert "Warning: gone: the recording" in result.stderr
    with serve_directory(project) as url:
        yield f"{url}/site"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip(
            "Debian chromium and chromium-driver are not installed (make test installs them as root)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--autoplay-policy=no-user-gesture-required", "--mute-audio", "--window-size=1280,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def wait_for(driver, script: str, timeout: float = 15.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for: {script}")


@pytest.mark.engine
def test_index_lists_stories_and_search_finds_a_phrase(browser, site: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    browser.get(f"{site}/index.html")
    titles = [a.text for a in browser.find_elements(By.CSS_SELECTOR, ".stories h3 a")]
    assert titles == ["The centre we won back", "Gone"]
    # theme links filter the stories (from stories.toml)
    browser.find_element(By.LINK_TEXT, "parents").click()
    wait_for(browser, "return document.getElementById('theme-status').textContent.length > 0")
    shown = [
        a.text for a in browser.find_elements(By.CSS_SELECTOR, ".stories h3 a") if a.is_displayed()
    ]
    assert shown == ["The centre we won back"]
    assert browser.find_element(By.ID, "theme-status").text == "1 story about parents"
    browser.find_element(By.LINK_TEXT, "all stories").click()
    wait_for(browser, "return document.querySelectorAll('.stories li[hidden]').length === 0")
    assert browser.find_element(By.TAG_NAME, "h1").text == "The value of co-production (sample)"
    box = browser.find_element(By.ID, "search")
    box.send_keys("warm place")
    wait_for(browser, "return document.querySelectorAll('#results li').length")
    results = browser.find_elements(By.CSS_SELECTOR, "#results li a")
    assert len(results) == 1 and results[0].text.startswith("The centre we won back — 0:2")
    assert "#t=" in results[0].get_attribute("href")
    assert browser.find_element(By.ID, "results-status").text == "1 result"
    browser.save_screenshot(str(tmp_path / "index.png"))


@pytest.mark.engine
def test_story_page_plays_captions_load_and_lines_seek(browser, site: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    browser.get(f"{site}/stories/conversation.html")
    duration = wait_for(
        browser, "var v = document.getElementById('player'); return v.readyState >= 1 && v.duration"
    )
    assert abs(duration - SCRIPT["duration"]) < 0.5
    cues = wait_for(
        browser,
        "var t = document.getElementById('player').textTracks[0]; return t && t.cues && t.cues.length",
    )
    assert cues >= 8
    mode = browser.execute_script("return document.getElementById('player').textTracks[0].mode")
    assert mode == "showing"  # captions on by default
    lines = browser.find_elements(By.CSS_SELECTOR, ".transcript button.ts")
    target = lines[5]
    when = float(target.get_attribute("data-t"))
    target.click()
    now = wait_for(
        browser,
        f"var t = document.getElementById('player').currentTime; return t >= {when - 0.05} && t",
    )
    assert abs(now - when) < 1.0
    extracts = browser.find_elements(By.CSS_SELECTOR, ".extracts h3")
    assert [e.text for e in extracts] == [
        "Growing up in Leeds",
        "When the centre closed, parents organised",
    ]
    assert browser.execute_script("return document.documentElement.lang") == "en"
    browser.save_screenshot(str(tmp_path / "story.png"))


@pytest.mark.engine
def test_hostile_transcript_is_inert_and_missing_media_has_a_notice(browser, site: str) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    browser.get(f"{site}/stories/gone.html")
    time.sleep(0.5)
    assert browser.execute_script("return window.pwned") is None
    text = browser.find_element(By.CSS_SELECTOR, ".transcript").text
    assert HOSTILE in text
    assert browser.find_elements(By.CSS_SELECTOR, ".transcript script, .transcript img") == []
    notice = browser.find_element(By.CSS_SELECTOR, "p.notice")
    assert "is missing" in notice.text and notice.get_attribute("role") == "status"
    browser.get(f"{site}/index.html")
    browser.find_element(By.ID, "search").send_keys("pwned")
    wait_for(browser, "return document.querySelectorAll('#results li').length")
    assert browser.execute_script("return window.pwned") is None


@pytest.mark.engine
def test_from_file_url_captions_still_load(browser, site: str, project: Path) -> None:  # type: ignore[no-untyped-def]
    browser.get((project / "site" / "stories" / "conversation.html").as_uri())
    cues = wait_for(
        browser,
        "var v = document.getElementById('player'); var n = 0;"
        "for (var i = 0; i < v.textTracks.length; i++) { var c = v.textTracks[i].cues; if (c) n = Math.max(n, c.length); }"
        "return n",
    )
    assert cues >= 8


@pytest.mark.engine
def test_editor_mode_selection_becomes_a_row_that_cuts(
    browser, project: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """`clipkit review`: select transcript text in Chromium, see the times, save the row through
    the local server, and `cut` makes exactly that extract."""
    from selenium.webdriver.common.by import By

    from clipkit.project import load_project
    from clipkit.review import start_review

    copy = tmp_path / "p"
    shutil.copytree(project, copy)
    server, url = start_review(load_project(copy))
    try:
        browser.get(url)
        browser.find_element(By.CSS_SELECTOR, ".stories a").click()
        wait_for(browser, "return document.getElementById('editor') !== null")
        # select from "I grew up" to the end of its sentence, as a mouse would
        words = browser.execute_script("""
            var spans = Array.from(document.querySelectorAll('.transcript .w'));
            var a = spans.findIndex(function (w, k) { return w.textContent === 'I' && spans[k + 1].textContent === 'grew'; });
            var b = a; while (!/[.!?]$/.test(spans[b].textContent)) b++;
            var range = document.createRange();
            range.setStart(spans[a].firstChild, 0); range.setEnd(spans[b].firstChild, spans[b].textContent.length);
            var sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
            document.dispatchEvent(new MouseEvent('mouseup'));
            return [spans[a].dataset.s, spans[b].dataset.e, spans.slice(a, b + 1).map(function (w) { return w.textContent; }).join(' ')];
        """)
        start, end, text = float(words[0]), float(words[1]), words[2]
        assert browser.find_element(By.ID, "ed-text").text == text
        assert browser.find_element(By.ID, "ed-in").text.startswith(f"0:{int(start):02d}")
        browser.find_element(By.ID, "ed-play").click()
        wait_for(
            browser,
            f"var p = document.getElementById('player'); return p.currentTime >= {start} && p.currentTime < {end};",
        )
        browser.find_element(By.ID, "ed-title").send_keys("Where Tom grew up")
        browser.find_element(By.ID, "ed-tags").send_keys("leeds; family")
        browser.find_element(By.ID, "ed-save").click()
        status = wait_for(
            browser,
            "var s = document.getElementById('ed-status').textContent; return s.length ? s : null;",
        )
        browser.save_screenshot(str(tmp_path / "editor.png"))
        assert status.startswith("Saved: Where Tom grew up"), status
    finally:
        server.shutdown()
        server.server_close()
    rows = list(csv.DictReader((copy / "plan.csv").open(encoding="utf-8")))
    row = rows[-1]
    assert (row["title"], row["tags"], row["origin"]) == (
        "Where Tom grew up",
        "leeds;family",
        "review",
    )
    from clipkit.timecode import parse_timecode

    assert start - 0.21 <= parse_timecode(row["start"]) / 1000 <= start
    assert end <= parse_timecode(row["end"]) / 1000 <= end + 0.21
    cut = invoke("--project", str(copy), "cut", "--only", "where-tom-grew-up", "-q")
    assert cut.exit_code == 0, cut.output
    cues = list(
        srt.parse((copy / "extracts" / "where-tom-grew-up.srt").read_text(encoding="utf-8"))
    )
    from clipkit.metrics import normalize_words

    assert normalize_words(" ".join(c.content for c in cues)) == normalize_words(text)
    assert (tmp_path / "editor.png").stat().st_size > 10_000


@pytest.mark.engine
def test_consent_rule_for_archive_and_publish(project: Path, tmp_path: Path) -> None:
    """Lived-experience stories go online only with consent given: the others are left out of
    the archive and the playlist, each named in one line."""
    copy = tmp_path / "p"
    shutil.copytree(project, copy)
    stories = copy / "stories.toml"
    stories.write_text(stories.read_text().replace('consent = "given"', 'consent = "pending"'))
    result = invoke("archive", str(copy))
    assert result.exit_code == 0, result.output
    assert (
        'Warning: conversation.mp4: left out, consent is pending (consent = "given" puts it online)'
        in result.stderr.splitlines()
    )
    assert not (copy / "site" / "stories" / "conversation.html").exists()
    assert "The centre we won back" not in (copy / "site" / "index.html").read_text()
    dry = invoke("--project", str(copy), "publish", "--dry-run")
    assert dry.exit_code == 1
    assert dry.stderr.splitlines() == [
        'Warning: conversation.mp4: left out, consent is pending (consent = "given" puts it online)',
        'Error: nothing to publish: no extract\'s story has consent = "given"',
    ]
    status = json.loads(invoke("status", str(copy), "--json").stdout)
    assert [r["consent"] for r in status["recordings"]] == ["pending"]
    stories.write_text(stories.read_text().replace('consent = "pending"', 'consent = "given"'))
    assert invoke("--project", str(copy), "publish", "--dry-run").exit_code == 0
    assert invoke("archive", str(copy)).exit_code == 0
    page = (copy / "site" / "stories" / "conversation.html").read_text(encoding="utf-8")
    assert "Told by Tom · with Amira · 2026-03-14 · Leeds" in page
    # burnt-in extracts carry their caption track without showing it over the picture
    tracks = re.findall(r'<track kind="captions" src="../captions/extracts/[^>]*>', page)
    assert tracks and all(" default" not in t for t in tracks)
    assert "From 0:07 to 0:17" in page  # times as people read them
    stories.write_text('[story."conversation.mp4"]\nconsent = "maybe"\n')
    bad = invoke("archive", str(copy))
    assert bad.exit_code == 1 and bad.stderr == (
        f"Error: {stories}: [story.\"conversation.mp4\"] consent = 'maybe': must be one of "
        "given, pending, withheld\n"
    )


@pytest.mark.engine
def test_the_site_alone_plays_every_video_and_caption(
    browser, site: str, project: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Uploaded without the project around it (site/ copied alone), nothing 404s."""
    from selenium.webdriver.common.by import By

    alone = tmp_path / "host" / "site"
    shutil.copytree(project / "site", alone)
    with serve_directory(alone.parent) as url:
        browser.get(f"{url}/site/stories/conversation.html")
        count = len(browser.find_elements(By.TAG_NAME, "video"))
        assert count == 3  # the recording and its two extracts
        wait_for(
            browser,
            "return Array.from(document.querySelectorAll('video')).every(v => v.readyState >= 1)",
        )
        missing = browser.execute_script("""
            var urls = Array.from(document.querySelectorAll('video[src], track[src]')).map(e => e.src);
            return Promise.all(urls.map(u => fetch(u, {method: 'HEAD'}).then(r => r.ok ? null : u + ' ' + r.status)))
              .then(rs => rs.filter(Boolean));
        """)
        assert missing == []
        posters = browser.execute_script(
            "return Array.from(document.querySelectorAll('video')).map(v => v.poster)"
        )
    # posters are real frames, not the black of a fade-in
    import av
    import numpy as np

    assert len(posters) == 3 and all(p for p in posters)
    for jpg in (alone / "posters").glob("*.jpg"):
        with av.open(str(jpg)) as c:
            frame = next(c.decode(video=0)).to_ndarray(format="gray")
        assert float(np.mean(frame)) > 40, jpg.name
    built = invoke("archive", str(project), "--link-media", "-o", str(tmp_path / "linked"))
    assert built.exit_code == 0  # linked where the media lie: for viewing on this machine


def test_a_link_outside_the_site_fails_the_build(tmp_path: Path) -> None:
    from clipkit.archive import check_self_contained
    from clipkit.errors import OutputError

    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text('<video src="../recordings/a.mp4"></video>')
    with pytest.raises(
        OutputError, match=r"index.html: links to ../recordings/a.mp4 outside the site"
    ):
        check_self_contained(tmp_path / "site")


AXE = ROOT / ".test-tools" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.mark.engine
@pytest.mark.skipif(
    not AXE.is_file(), reason="axe-core not installed (make test installs it with npm)"
)
def test_accessibility_has_no_serious_violations(browser, site: str) -> None:  # type: ignore[no-untyped-def]
    """axe-core in Chromium: no serious or critical violation on the index or a story page."""
    script = AXE.read_text(encoding="utf-8")
    for page in ("index.html", "stories/conversation.html"):
        browser.get(f"{site}/{page}")
        browser.execute_script(script)
        found = browser.execute_async_script(
            "var done = arguments[0]; axe.run(document, {resultTypes: ['violations']})"
            ".then(r => done(r.violations.map(v => [v.id, v.impact, v.help])));"
        )
        assert [v for v in found if v[1] in ("serious", "critical")] == [], (page, found)


@pytest.mark.engine
def test_the_organisation_brands_the_archive(project: Path, tmp_path: Path) -> None:
    copy = tmp_path / "p"
    shutil.copytree(project, copy)
    shutil.copy(ROOT / "clipkit" / "assets" / "fonts" / "LICENSE-DejaVu.txt", copy / "about.txt")
    (copy / "archive").mkdir()
    shutil.copy(SAMPLE, copy / "archive" / "logo.mp4")  # any file: it is copied as it is
    with (copy / "clipkit.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[archive]\norganisation = "People\'s Voice Media"\nlogo = "archive/logo.mp4"\n'
                 'accent = "#7a1f5c"\nfooter = "Stories shared under CC BY-NC 4.0"\nabout = "about.txt"\n')  # fmt: skip
    assert invoke("archive", str(copy)).exit_code == 0
    site = copy / "site"
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "People&#39;s Voice Media" in index and 'src="assets/logo.mp4"' in index
    assert "Stories shared under CC BY-NC 4.0" in index and 'href="about.html"' in index
    assert (site / "assets" / "logo.mp4").is_file() and (site / "about.html").is_file()
    assert "--accent: #7a1f5c" in (site / "assets" / "style.css").read_text(encoding="utf-8")
    # the organisation's own layout replaces clipkit's
    layout = (ROOT / "configs" / "archive" / "base.html").read_text(encoding="utf-8")
    (copy / "archive" / "base.html").write_text(layout.replace("<body>", "<body class='ours'>"))
    assert invoke("archive", str(copy)).exit_code == 0
    assert "<body class='ours'>" in (site / "stories" / "conversation.html").read_text()
    bad = copy / "clipkit.toml"
    bad.write_text(bad.read_text().replace('"#7a1f5c"', '"purple"'))
    result = invoke("archive", str(copy))
    assert (
        result.exit_code == 1 and "[archive] accent = 'purple': must be a colour" in result.stderr
    )
