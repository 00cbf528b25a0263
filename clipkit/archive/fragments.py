"""Pieces of the archive's pages as HTML, every text escaped: transcripts, the extracts of a
story with their caption tracks, the editor's panel, story metadata, the theme filter."""

from __future__ import annotations

import os
from pathlib import Path

from ..find import Sentence
from ..project import Project
from ..sidecar import ExtractSidecar
from ..stories import Story
from ..subtitle_text import render_vtt
from ..timecode import format_clock
from .files import Media, SiteResult, copy_atomic, href, make_poster, writer
from .sources import project_file
from .theme import esc


def _words_html(s: Sentence) -> str:
    """A sentence as word spans with their times, for selecting a moment (editor mode)."""
    return " ".join(
        f'<span class="w" data-s="{w.start / 1000:.3f}" data-e="{w.end / 1000:.3f}">{esc(w.text)}</span>'
        for w in s.words
    )


def transcript_html(sentences: list[Sentence], editor: bool = False) -> str:
    parts = []
    speaker = None
    for s in sentences:
        who = ""
        if s.speaker and s.speaker != speaker:
            who = f'<span class="speaker">{esc(s.speaker)}:</span> '
        speaker = s.speaker
        t = s.start / 1000
        parts.append(
            f'<p class="line" data-t="{t:.3f}"><button type="button" class="ts" data-t="{t:.3f}" '
            f'aria-label="Play from {esc(format_clock(s.start))}">{esc(format_clock(s.start).rsplit(".", 1)[0])}</button>'
            f"{who}{_words_html(s) if editor else esc(s.text)}</p>"
        )
    return "\n".join(parts)


def editor_html(source: str) -> str:
    """The editor's panel: select transcript text, check and play the range, name it, save it
    as a plan row (to the local server of `clipkit review`, else as a CSV line to download)."""
    return f"""<section id="editor" aria-labelledby="editor-h" data-source="{esc(source)}">
<h2 id="editor-h">Make an extract</h2>
<p class="meta">Select the words of a moment in the transcript below, then save it as a row of the plan.</p>
<p>In <output id="ed-in">–</output> · out <output id="ed-out">–</output> · <output id="ed-len"></output></p>
<p id="ed-text" class="meta"></p>
<button type="button" id="ed-play">Play this range</button>
<label for="ed-title">Title</label><input id="ed-title" type="text" maxlength="100">
<label for="ed-desc">Description</label><input id="ed-desc" type="text">
<label for="ed-tags">Tags (separated by ;)</label><input id="ed-tags" type="text">
<p><button type="button" id="ed-save">Save to the plan</button> <output id="ed-status" role="status"></output></p>
</section>"""


def extracts_html(
    project: Project,
    mine: list[tuple[Path, ExtractSidecar]],
    stories_dir: Path,
    media: Media,
    lang: str,
    result: SiteResult,
) -> str:
    if not mine:
        return ""
    items = []
    for path, d in mine:
        video = project_file(project, path.parent / d.video, f"{path} video")
        vtt = project_file(project, path.parent / d.vtt, f"{path} subtitles.vtt") if d.vtt else None
        tags = ", ".join(d.tags)
        if video.is_file():
            src = href(media.src(video, stories_dir))
            track = ""
            if vtt is not None and vtt.is_file():
                # a folder of their own: a story slugged `extract-x` must not meet extract x
                name = f"{Path(media.name(video)).stem}.vtt"
                captions = stories_dir.parent / "captions" / "extracts" / name
                copy_atomic(vtt, captions)
                result.written.add(captions)
                # burnt-in subtitles are already in the picture: the track is there, not shown
                shown = "" if d.burnt_in else " default"
                track = f'<track kind="captions" src="../captions/extracts/{href(captions.name)}" srclang="{esc(lang)}" label="{esc(language_name(lang))}"{shown}>'
            track += _translation_tracks(project, path, d, video, media, stories_dir, result)
            # an extract fades in from black: its poster is a frame after the fade
            at = min(d.duration_ms / 2, 1000) / 1000
            jpg = make_poster(video, media.name(video), at, stories_dir.parent, result)
            poster = href(os.path.relpath(jpg, stories_dir))
            shown_media = (
                f'<video controls preload="metadata" src="{src}" poster="{poster}">{track}</video>'
            )
        else:
            result.notes.append(f"extract {video.name} is missing")
            shown_media = f'<p class="notice" role="status">The video of this extract ({esc(video.name)}) is missing.</p>'
        items.append(
            f"<li><h3>{esc(d.title)}</h3>{shown_media}"
            f"<p>{esc(d.description)}</p>"
            + (f'<p class="meta">Tags: {esc(tags)}</p>' if tags else "")
            + f'<p class="meta">From {esc(human_time(d.start_ms))} to {esc(human_time(d.end_ms))}</p></li>'
        )
    return '<h2 id="extracts">Extracts</h2>\n<ul class="extracts">\n' + "\n".join(items) + "\n</ul>"


