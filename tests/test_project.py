"""Projects: `clipkit fetch` (yt-dlp against a local HTTP server), `init`, `status`, and the
Makefile's incremental batch targets on a copy of the sample project."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import srt

from clipkit.serve import serve_directory

from .conftest import ROOT, SAMPLE, invoke


@pytest.fixture
def media_server(tmp_path: Path) -> Iterator[str]:
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(SAMPLE, served / "story.mp4")
    with serve_directory(served) as url:
        yield url


def test_fetch_url_then_archive_prevents_a_second_fetch(media_server: str, tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    url = f"{media_server}/story.mp4"
    result = invoke("fetch", url, "-d", str(folder), "--json", "-q")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["status"] == "fetched"
    path = Path(row["path"])
    assert path.parent == folder and path.name == "story [story].mp4"
    assert path.read_bytes() == SAMPLE.read_bytes()
    side = json.loads((folder / "story [story].mp4.source.json").read_text())
    assert side["url"] == url and side["kind"] == "url" and side["id"] == "Generic story"
    assert not list(folder.glob("*.part"))

    again = invoke("fetch", url, "-d", str(folder), "--json", "-q")
    assert again.exit_code == 0
    assert json.loads(again.stdout)[0] == {
        "source": url,
        "path": str(path),
        "status": "already",
        "error": "",
    }
    assert sorted(p.name for p in folder.iterdir()) == [
        ".clipkit-archive.txt",
        "story [story].mp4",
        "story [story].mp4.source.json",
    ]


def test_fetch_404_and_connection_refused(media_server: str, tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    missing = f"{media_server}/missing.mp4"
    result = invoke("fetch", missing, "-d", str(folder), "-q")
    assert (result.exit_code, result.stderr) == (1, f"Error: {missing}: not found (HTTP 404)\n")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    refused = f"http://127.0.0.1:{port}/x.mp4"
    result = invoke("fetch", refused, "-d", str(folder), "-q")
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: {refused}: could not connect (connection refused)\n",
    )
    assert not [p for p in folder.iterdir() if not p.name.startswith(".")]


def test_fetch_unknown_scheme_and_local_files(tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    result = invoke("fetch", "ftp://example.org/talk.mp4", "-d", str(folder), "-q")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: unsupported address 'ftp://example.org/talk.mp4' (give an http(s) URL or a local file)\n",
    )
    local = tmp_path / "Zoom recording: Amira & Tom (part 1).mp4"
    shutil.copy(SAMPLE, local)
    result = invoke("fetch", str(local), "-d", str(folder), "--json", "-q")
    assert result.exit_code == 0
    (row,) = json.loads(result.stdout)
    assert Path(row["path"]).name == "zoom-recording-amira-tom-part-1.mp4"
    again = invoke("fetch", str(local), "-d", str(folder), "--json", "-q")
    assert json.loads(again.stdout)[0]["status"] == "already"
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video")
    bad = invoke("fetch", str(notes), "-d", str(folder), "-q")
    assert (bad.exit_code, bad.stderr) == (1, f"Error: {notes}: not a media file ffmpeg can read\n")


def test_init_creates_a_project(tmp_path: Path) -> None:
    project = tmp_path / "coproduction"
    result = invoke("init", str(project))
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"created {project}/recordings/",
        f"created {project}/transcripts/",
        f"created {project}/extracts/",
        f"created {project}/plan.csv",
        f"created {project}/clipkit.toml",
        f"created {project}/stories.toml",
        f"Next: clipkit fetch URL|FILE -d {project}/recordings; then `make all PROJECT={project}`",
    ]
    assert (project / "plan.csv").read_text() == "source,start,end,title,description,tags\n"
    assert 'playlist = "coproduction"' in (project / "clipkit.toml").read_text()
    assert (
        invoke("init", str(project)).stdout
        == f"{project} is already a clipkit project; nothing changed\n"
    )


def test_malformed_project_config_names_the_line(tmp_path: Path) -> None:
    project = tmp_path / "p"
    invoke("init", str(project))
    config = project / "clipkit.toml"
    config.write_text('[transcribe]\nengine = "faster-whisper"\nmodel = tiny.en\n')
    result = invoke("--project", str(project), "status")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {config}: ") and "line 3" in result.stderr
    config.write_text('[transcribe]\nengnie = "x"\n')
    result = invoke("--project", str(project), "status")
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: {config}: unknown key(s) in [transcribe]: engnie\n",
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("loudness = 5", "[cut] loudness = 5: must be a number of LUFS from -31 to -5"),
        ('loudness = "loud"', "[cut] loudness = 'loud': must be a number of LUFS from -31 to -5"),
        ('aspect = "4:3"', "[cut] aspect = '4:3': must be one of 'source', '9:16'"),
        (
            'fade = "x"',
            "[cut] fade = 'x': invalid timecode 'x' (use SS, MM:SS, HH:MM:SS.mmm or HH:MM:SS:FF)",
        ),
        ("burn = 1", "[cut] burn = 1: must be true or false"),
    ],
)
def test_config_values_are_checked_with_file_and_key(
    tmp_path: Path, line: str, message: str
) -> None:
    project = tmp_path / "p"
    invoke("init", str(project))
    config = project / "clipkit.toml"
    config.write_text(f'[cut]\nsnap = "words"\n{line}\n')  # snap is a setting too now
    result = invoke("--project", str(project), "status")
    assert (result.exit_code, result.stderr) == (1, f"Error: {config}: {message}\n")


def test_init_writes_valid_toml_whatever_the_playlist_title(tmp_path: Path) -> None:
    import tomllib

    title = 'AC\\DC "live" — Łódź'
    project = tmp_path / "p"
    assert invoke("init", str(project), "--playlist", title).exit_code == 0
    config = tomllib.loads((project / "clipkit.toml").read_text(encoding="utf-8"))
    assert config["publish"]["playlist"] == title
    assert invoke("--project", str(project), "status").exit_code == 0


def test_loudness_flag_out_of_range_is_refused(tmp_path: Path) -> None:
    result = invoke("cut", str(SAMPLE), "--start", "1", "--end", "3", "--loudness", "5")
    assert result.exit_code == 2
    assert "5.0 is not in the range -31.0<=x<=-5.0" in result.stderr


def test_project_settings_are_defaults_and_flags_override(tmp_path: Path) -> None:
    project = tmp_path / "p"
    invoke("init", str(project))
    config = project / "clipkit.toml"
    config.write_text(config.read_text().replace('engine = "faster-whisper"', 'engine = "vosk"'))
    shutil.copy(SAMPLE, project / "recordings" / "talk.mp4")
    result = invoke("--project", str(project), "transcribe")
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: {config}: [transcribe] engine = 'vosk': unknown engine 'vosk' "
        "(choose faster-whisper or openai-whisper)\n",
    )
    config.write_text(config.read_text().replace('engine = "vosk"', 'engine = "openai-whisper"'))
    result = invoke("--project", str(project), "transcribe", "--engine", "faster-whisper", "-q")
    assert result.exit_code == 0, result.output
    assert (project / "transcripts" / "talk.srt").is_file()  # the project's transcripts/ by default


# --- make ------------------------------------------------------------------------------------


def make(*args: str) -> subprocess.CompletedProcess[str]:
    """make as a user runs it, not as a sub-make of `make test` (no MAKELEVEL, no inherited -j)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES")
    }
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


