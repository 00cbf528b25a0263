"""The story archive: a static site (plain HTML, CSS and a little JavaScript) that works from
file:// and any static host. One page per story with its recording, captions, a transcript
whose timestamps seek the player, and its extracts; an index with a search over every
transcript. All text is escaped: a transcript saying `<script>` shows it as text.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError, OutputError
from .ffmpeg import probe
from .find import Sentence, sentences_of
from .fsutil import atomic_write_text
from .plan import slugify
from .project import Project, project_recordings
from .sidecar import EXTRACT_FORMAT, ExtractSidecar
from .stories import Story, consent_of, held_back, load_stories
from .subtitles import render_vtt, shape_words
from .timecode import format_clock
from .transcript import JSON_FORMAT, Transcript, from_json_dict

ASSETS_JS = r"""
(function () {
  "use strict";
  // Captions: a <track> file loads on any static host; from file:// some browsers refuse it,
  // so its cues are also in the page and added by script when the file cannot load.
  document.querySelectorAll("[data-cues]").forEach(function (media) {
    var track = media.querySelector("track");
    var cues = JSON.parse(document.getElementById(media.dataset.cues).textContent);
    function fallback() {
      if (media.dataset.fallback) return;
      media.dataset.fallback = "1";
      var tt = media.addTextTrack("captions", track ? track.label : "Captions", track ? track.srclang : "en");
      cues.forEach(function (c) { tt.addCue(new VTTCue(c[0], c[1], c[2])); });
      tt.mode = "showing";
    }
    if (!track) { fallback(); return; }
    var failed = function () { track.track.mode = "disabled"; fallback(); };
    track.addEventListener("error", failed);
    if (track.readyState === 3) failed();  // it failed before this script ran
    else track.track.mode = "showing";
  });
  // Transcript lines seek the story's player.
  var player = document.getElementById("player");
  function seek(t) {
    if (!player) return;
    player.currentTime = t;
    var p = player.play(); if (p && p.catch) p.catch(function () {});
  }
  document.querySelectorAll("button.ts").forEach(function (b) {
    b.addEventListener("click", function () { seek(parseFloat(b.dataset.t)); });
  });
  if (player) {
    var lines = Array.prototype.slice.call(document.querySelectorAll(".line"));
    player.addEventListener("timeupdate", function () {
      var now = player.currentTime, current = null;
      lines.forEach(function (l) { if (parseFloat(l.dataset.t) <= now) current = l; });
      lines.forEach(function (l) { l.classList.toggle("current", l === current); });
    });
    var m = /t=([0-9.]+)/.exec(location.hash);
    if (m) player.addEventListener("loadedmetadata", function () { player.currentTime = parseFloat(m[1]); }, { once: true });
  }
  // The storyteller's sign-off page (clipkit review --storyteller): approve or decline each extract.
  document.querySelectorAll(".signoff button[data-state]").forEach(function (b) {
    b.addEventListener("click", function () {
      var item = b.closest("[data-slug]"), out = item.querySelector("output");
      fetch("/api/signoff", { method: "POST", headers: { "Content-Type": "application/json" },
                              body: JSON.stringify({ slug: item.dataset.slug, state: b.dataset.state }) })
        .then(function (r) { return r.json(); })
        .then(function (j) { out.textContent = j.ok ? j.message : "Not saved: " + j.error; item.dataset.state = j.ok ? b.dataset.state : item.dataset.state; })
        .catch(function () { out.textContent = "Not saved: the review server is not running."; });
    });
  });
  // Editor mode: selected words become an extract's in/out points, saved as a plan row.
  var editor = document.getElementById("editor");
  if (editor) {
    var chosen = null, stopAt = null;
    function fmt(t) { var m = Math.floor(t / 60), s = (t - 60 * m).toFixed(2); return m + ":" + (s < 10 ? "0" : "") + s; }
    function pick() {
      var sel = window.getSelection();
      if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return;
      var range = sel.getRangeAt(0);
      var words = Array.prototype.filter.call(document.querySelectorAll(".transcript .w"),
        function (w) { return range.intersectsNode(w); });
      if (!words.length) return;
      var first = words[0], last = words[words.length - 1];
      chosen = { start: parseFloat(first.dataset.s), end: parseFloat(last.dataset.e),
                 text: words.map(function (w) { return w.textContent; }).join(" ") };
      document.getElementById("ed-in").textContent = fmt(chosen.start);
      document.getElementById("ed-out").textContent = fmt(chosen.end);
      document.getElementById("ed-len").textContent = (chosen.end - chosen.start).toFixed(1) + " s";
      document.getElementById("ed-text").textContent = chosen.text;
    }
    document.addEventListener("mouseup", pick);
    document.addEventListener("keyup", pick);
    document.getElementById("ed-play").addEventListener("click", function () {
      if (!chosen || !player) return;
      stopAt = chosen.end; seek(chosen.start);
    });
    if (player) player.addEventListener("timeupdate", function () {
      if (stopAt !== null && player.currentTime >= stopAt) { player.pause(); stopAt = null; }
    });
    document.getElementById("ed-save").addEventListener("click", function () {
      var status = document.getElementById("ed-status");
      if (!chosen) { status.textContent = "Select some words of the transcript first."; return; }
      var row = { source: editor.dataset.source, start: chosen.start, end: chosen.end,
                  title: document.getElementById("ed-title").value,
                  description: document.getElementById("ed-desc").value,
                  tags: document.getElementById("ed-tags").value };
      if (!row.title.trim()) { status.textContent = "Give the extract a title."; return; }
      if (location.protocol.indexOf("http") === 0) {
        fetch("/api/rows", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(row) })
          .then(function (r) { return r.json(); })
          .then(function (j) { status.textContent = j.ok ? "Saved: " + j.row : "Not saved: " + j.error; })
          .catch(function () { status.textContent = "Not saved: the review server is not running."; });
      } else {  // a static page: the row to paste into plan.csv
        var line = [row.source, fmt(row.start), fmt(row.end), row.title, row.description, row.tags]
          .map(function (v) {
            v = String(v);
            if (/^'*[=+\-@\t\r]/.test(v)) v = "'" + v;  // a spreadsheet must not run it as a formula
            return /[",\n]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v;
          }).join(",");
        var a = document.createElement("a");
        a.href = URL.createObjectURL(new Blob([line + "\n"], { type: "text/csv" }));
        a.download = "plan-row.csv"; a.click();
        status.textContent = "Downloaded plan-row.csv: paste its line into plan.csv.";
      }
    });
  }
  // Theme links on the index show only the stories of that theme.
  var cards = document.querySelectorAll(".stories li[data-themes]");
  function byTheme() {
    var m = /theme=([^&]+)/.exec(location.hash), theme = m ? decodeURIComponent(m[1]) : null, shown = 0;
    cards.forEach(function (li) {
      var on = !theme || JSON.parse(li.dataset.themes).indexOf(theme) >= 0;
      li.hidden = !on; if (on) shown++;
    });
    var status = document.getElementById("theme-status");
    if (status) status.textContent = theme ? shown + (shown === 1 ? " story" : " stories") + " about " + theme : "";
  }
  if (cards.length) { window.addEventListener("hashchange", byTheme); byTheme(); }
  // Search over every transcript (index page).
  var box = document.getElementById("search"), out = document.getElementById("results");
  if (box && out && window.CLIPKIT_INDEX) {
    function norm(s) { return s.toLowerCase().replace(/[\u2019']/g, "'").replace(/[^\p{L}\p{N}' ]+/gu, " ").replace(/\s+/g, " ").trim(); }
    box.addEventListener("input", function () {
      var q = norm(box.value);
      out.textContent = "";
      if (q.length < 2) return;
      var found = 0;
      window.CLIPKIT_INDEX.forEach(function (story) {
        story.lines.forEach(function (line) {
          if (found >= 50 || norm(line[1]).indexOf(q) < 0) return;
          found++;
          var li = document.createElement("li"), a = document.createElement("a");
          a.href = story.page + "#t=" + line[0];
          a.textContent = story.title + " — " + line[2];
          li.appendChild(a);
          li.appendChild(document.createTextNode(": " + line[1]));
          out.appendChild(li);
        });
      });
      var status = document.getElementById("results-status");
      status.textContent = found ? found + " result" + (found > 1 ? "s" : "") : "No results";
    });
  }
})();
"""


@dataclass
class SiteResult:
    index: Path
    pages: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    media: dict[str, Path] = field(default_factory=dict)  # site/media/NAME -> the file it is
    written: set[Path] = field(default_factory=set)  # every file this build made or kept


# clipkit owns these folders of a site: whatever a build did not make in them is removed (a
# story whose consent was withdrawn leaves nothing behind: page, media, posters, captions)
OWNED_FOLDERS = ("stories", "media", "posters", "captions", "assets")
ACCENT = re.compile(r"^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,30}|(rgb|hsl)a?\([0-9.,%\s]+\))$")


def project_file(project: Project, value: str | os.PathLike[str], what: str) -> Path:
    """A file named by the project's settings or metadata, refused unless it resolves inside the
    project (links followed). A recording linked into recordings/ by the user is the exception:
    recordings often live on another disk."""
    from .fsutil import inside

    root = project.root
    lexical = Path(os.path.normpath(root / value))
    if lexical.parent == Path(os.path.normpath(project.recordings)):
        return lexical
    return inside(root, value, what)


def _documents(folder: Path, fmt: str) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The JSON files of `folder` in clipkit's format `fmt` (others are skipped), parsed once."""
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot be read ({exc})") from exc
        except ValueError as exc:  # a damaged file is named, not mistaken for no file at all
            raise InputError(f"{path}: damaged, not JSON ({exc}); make it again") from exc
        if isinstance(data, dict) and data.get("format") == fmt:
            yield path, data


def load_transcripts(project: Project) -> dict[str, Transcript]:
    """Every clipkit transcript JSON in the project's transcripts/, by name."""
    out = {
        path.stem: from_json_dict(data, str(path))
        for path, data in _documents(project.transcripts, JSON_FORMAT)
    }
    if not out:
        raise InputError(
            f"no transcripts in {project.transcripts} (run `clipkit transcribe` first)"
        )
    return out


def recording_paths(project: Project, transcripts: dict[str, Transcript]) -> dict[str, str]:
    """Each transcript's recording, relative to the project (as plan.csv names it)."""
    by_stem = {p.stem: p for p in project_recordings(project)}
    out = {}
    for name, t in transcripts.items():
        path = by_stem.get(name) or (Path(t.source) if t.source else None)
        if path is None:
            out[name] = f"recordings/{name}"
            continue
        try:
            rel = os.path.relpath(path.absolute(), project.root)
        except ValueError:  # another drive on Windows
            rel = ".."
        # a transcript made elsewhere (a project copied or moved) names its recording where it
        # was: the project's own recordings/ is where it belongs now, never outside
        out[name] = f"recordings/{path.name}" if rel.startswith("..") else rel
    return out


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _script_json(data: Any) -> str:
    """JSON safe inside <script>: no `</script>` or `<!--` can end or confuse the element."""
    return (
        json.dumps(data, ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


@dataclass(frozen=True)
class Theme:
    """The archive's look: Jinja2 templates (configs/archive/, overridden by the project's
    archive/ folder) and clipkit.toml's [archive] settings (organisation, logo, accent colour,
    footer, about page)."""

    env: Any
    site: dict[str, str]

    @classmethod
    def load(cls, project: Project) -> Theme:
        import jinja2

        from .resources import configs_dir

        loader = jinja2.ChoiceLoader([
            jinja2.FileSystemLoader(str(project.root / "archive")),
            jinja2.FileSystemLoader(str(configs_dir() / "archive")),
        ])  # fmt: skip
        env = jinja2.Environment(loader=loader, autoescape=jinja2.select_autoescape(["html"]))
        settings = project.settings.get("archive", {})
        site = {k: str(settings.get(k, "")) for k in ("organisation", "footer", "about")}
        accent = str(settings.get("accent") or "#0b57d0").strip()
        if not ACCENT.match(accent):  # it lands in the stylesheet: a colour, nothing else
            raise InputError(f"[archive] accent = {accent!r} is not a CSS colour (e.g. #0b57d0)")
        site["accent"] = accent
        site["logo"] = Path(str(settings["logo"])).name if settings.get("logo") else ""
        return cls(env, site)

    def _render(self, name: str, **values: Any) -> str:
        import jinja2

        try:
            return str(self.env.get_template(name).render(**values))
        except jinja2.TemplateSyntaxError as exc:
            where = exc.filename or name
            raise InputError(f"{where}:{exc.lineno}: template error: {exc.message}") from exc
        except jinja2.TemplateError as exc:
            raise InputError(f"archive template {name}: {exc}") from exc

    def page(self, title: str, body: str, depth: int, lang: str = "en") -> str:
        from markupsafe import Markup

        return self._render(
            "base.html",
            title=title, body=Markup(body), up="../" * depth, lang=lang or "en", site=self.site,
        )  # fmt: skip

    def stylesheet(self) -> str:
        return self._render("style.css", site=self.site)

    def extras(self, project: Project, out: Path, result: SiteResult) -> None:
        """The logo into assets/, and the about page from its text (paragraphs); both files
        must lie inside the project."""
        settings = project.settings.get("archive", {})
        if settings.get("logo"):
            logo = project_file(project, str(settings["logo"]), "[archive] logo")
            if not logo.is_file():
                raise InputError(f"[archive] logo {logo} not found")
            target = out / "assets" / logo.name
            _copy_atomic(logo, target)
            result.written.add(target)
        if settings.get("about"):
            about = project_file(project, str(settings["about"]), "[archive] about")
            if not about.is_file():
                raise InputError(f"[archive] about {about} not found")
            from .fsutil import read_user_text

            paragraphs = [p.strip() for p in read_user_text(about).split("\n\n")]
            body = (
                '<main id="main"><h1>About this archive</h1>'
                + "".join(f"<p>{_e(p)}</p>" for p in paragraphs if p)
                + "</main>"
            )
            atomic_write_text(out / "about.html", self.page("About this archive", body, 0))
            result.written.add(out / "about.html")


def _copy_atomic(source: Path, target: Path) -> None:
    """Hard-linked where the disk allows, else copied; under a temp name first, so a full disk
    never leaves a truncated file under the final name."""
    from .fsutil import atomic_path

    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        tmp.unlink()
        try:
            os.link(source.resolve(), tmp)
        except OSError:  # another disk, or links not allowed: a copy
            shutil.copy2(source, tmp)


class _Media:
    """The site's media/ folder: one unique name per file (a recording and an extract both
    called story.mp4 get story.mp4 and story-2.mp4), copied in, linked to where it lies
    (`--link-media`), or left for `clipkit review` to serve from its table."""

    def __init__(self, out: Path, mode: str, result: SiteResult) -> None:
        self.out, self.mode, self.result = out, mode, result
        self.names: dict[Path, str] = {}
        self.taken: set[str] = set()

    def name(self, path: Path) -> str:
        key = path.resolve()
        if key not in self.names:
            name, n = path.name, 1
            while name.casefold() in self.taken:
                n += 1
                name = f"{path.stem}-{n}{path.suffix}"
            if n > 1:
                self.result.notes.append(
                    f"{path}: another file is already site/media/{path.name}; this one is "
                    f"media/{name}"
                )
            self.taken.add(name.casefold())
            self.names[key] = name
        return self.names[key]

    def src(self, path: Path, page_dir: Path) -> str:
        name = self.name(path)
        target = self.out / "media" / name
        if self.mode == "serve":
            self.result.media[name] = path.resolve()
        elif self.mode == "link":
            return os.path.relpath(path.resolve(), page_dir.resolve()).replace(os.sep, "/")
        else:
            same = target.is_file() and (
                (st := target.stat()).st_size == (src := path.stat()).st_size
                and st.st_mtime_ns == src.st_mtime_ns
            )
            if not same:
                _copy_atomic(path, target)
            self.result.written.add(target)
        return os.path.relpath(target, page_dir).replace(os.sep, "/")


_LINK = re.compile(r'\b(?:src|href)="([^"#][^"]*)"')


def check_self_contained(site: Path) -> None:
    """Every page's links stay inside the site: uploaded alone, nothing 404s."""
    from urllib.parse import unquote

    root = site.resolve()
    for page in site.rglob("*.html"):
        for link in _LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"^[a-z][a-z0-9+.-]*:", link):
                continue  # http(s):, mailto:, data:
            target = (page.parent / unquote(link.split("#")[0])).resolve()
            if root not in (target, *target.parents):
                raise OutputError(
                    f"{page}: links to {unquote(link)} outside the site; build without "
                    "--link-media to put the media inside it"
                )


def _href(rel: str) -> str:
    from urllib.parse import quote

    return quote(rel, safe="/.-_~")


def _words_html(s: Sentence) -> str:
    """A sentence as word spans with their times, for selecting a moment (editor mode)."""
    return " ".join(
        f'<span class="w" data-s="{w.start / 1000:.3f}" data-e="{w.end / 1000:.3f}">{_e(w.text)}</span>'
        for w in s.words
    )


def _transcript_html(sentences: list[Sentence], editor: bool = False) -> str:
    parts = []
    speaker = None
    for s in sentences:
        who = ""
        if s.speaker and s.speaker != speaker:
            who = f'<span class="speaker">{_e(s.speaker)}:</span> '
        speaker = s.speaker
        t = s.start / 1000
        parts.append(
            f'<p class="line" data-t="{t:.3f}"><button type="button" class="ts" data-t="{t:.3f}" '
            f'aria-label="Play from {_e(format_clock(s.start))}">{_e(format_clock(s.start).rsplit(".", 1)[0])}</button>'
            f"{who}{_words_html(s) if editor else _e(s.text)}</p>"
        )
    return "\n".join(parts)


def _editor_html(source: str) -> str:
    """The editor's panel: select transcript text, check and play the range, name it, save it
    as a plan row (to the local server of `clipkit review`, else as a CSV line to download)."""
    return f"""<section id="editor" aria-labelledby="editor-h" data-source="{_e(source)}">
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


def _extract_sidecars(project: Project) -> list[tuple[Path, ExtractSidecar]]:
    out = [
        (path, ExtractSidecar.from_json_dict(data, str(path)))
        for path, data in _documents(project.extracts, EXTRACT_FORMAT)
    ]
    return sorted(out, key=lambda e: (e[1].plan_row, e[1].start_ms))


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
    from .fsutil import remove_stale_parts

    out.mkdir(parents=True, exist_ok=True)
    for folder in (out, *(out / f for f in OWNED_FOLDERS)):
        remove_stale_parts(folder)  # what a killed build left
    transcripts = load_transcripts(project)
    sources = recording_paths(project, transcripts)
    stories = load_stories(project.root)
    files = {name: Path(sources[name]).name for name in transcripts}
    held = [] if editor else held_back(stories, [files[n] for n in transcripts])
    if not editor:  # lived-experience stories go online only with consent given
        transcripts = {
            n: t for n, t in transcripts.items() if consent_of(stories, files[n]) == "given"
        }
    archive_title = (
        title or project.settings.get("publish", {}).get("playlist") or project.root.name
    )
    (out / "assets").mkdir(parents=True, exist_ok=True)
    (out / "stories").mkdir(exist_ok=True)
    (out / "captions").mkdir(exist_ok=True)
    theme = Theme.load(project)
    result = SiteResult(index=out / "index.html", notes=list(held))
    write = _writer(result)
    write(out / "assets" / "style.css", theme.stylesheet())
    theme.extras(project, out, result)
    write(out / "assets" / "archive.js", ASSETS_JS.lstrip())
    extracts = _extract_sidecars(project)
    from .signoff import left_out, load_signoffs, required, state_of

    if not editor and required(project.settings):  # each extract approved by its storyteller
        records = load_signoffs(project.extracts)
        states = {d.slug: state_of(records, d.slug, d.sha256) for _, d in extracts}
        extracts = [e for e in extracts if states[e[1].slug] == "approved"]
        result.notes += left_out(states)
    stories_dir = out / "stories"
    media = _Media(out, "serve" if serve_media else "link" if link_media else "copy", result)
    index_rows, search_index = [], []
    all_themes: set[str] = set()
    slugs: dict[str, str] = {}
    for name, transcript in transcripts.items():
        slug = base = slugify(name)
        n = 1
        while slug in slugs:  # two names that slugify alike: each keeps a page of its own
            n += 1
            slug = f"{base}-{n}"
        if n > 1:
            result.notes.append(f"{name}: {slugs[base]} already has stories/{base}.html; "
                                f"this story is stories/{slug}.html")  # fmt: skip
        slugs[slug] = name
        recording = project_file(project, sources[name], f"transcripts/{name}.json source")
        story = stories.get(files[name])
        story_title = (story.title if story and story.title else "") or _story_title(
            recording, name
        )
        about = _story_meta(story)
        sentences = sentences_of(transcript.words)
        cues = shape_words(transcript.words)
        captions = out / "captions" / f"{slug}.vtt"
        write(captions, render_vtt(cues))
        cue_data = [[c.start / 1000, c.end / 1000, c.text] for c in cues]
        lang = transcript.language or "en"
        translated = _recording_translations(project, name, lang, slug, out, result)
        if recording.is_file():
            info = probe(recording)
            tag = "video" if info.has_video else "audio"
            src = _href(media.src(recording, stories_dir))
            poster = ""
            if info.has_video:  # a frame a little way in, not the first (often black)
                at = min(info.duration_ms / 2, max(1000, info.duration_ms / 10)) / 1000
                jpg = _poster(recording, media.name(recording), at, out, result)
                poster = f' poster="{_href(os.path.relpath(jpg, stories_dir))}"'
            player = (
                f'<{tag} id="player" controls preload="metadata" src="{src}"{poster} data-cues="cues-{slug}">'
                f'<track kind="captions" src="../captions/{_href(captions.name)}" srclang="{_e(lang)}" '
                f'label="{_e(_language_name(lang))}" default>{translated}'
                f'<p>Your browser cannot play this recording: <a href="{src}">download it</a>.</p></{tag}>'
                f'<script type="application/json" id="cues-{slug}">{_script_json(cue_data)}</script>'
            )
            duration = format_clock(info.duration_ms).rsplit(".", 1)[0]
        else:
            result.notes.append(
                f"{name}: the recording {recording} is missing; its page has the transcript only"
            )
            player = f'<p class="notice" role="status">The recording ({_e(recording.name)}) is missing, so only its transcript is shown.</p>'
            duration = format_clock(transcript.duration_ms).rsplit(".", 1)[0]
        mine = [e for e in extracts if Path(e[1].source).stem == recording.stem]
        extract_html = _extracts_html(project, mine, stories_dir, media, lang, result)
        body = f"""<header><p><a href="../index.html">{_e(archive_title)}</a></p>
<h1>{_e(story_title)}</h1>
{about}
<p class="meta">{_e(duration)} · {len(mine)} extract{"s" if len(mine) != 1 else ""}</p></header>
<main id="main">
{player}
{extract_html}
{_editor_html(sources[name]) if editor else ""}
<h2 id="transcript">Transcript</h2>
<p class="meta">Select a time to play the recording from there.</p>
<div class="transcript">
{_transcript_html(sentences, editor)}
</div>
</main>"""
        page = stories_dir / f"{slug}.html"
        write(page, theme.page(f"{story_title} — {archive_title}", body, 1, lang))
        result.pages.append(page)
        blurb = (
            story.summary if story and story.summary else (sentences[0].text if sentences else "")
        )
        themes = list(story.themes) if story else []
        all_themes.update(themes)
        index_rows.append(
            f'<li data-themes="{_e(json.dumps(themes))}"><h3><a href="stories/{_href(page.name)}">{_e(story_title)}</a></h3>{about}'
            f'<p class="meta">{_e(duration)} · {len(mine)} extract{"s" if len(mine) != 1 else ""}</p>'
            f"<p>{_e(blurb[:300])}</p></li>"
        )
        search_index.append(
            {
                "title": story_title,
                "page": f"stories/{page.name}",
                "lines": [
                    [round(s.start / 1000, 3), s.text, format_clock(s.start).rsplit(".", 1)[0]]
                    for s in sentences
                ],
            }
        )
    write(
        out / "assets" / "search-index.js",
        "window.CLIPKIT_INDEX = " + _script_json(search_index) + ";\n",
    )
    body = f"""<header><h1>{_e(archive_title)}</h1>
<p class="meta">{len(transcripts)} stor{"ies" if len(transcripts) != 1 else "y"}</p></header>
<main id="main">
<search role="search">
<label for="search">Search every transcript</label>
<input type="search" id="search" autocomplete="off" aria-describedby="results-status">
<p id="results-status" class="meta" aria-live="polite"></p>
<ul id="results"></ul>
</search>
<h2>Stories</h2>
{_theme_filter(sorted(all_themes))}
<ul class="stories">
{chr(10).join(index_rows)}
</ul>
</main>
<script src="assets/search-index.js"></script>"""
    write(result.index, theme.page(archive_title, body, 0))
    _remove_unmade(out, result.written)
    if not link_media and not serve_media:
        check_self_contained(out)
    return result


def _writer(result: SiteResult) -> Any:
    def write(path: Path, text: str) -> None:
        atomic_write_text(path, text)
        result.written.add(path)

    return write


def _remove_unmade(out: Path, written: set[Path]) -> None:
    """Whatever this build did not make goes from the folders clipkit owns (and about.html): a
    story whose consent was withdrawn must leave nothing online from an earlier build."""
    for folder in OWNED_FOLDERS:
        place = out / folder
        if not place.is_dir():
            continue
        for entry in sorted(place.rglob("*"), reverse=True):
            if entry.is_dir() and not entry.is_symlink():
                with contextlib.suppress(OSError):
                    entry.rmdir()  # only when empty
            elif entry not in written:
                entry.unlink()
    about = out / "about.html"
    if about.exists() and about not in written:
        about.unlink()


def _extracts_html(
    project: Project,
    mine: list[tuple[Path, ExtractSidecar]],
    stories_dir: Path,
    media: _Media,
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
            src = _href(media.src(video, stories_dir))
            track = ""
            if vtt is not None and vtt.is_file():
                # a folder of their own: a story slugged `extract-x` must not meet extract x
                name = f"{Path(media.name(video)).stem}.vtt"
                captions = stories_dir.parent / "captions" / "extracts" / name
                _copy_atomic(vtt, captions)
                result.written.add(captions)
                # burnt-in subtitles are already in the picture: the track is there, not shown
                shown = "" if d.burnt_in else " default"
                track = f'<track kind="captions" src="../captions/extracts/{_href(captions.name)}" srclang="{_e(lang)}" label="{_e(_language_name(lang))}"{shown}>'
            track += _translation_tracks(project, path, d, video, media, stories_dir, result)
            # an extract fades in from black: its poster is a frame after the fade
            at = min(d.duration_ms / 2, 1000) / 1000
            jpg = _poster(video, media.name(video), at, stories_dir.parent, result)
            poster = _href(os.path.relpath(jpg, stories_dir))
            shown_media = (
                f'<video controls preload="metadata" src="{src}" poster="{poster}">{track}</video>'
            )
        else:
            result.notes.append(f"extract {video.name} is missing")
            shown_media = f'<p class="notice" role="status">The video of this extract ({_e(video.name)}) is missing.</p>'
        items.append(
            f"<li><h3>{_e(d.title)}</h3>{shown_media}"
            f"<p>{_e(d.description)}</p>"
            + (f'<p class="meta">Tags: {_e(tags)}</p>' if tags else "")
            + f'<p class="meta">From {_e(_human(d.start_ms))} to {_e(_human(d.end_ms))}</p></li>'
        )
    return '<h2 id="extracts">Extracts</h2>\n<ul class="extracts">\n' + "\n".join(items) + "\n</ul>"


def _recording_translations(
    project: Project, name: str, lang: str, slug: str, out: Path, result: SiteResult
) -> str:
    """A <track> per translation of the whole recording (`transcripts/NAME.xx.srt`)."""
    from .formats import read_cues
    from .tracks import translations_of

    tracks = []
    for tag, path in translations_of(project.transcripts / f"{name}.json", lang):
        captions = out / "captions" / f"{slug}.{tag}.vtt"
        _writer(result)(captions, render_vtt(read_cues(path)))
        tracks.append(
            f'<track kind="subtitles" src="../captions/{_href(captions.name)}" '
            f'srclang="{_e(tag)}" label="{_e(_language_name(tag))}">'
        )
    return "".join(tracks)


def _translation_tracks(
    project: Project,
    path: Path,
    d: ExtractSidecar,
    video: Path,
    media: _Media,
    stories_dir: Path,
    result: SiteResult,
) -> str:
    """A <track> per translation (the player's subtitle menu offers each language)."""
    from .tracks import LANGUAGE_TAG

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
        _copy_atomic(vtt, captions)
        result.written.add(captions)
        out.append(
            f'<track kind="subtitles" src="../captions/extracts/{_href(name)}" '
            f'srclang="{_e(t.language)}" label="{_e(_language_name(t.language))}">'
        )
    return "".join(out)


def _poster(video: Path, media_name: str, seconds: float, site: Path, result: SiteResult) -> Path:
    """A poster frame for a video, made once into site/posters/ under its unique media name."""
    from .ffmpeg import grab_frame

    posters = site / "posters"
    posters.mkdir(parents=True, exist_ok=True)
    target = posters / f"{slugify(media_name)}.jpg"
    if not target.is_file() or target.stat().st_mtime < video.stat().st_mtime:
        from .fsutil import atomic_path

        with atomic_path(target) as tmp:  # its name ends in .jpg: ffmpeg writes a JPEG
            grab_frame(video, seconds, tmp)
    result.written.add(target)
    return target


def _theme_filter(themes: list[str]) -> str:
    """Links that show only the stories of a theme (the index's script filters the list)."""
    if not themes:
        return ""
    links = " ".join(f'<a class="theme" href="#theme={_href(t)}">{_e(t)}</a>' for t in themes)
    return (
        f'<nav aria-label="Themes" class="themes"><p>Themes: {links} <a href="#">all stories</a></p>'
        '<p id="theme-status" class="meta" aria-live="polite"></p></nav>'
    )


def _human(ms: int) -> str:
    """A time as people read it: 12:03, 1:02:03."""
    return format_clock(ms).rsplit(".", 1)[0]


def _story_meta(story: Story | None) -> str:
    """Who tells the story, when and where, its themes and licence, as one line."""
    if story is None:
        return ""
    parts = [story.storyteller and f"Told by {story.storyteller}",
             story.interviewer and f"with {story.interviewer}", story.date, story.place]  # fmt: skip
    line = " · ".join(p for p in parts if p)
    themes = ", ".join(story.themes)
    out = f'<p class="meta">{_e(line)}</p>' if line else ""
    if themes:
        out += f'<p class="meta">Themes: {_e(themes)}</p>'
    if story.licence:
        out += f'<p class="meta">Licence: {_e(story.licence)}</p>'
    return out


def _story_title(recording: Path, name: str) -> str:
    sidecar = recording.with_name(recording.name + ".source.json")
    if sidecar.is_file():
        try:
            title = json.loads(sidecar.read_text(encoding="utf-8")).get("title")
            if title:
                return str(title)
        except (OSError, ValueError):
            pass
    return name.replace("-", " ").replace("_", " ").strip().capitalize() or name


def _language_name(code: str) -> str:
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