def recording_tracks(
    project: Project, name: str, lang: str, slug: str, out: Path, result: SiteResult
) -> str:
    """A <track> per translation of the whole recording (`transcripts/NAME.xx.srt`)."""
    from ..formats import read_cues
    from ..tracks import translations_of

    tracks = []
    for tag, path in translations_of(project.transcripts / f"{name}.json", lang):
        captions = out / "captions" / f"{slug}.{tag}.vtt"
        writer(result)(captions, render_vtt(read_cues(path)))
        tracks.append(
            f'<track kind="subtitles" src="../captions/{href(captions.name)}" '
            f'srclang="{esc(tag)}" label="{esc(language_name(tag))}">'
        )
    return "".join(tracks)


def _translation_tracks(
    project: Project,
    path: Path,
    d: ExtractSidecar,
    video: Path,
    media: Media,
    stories_dir: Path,
    result: SiteResult,
) -> str:
    """A <track> per translation (the player's subtitle menu offers each language)."""
    from ..tracks import LANGUAGE_TAG

    out = []
    for t in d.tracks:
        if not LANGUAGE_TAG.fullmatch(t.language) or not t.vtt:
            result.notes.append(
                f"{path}: subtitle track {t.language!r} left out (not a language tag)"
            )
            continue
        vtt = project_file(project, path.parent / t.vtt, f"{path} subtitles {t.language}")
        if not vtt.is_file():
            continue
        name = f"{Path(media.name(video)).stem}.{t.language}.vtt"
        captions = stories_dir.parent / "captions" / "extracts" / name
        copy_atomic(vtt, captions)
        result.written.add(captions)
        out.append(
            f'<track kind="subtitles" src="../captions/extracts/{href(name)}" '
            f'srclang="{esc(t.language)}" label="{esc(language_name(t.language))}">'
        )
    return "".join(out)


def theme_filter(themes: list[str]) -> str:
    """Links that show only the stories of a theme (the index's script filters the list)."""
    if not themes:
        return ""
    links = " ".join(f'<a class="theme" href="#theme={href(t)}">{esc(t)}</a>' for t in themes)
    return (
        f'<nav aria-label="Themes" class="themes"><p>Themes: {links} <a href="#">all stories</a></p>'
        '<p id="theme-status" class="meta" aria-live="polite"></p></nav>'
    )


def human_time(ms: int) -> str:
    """A time as people read it: 12:03, 1:02:03."""
    return format_clock(ms).rsplit(".", 1)[0]


def story_meta(story: Story | None) -> str:
    """Who tells the story, when and where, its themes and licence, as one line."""
    if story is None:
        return ""
    parts = [story.storyteller and f"Told by {story.storyteller}",
             story.interviewer and f"with {story.interviewer}", story.date, story.place]  # fmt: skip
    line = " · ".join(p for p in parts if p)
    themes = ", ".join(story.themes)
    out = f'<p class="meta">{esc(line)}</p>' if line else ""
    if themes:
        out += f'<p class="meta">Themes: {esc(themes)}</p>'
    if story.licence:
        out += f'<p class="meta">Licence: {esc(story.licence)}</p>'
    return out


def language_name(code: str) -> str:
    names = {
        "en": "English",
        "cy": "Cymraeg",
        "pl": "Polski",
        "ur": "اردو",
        "fr": "Français",
        "de": "Deutsch",
        "es": "Español",
    }
    return names.get(code, code)