def outputs(project: Path) -> dict[str, float]:
    return {
        str(p.relative_to(project)): p.stat().st_mtime_ns
        for folder in ("transcripts", "extracts")
        for p in sorted((project / folder).glob("*"))
    }


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    target = tmp_path / "project"
    shutil.copytree(
        ROOT / "samples" / "project",
        target,
        symlinks=False,
        ignore=shutil.ignore_patterns(".clipkit", "transcripts", "extracts"),
    )
    return target


@pytest.mark.engine
def test_make_all_is_incremental(project_copy: Path) -> None:
    first = make("all", f"PROJECT={project_copy}")
    assert first.returncode == 0, first.stderr
    made = outputs(project_copy)
    assert sorted(made) == [
        "extracts/growing-up-in-leeds.json", "extracts/growing-up-in-leeds.mp4", "extracts/growing-up-in-leeds.srt",
        "extracts/growing-up-in-leeds.vtt", "extracts/when-the-centre-closed-parents-organised.json",
        "extracts/when-the-centre-closed-parents-organised.mp4", "extracts/when-the-centre-closed-parents-organised.srt",
        "extracts/when-the-centre-closed-parents-organised.vtt", "transcripts/conversation.json",
        "transcripts/conversation.srt", "transcripts/conversation.txt", "transcripts/conversation.vtt",
    ]  # fmt: skip

    second = make("all", f"PROJECT={project_copy}")
    assert second.returncode == 0
    assert second.stdout.strip() == "make: Nothing to be done for 'all'."
    assert outputs(project_copy) == made

    plan = project_copy / "plan.csv"
    plan.write_text(plan.read_text().replace("0:32.5,0:49", "0:33,0:49"))
    third = make("all", f"PROJECT={project_copy}")
    assert third.returncode == 0, third.stderr
    changed = {k for k, v in outputs(project_copy).items() if made[k] != v}
    assert changed == {
        f"extracts/when-the-centre-closed-parents-organised.{e}"
        for e in ("json", "mp4", "srt", "vtt")
    }
    side = json.loads(
        (project_copy / "extracts" / "when-the-centre-closed-parents-organised.json").read_text()
    )
    assert side["start"] == 33.0

    # a hand correction of the transcript's SRT, saved in place (as most editors save): the
    # extracts it feeds are made again with the corrected words
    srt_file = project_copy / "transcripts" / "conversation.srt"
    cues = list(srt.parse(srt_file.read_text(encoding="utf-8")))
    inside = next(c for c in cues if 34 <= c.start.total_seconds() < 45)
    inside.content = "Corrected by hand"
    with srt_file.open("r+", encoding="utf-8") as fh:  # in place: the folder's mtime stays
        text = srt.compose(cues)
        fh.write(text)
        fh.truncate()
    # the editor saves a while after make ran (the kernel's file times tick coarsely: within
    # the same few milliseconds make could not tell the edit from the extract)
    later = time.time() + 2
    os.utime(srt_file, (later, later))
    fourth = make("all", f"PROJECT={project_copy}")
    assert fourth.returncode == 0, fourth.stderr
    burnt = project_copy / "extracts" / "when-the-centre-closed-parents-organised.srt"
    assert "Corrected by hand" in burnt.read_text(encoding="utf-8")

    status = invoke("status", str(project_copy), "--json")
    report = json.loads(status.stdout)
    assert [r["transcript"] for r in report["recordings"]] == ["done"]
    assert [r["video"] for r in report["extracts"]] == ["done", "done"]


