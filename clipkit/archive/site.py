"""The story archive built: one page per story with its recording, captions, a transcript whose
timestamps seek the player and its extracts, and an index with a search over every transcript;
only stories with consent given and extracts their storyteller approved."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..find import Sentence, sentences_of
from ..media import probe
from ..plan import slugify
from ..project import Project
from ..sidecar import ExtractSidecar
from ..stories import Story, consent_of, held_back, load_stories
from ..subtitle_text import render_vtt
from ..subtitles import shape_words
from ..transcript import Transcript
from .assets import ASSETS_JS
from .files import (
    OWNED_FOLDERS,
    Media,
    SiteResult,
    check_self_contained,
    href,
    make_poster,
    remove_unmade,
    writer,
)
from .fragments import (
    editor_html,
    extracts_html,
    human_time,
    language_name,
    recording_tracks,
    story_meta,
    theme_filter,
    transcript_html,
)
from .sources import extract_sidecars, load_transcripts, project_file, recording_paths, story_title
from .theme import Theme, esc, script_json


@dataclass(frozen=True)
class _Build:
    """What every page of one build shares."""

    project: Project
    out: Path
    theme: Theme
    result: SiteResult
    media: Media
    title: str
    editor: bool
    sources: dict[str, str]  # transcript name -> its recording, relative to the project
    stories: dict[str, Story]
    extracts: list[tuple[Path, ExtractSidecar]]

    def write(self, path: Path, text: str) -> None:
        writer(self.result)(path, text)


@dataclass(frozen=True)
class _Listed:
    """A story as the index shows it and the search finds it."""

    row: str
    search: dict[str, Any]
    themes: tuple[str, ...]


def build_site(
    project: Project,
    out: Path,
    link_media: bool = False,
    title: str | None = None,
    editor: bool = False,
    serve_media: bool = False,
) -> SiteResult:
    """The site, self-contained unless `link_media` (its media hard-linked or copied into it);
    `editor` adds the panel that turns selected transcript text into plan rows; `serve_media`
    names media under media/ without copying it (`clipkit review` serves them from a table)."""
    _prepare(out)
    transcripts = load_transcripts(project)
    sources = recording_paths(project, transcripts)
    stories = load_stories(project.root)
    files = {name: Path(sources[name]).name for name in transcripts}
    result = SiteResult(index=out / "index.html")
    if not editor:  # lived-experience stories go online only with consent given
        result.notes += held_back(stories, [files[n] for n in transcripts])
        transcripts = {
            n: t for n, t in transcripts.items() if consent_of(stories, files[n]) == "given"
        }
    theme = Theme.load(project)
    writer(result)(out / "assets" / "style.css", theme.stylesheet())
    theme.extras(project, out, result)
    writer(result)(out / "assets" / "archive.js", ASSETS_JS.lstrip())
    mode = "serve" if serve_media else "link" if link_media else "copy"
    build = _Build(
        project, out, theme, result, Media(out, mode, result),
        title or project.settings.get("publish", {}).get("playlist") or project.root.name,
        editor, sources, {n: s for n in transcripts if (s := stories.get(files[n]))},
        _approved_extracts(project, editor, result),
    )  # fmt: skip
    listed = [
        _story_page(build, name, transcript, slug)
        for slug, name, transcript in _slugged(transcripts, result)
    ]
    _index_page(build, listed)
    remove_unmade(out, result.written)
    if not link_media and not serve_media:
        check_self_contained(out)
    return result


def _prepare(out: Path) -> None:
    from ..fsutil import remove_stale_parts

    out.mkdir(parents=True, exist_ok=True)
    for folder in (out, *(out / f for f in OWNED_FOLDERS)):
        remove_stale_parts(folder)  # what a killed build left
    for folder in ("assets", "stories", "captions"):
        (out / folder).mkdir(parents=True, exist_ok=True)


def _approved_extracts(
    project: Project, editor: bool, result: SiteResult
) -> list[tuple[Path, ExtractSidecar]]:
    """The extracts shown: where the project asks for it, only those their storyteller
    approved (the editor's own review shows them all)."""
    from ..signoff import left_out, load_signoffs, required, state_of

    extracts = extract_sidecars(project)
    if editor or not required(project.settings):
        return extracts
    records = load_signoffs(project.extracts)
    states = {d.slug: state_of(records, d.slug, d.sha256) for _, d in extracts}
    result.notes += left_out(states)
    return [e for e in extracts if states[e[1].slug] == "approved"]


def _slugged(
    transcripts: dict[str, Transcript], result: SiteResult
) -> list[tuple[str, str, Transcript]]:
    """(page slug, name, transcript): two names that slugify alike each keep a page of their own."""
    slugs: dict[str, str] = {}
    out = []
    for name, transcript in transcripts.items():
        slug = base = slugify(name)
        n = 1
        while slug in slugs:
            n += 1
            slug = f"{base}-{n}"
        if n > 1:
            result.notes.append(f"{name}: {slugs[base]} already has stories/{base}.html; "
                                f"this story is stories/{slug}.html")  # fmt: skip
        slugs[slug] = name
        out.append((slug, name, transcript))
    return out


def _player(build: _Build, recording: Path, slug: str, lang: str, tracks: str) -> tuple[str, int]:
    """The recording's player with its caption tracks, and its duration."""
    stories_dir = build.out / "stories"
    info = probe(recording)
    tag = "video" if info.has_video else "audio"
    src = href(build.media.src(recording, stories_dir))
    poster = ""
    if info.has_video:  # a frame a little way in, not the first (often black)
        at = min(info.duration_ms / 2, max(1000, info.duration_ms / 10)) / 1000
        jpg = make_poster(recording, build.media.name(recording), at, build.out, build.result)
        poster = f' poster="{href(os.path.relpath(jpg, stories_dir))}"'
    html = (
        f'<{tag} id="player" controls preload="metadata" src="{src}"{poster} data-cues="cues-{slug}">'
        f'<track kind="captions" src="../captions/{href(f"{slug}.vtt")}" srclang="{esc(lang)}" '
        f'label="{esc(language_name(lang))}" default>{tracks}'
        f'<p>Your browser cannot play this recording: <a href="{src}">download it</a>.</p></{tag}>'
    )
    return html, info.duration_ms


def _story_page(build: _Build, name: str, transcript: Transcript, slug: str) -> _Listed:
    """One story's page; what the index lists of it."""
    project, out = build.project, build.out
    recording = project_file(project, build.sources[name], f"transcripts/{name}.json source")
    story = build.stories.get(name)
    title = (story.title if story and story.title else "") or story_title(recording, name)
    sentences = sentences_of(transcript.words)
    cues = shape_words(transcript.words)
    build.write(out / "captions" / f"{slug}.vtt", render_vtt(cues))
    lang = transcript.language or "en"
    tracks = recording_tracks(project, name, lang, slug, out, build.result)
    if recording.is_file():
        player, duration_ms = _player(build, recording, slug, lang, tracks)
        cue_data = [[c.start / 1000, c.end / 1000, c.text] for c in cues]
        player += (
            f'<script type="application/json" id="cues-{slug}">{script_json(cue_data)}</script>'
        )
    else:
        build.result.notes.append(
            f"{name}: the recording {recording} is missing; its page has the transcript only"
        )
        player = f'<p class="notice" role="status">The recording ({esc(recording.name)}) is missing, so only its transcript is shown.</p>'
        duration_ms = transcript.duration_ms
    mine = [e for e in build.extracts if Path(e[1].source).stem == recording.stem]
    stories_dir = out / "stories"
    shown = extracts_html(project, mine, stories_dir, build.media, lang, build.result)
    about = story_meta(story)
    count = f"{esc(human_time(duration_ms))} · {len(mine)} extract{'s' if len(mine) != 1 else ''}"
    body = f"""<header><p><a href="../index.html">{esc(build.title)}</a></p>
<h1>{esc(title)}</h1>
{about}
<p class="meta">{count}</p></header>
<main id="main">
{player}
{shown}
{editor_html(build.sources[name]) if build.editor else ""}
<h2 id="transcript">Transcript</h2>
<p class="meta">Select a time to play the recording from there.</p>
<div class="transcript">
{transcript_html(sentences, build.editor)}
</div>
</main>"""
    page = stories_dir / f"{slug}.html"
    build.write(page, build.theme.page(f"{title} — {build.title}", body, 1, lang))
    build.result.pages.append(page)
    return _listing(story, title, about, count, page, sentences)


def _listing(
    story: Story | None, title: str, about: str, count: str, page: Path, sentences: list[Sentence]
) -> _Listed:
    blurb = story.summary if story and story.summary else (sentences[0].text if sentences else "")
    themes = tuple(story.themes) if story else ()
    row = (
        f'<li data-themes="{esc(json.dumps(list(themes)))}"><h3><a href="stories/{href(page.name)}">{esc(title)}</a></h3>{about}'
        f'<p class="meta">{count}</p>'
        f"<p>{esc(blurb[:300])}</p></li>"
    )
    lines = [[round(s.start / 1000, 3), s.text, human_time(s.start)] for s in sentences]
    return _Listed(row, {"title": title, "page": f"stories/{page.name}", "lines": lines}, themes)


def _index_page(build: _Build, listed: list[_Listed]) -> None:
    build.write(
        build.out / "assets" / "search-index.js",
        "window.CLIPKIT_INDEX = " + script_json([s.search for s in listed]) + ";\n",
    )
    themes = sorted({t for s in listed for t in s.themes})
    rows = "\n".join(s.row for s in listed)
    body = f"""<header><h1>{esc(build.title)}</h1>
<p class="meta">{len(listed)} stor{"ies" if len(listed) != 1 else "y"}</p></header>
<main id="main">
<search role="search">
<label for="search">Search every transcript</label>
<input type="search" id="search" autocomplete="off" aria-describedby="results-status">
<p id="results-status" class="meta" aria-live="polite"></p>
<ul id="results"></ul>
</search>
<h2>Stories</h2>
{theme_filter(themes)}
<ul class="stories">
{rows}
</ul>
</main>
<script src="assets/search-index.js"></script>"""
    build.write(build.result.index, build.theme.page(build.title, body, 0))