@pytest.mark.engine
def test_make_j2_gives_the_same_outputs(project_copy: Path, tmp_path: Path) -> None:
    serial = tmp_path / "serial"
    shutil.copytree(project_copy, serial)
    assert make("all", f"PROJECT={serial}").returncode == 0
    parallel = make("-j2", "all", f"PROJECT={project_copy}")
    assert parallel.returncode == 0, parallel.stderr
    assert sorted(outputs(project_copy)) == sorted(outputs(serial))
    for name in (
        "transcripts/conversation.srt",
        "extracts/growing-up-in-leeds.srt",
        "extracts/when-the-centre-closed-parents-organised.srt",
    ):
        assert (project_copy / name).read_text() == (serial / name).read_text()
    for name in ("growing-up-in-leeds", "when-the-centre-closed-parents-organised"):
        a = json.loads((project_copy / "extracts" / f"{name}.json").read_text())
        b = json.loads((serial / "extracts" / f"{name}.json").read_text())
        assert (a["start"], a["end"], a["title"]) == (b["start"], b["end"], b["title"])


def test_plan_naming_a_recording_not_in_the_project(project_copy: Path) -> None:
    plan = project_copy / "plan.csv"
    plan.write_text(plan.read_text() + "recordings/elsewhere.mp4,0:01,0:05,Lost,,\n")
    result = make("extracts", f"PROJECT={project_copy}")
    assert result.returncode != 0
    assert (
        f"Error: {plan}:4: source 'recordings/elsewhere.mp4' is not a recording of this project"
        in result.stderr
    )


def test_a_linked_recording_finds_its_transcript_in_the_project(tmp_path: Path) -> None:
    """`fetch --link` across file systems leaves a symlink in recordings/; the recording's
    transcript is the project's, not something beside the file it points to."""
    elsewhere = tmp_path / "card"
    elsewhere.mkdir()
    shutil.copy(SAMPLE, elsewhere / "talk.mp4")
    project = tmp_path / "p"
    invoke("init", str(project))
    (project / "recordings" / "talk.mp4").symlink_to(elsewhere / "talk.mp4")
    (project / "transcripts" / "talk.srt").write_text(
        "1\n00:00:02,000 --> 00:00:04,000\nHello there\n", encoding="utf-8"
    )
    (project / "plan.csv").write_text(
        "source,start,end,title\nrecordings/talk.mp4,1,5,Hello\n", encoding="utf-8"
    )
    result = invoke("--project", str(project), "cut", "-q")
    assert result.exit_code == 0, result.output
    assert "no subtitles found" not in result.stderr
    side = json.loads((project / "extracts" / "hello.json").read_text(encoding="utf-8"))
    assert side["burnt_in"] is True and side["subtitles"]["cues"] == 1


def test_a_damaged_transcript_is_named(tmp_path: Path) -> None:
    project = tmp_path / "p"
    invoke("init", str(project))
    damaged = project / "transcripts" / "talk.json"
    damaged.write_text('{"format": "clipkit-transcript/1", "segm', encoding="utf-8")
    result = invoke("find", "hello", str(project))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {damaged}: damaged, not JSON (")


@pytest.mark.engine
def test_status_dry_run_and_make_agree_and_a_copied_project_stays_up_to_date(
    project_copy: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    config = project_copy / "clipkit.toml"
    config.write_text(
        config.read_text(encoding="utf-8")
        .replace('profile = "netflix-en"', 'profile = "bbc"')
        .replace('style = "default"', 'style = "boxed"')
        .replace('fade = "0.3"', 'fade = "0.5"')
        .replace("loudness = -14.0", "loudness = -16.0")
        .replace("burn = true ", 'burn = true\nsnap = "words"\n'),
        encoding="utf-8",
    )
    assert make("all", f"PROJECT={project_copy}").returncode == 0

    def agree(project: Path) -> None:
        status = json.loads(invoke("status", str(project), "--json").stdout)
        assert [r["transcript"] for r in status["recordings"]] == ["done"]
        assert [e["video"] for e in status["extracts"]] == ["done", "done"]
        dry = invoke("--project", str(project), "cut", "--dry-run")
        assert dry.stdout.count("  state: up to date") == 2 and " -i " not in dry.stdout
        assert make("all", f"PROJECT={project}").stdout.strip() == (
            "make: Nothing to be done for 'all'."
        )

    agree(project_copy)
    moved = tmp_path / "elsewhere" / "project"
    moved.parent.mkdir()
    subprocess.run(["cp", "-a", str(project_copy), str(moved)], check=True)
    agree(moved)

    # only a description changes: the sidecar is rewritten, nothing is encoded
    plan = moved / "plan.csv"
    plan.write_text(plan.read_text(encoding="utf-8").replace("raised money", "raised £400"))
    status = json.loads(invoke("status", str(moved), "--json").stdout)
    assert [e["video"] for e in status["extracts"]] == ["done", "metadata changed"]
    caplog.set_level(logging.DEBUG, logger="clipkit.ffmpeg")
    result = invoke("--project", str(moved), "cut")
    assert result.exit_code == 0, result.output
    encodes = [r for r in caplog.records if "libx264" in r.getMessage()]
    assert encodes == []
    assert "1 with new metadata only, 1 up to date" in result.stderr
    side = json.loads(
        (moved / "extracts" / "when-the-centre-closed-parents-organised.json").read_text()
    )
    assert side["description"].endswith("raised £400.")
