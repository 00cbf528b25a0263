"""The findings report: the key learning across stories, theme by theme. Each plan row is a
moment; its tags (from the selection headings, `## Title | description | tags`) are its themes,
else its story's themes from stories.toml. Per theme, the quotes in the transcript's exact
words, who said them, the story, the time and a link to that moment in the story archive; and
how many stories and quotes each theme holds. Written as HTML (the archive's templates, with a
print stylesheet for PDF) and as DOCX for those who edit reports in Word.

Consent is kept: a story without consent = "given" never appears, nor (with `[signoff]
required = true`) an extract its storyteller has not approved.
"""

from __future__ import annotations

import contextlib
import html
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .project import Project
from .timecode import format_clock

OTHER = "Other moments"
PRINT_CSS = """@media print {
  a { color: inherit; text-decoration: none; }
  .skip, footer[role=contentinfo], .brand img { display: none; }
  section.theme { break-before: page; }
  blockquote { break-inside: avoid; }
}
blockquote { margin: 1em 0; padding-left: 1em; border-left: 4px solid #ccc; }
blockquote p { font-size: 1.1em; }
table.counts td, table.counts th { padding: 0.2em 0.8em; text-align: left; }
"""


@dataclass(frozen=True)
class Quote:
    text: str  # the transcript's words of the moment, as said
    speaker: str
    story: str  # the story's title
    recording: str
    title: str  # the moment's title (the plan row's)
    start_ms: int
    end_ms: int
    link: str  # the moment in the story archive

    @property
    def timecode(self) -> str:
        return format_clock(self.start_ms).rsplit(".", 1)[0]


@dataclass(frozen=True)
class Theme:
    name: str
    quotes: tuple[Quote, ...]

    @property
    def stories(self) -> int:
        return len({q.recording for q in self.quotes})


@dataclass
class Findings:
    title: str
    themes: list[Theme] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def stories(self) -> int:
        return len({q.recording for t in self.themes for q in t.quotes})

    @property
    def quotes(self) -> int:
        return len({(q.recording, q.start_ms, q.end_ms) for t in self.themes for q in t.quotes})


def _quote(ex: Any, transcript: Any, story: Any, base: str) -> Quote | str:
    """The moment's words as a quote, with who says them (the voice heard most, else the
    story's storyteller) and a link to the place in the archive; or why there is none."""
    from .plan import slugify

    if transcript is None:
        return f"{ex.row.where}: no transcript of {ex.source.name}"
    words = [w for w in transcript.words if ex.start_ms <= (w.start + w.end) // 2 < ex.end_ms]
    if not words:
        return f"{ex.row.where}: no words between its in and out points"
    spoken = Counter(w.speaker for w in words if w.speaker)
    speaker = spoken.most_common(1)[0][0] if spoken else (story.storyteller if story else "")
    return Quote(
        text=" ".join(w.text for w in words),
        speaker=speaker,
        story=(story.title if story and story.title else "") or ex.source.stem,
        recording=ex.source.name,
        title=ex.title,
        start_ms=words[0].start,
        end_ms=words[-1].end,
        link=f"{base}stories/{slugify(ex.source.stem)}.html#t={words[0].start / 1000:.1f}",
    )


def gather(project: Project, archive_url: str = "../site/", title: str | None = None) -> Findings:
    """The report's content from the plan, the transcripts and stories.toml (no I/O beyond
    reading them)."""
    from .archive import load_transcripts
    from .cut import CutOptions, prepare
    from .plan import read_plan
    from .sidecar import read_sidecar
    from .signoff import left_out, load_signoffs, required, state_of
    from .stories import consent_of, held_back, load_stories

    if not project.plan.is_file():
        raise InputError(f"{project.plan}: no plan, so no moments to report on")
    transcripts = load_transcripts(project)
    stories = load_stories(project.root)
    rows = read_plan(project.plan)
    if not rows:
        raise InputError(f"{project.plan}: the plan has no moments to report on")
    prepared = prepare(rows, project.plan.parent, CutOptions(out_dir=project.extracts, burn=False))
    findings = Findings(
        title or project.settings.get("publish", {}).get("playlist") or project.root.name
    )
    findings.notes += prepared.problems
    recordings = sorted({ex.source.name for ex in prepared.extracts})
    findings.notes += held_back(stories, recordings)
    signoffs = load_signoffs(project.extracts)
    states: dict[str, str] = {}
    by_theme: dict[str, list[Quote]] = {}
    base = archive_url if archive_url.endswith("/") else archive_url + "/"
    for ex in prepared.extracts:
        if consent_of(stories, ex.source.name) != "given":
            continue
        if required(project.settings):
            sha = ""
            with contextlib.suppress(InputError):  # not cut yet: nothing seen, nothing approved
                sha = read_sidecar(project.extracts / f"{ex.slug}.json").sha256
            states[ex.slug] = state_of(signoffs, ex.slug, sha)
            if states[ex.slug] != "approved":
                continue
        quote = _quote(ex, transcripts.get(ex.source.stem), stories.get(ex.source.name), base)
        if isinstance(quote, str):  # why the moment gives no quote
            findings.notes.append(quote)
            continue
        story = stories.get(ex.source.name)
        themes = list(ex.row.tags) or (list(story.themes) if story else []) or [OTHER]
        for name in dict.fromkeys(t.strip() for t in themes if t.strip()):
            by_theme.setdefault(name, []).append(quote)
    findings.notes += left_out(states)
    # the themes most stories speak to first; quotes in story and time order
    findings.themes = sorted(
        (
            Theme(n, tuple(sorted(q, key=lambda q: (q.story, q.start_ms))))
            for n, q in by_theme.items()
        ),
        key=lambda t: (t.name == OTHER, -t.stories, -len(t.quotes), t.name.casefold()),
    )
    if not findings.themes:
        raise InputError("nothing to report: no moment of a story with consent given")
    return findings


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def report_html(findings: Findings) -> str:
    """The report's body (escaped), for the archive's page template."""
    rows = "".join(
        f'<tr><td><a href="#{_anchor(t.name)}">{_e(t.name)}</a></td><td>{t.stories}</td><td>{len(t.quotes)}</td></tr>'
        for t in findings.themes
    )
    sections = []
    for t in findings.themes:
        quotes = "".join(
            f"<blockquote><p>“{_e(q.text)}”</p><footer>— {_e(q.speaker or 'the storyteller')}, "
            f'<a href="{_e(q.link)}">{_e(q.story)}, {_e(q.timecode)}</a> · {_e(q.title)}</footer></blockquote>'
            for q in t.quotes
        )
        sections.append(
            f'<section class="theme" id="{_anchor(t.name)}"><h2>{_e(t.name)}</h2>'
            f'<p class="meta">{t.stories} stor{"ies" if t.stories != 1 else "y"}, '
            f"{len(t.quotes)} quote{'s' if len(t.quotes) != 1 else ''}</p>{quotes}</section>"
        )
    return (
        f'<main id="main"><h1>{_e(findings.title)}: findings</h1>'
        f'<p class="meta">{findings.stories} stor{"ies" if findings.stories != 1 else "y"}, '
        f"{findings.quotes} quote{'s' if findings.quotes != 1 else ''}, {len(findings.themes)} theme"
        f"{'s' if len(findings.themes) != 1 else ''}</p>"
        '<table class="counts"><thead><tr><th>Theme</th><th>Stories</th><th>Quotes</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>{''.join(sections)}</main>"
    )


def _anchor(name: str) -> str:
    from .plan import slugify

    return "theme-" + slugify(name)


def write_report(project: Project, findings: Findings, out: Path) -> list[Path]:
    """report/index.html (with its stylesheets) and report/findings.docx."""
    from .archive import Theme as Look
    from .fsutil import atomic_path, atomic_write_text

    look = Look.load(project)
    (out / "assets").mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "assets" / "style.css", look.stylesheet() + "\n" + PRINT_CSS)
    page = look.page(f"{findings.title}: findings", report_html(findings), 0)
    # the archive's template links assets/archive.js; the report has no script of its own
    page = page.replace('<script src="assets/archive.js"></script>', "")
    atomic_write_text(out / "index.html", page)
    docx = out / "findings.docx"
    with atomic_path(docx) as tmp:
        report_docx(findings).save(str(tmp))
    return [out / "index.html", docx]


def report_docx(findings: Findings) -> Any:
    try:
        import docx
    except ImportError as exc:
        raise InputError(
            "the Word report needs python-docx: pip install 'clipkit[report]'"
        ) from exc
    document = docx.Document()
    document.core_properties.title = f"{findings.title}: findings"
    document.add_heading(f"{findings.title}: findings", level=0)
    document.add_paragraph(
        f"{findings.stories} stories, {findings.quotes} quotes, {len(findings.themes)} themes."
    )
    table = document.add_table(rows=1, cols=3)
    for cell, text in zip(table.rows[0].cells, ("Theme", "Stories", "Quotes"), strict=True):
        cell.text = text
    for t in findings.themes:
        cells = table.add_row().cells
        cells[0].text, cells[1].text, cells[2].text = t.name, str(t.stories), str(len(t.quotes))
    for t in findings.themes:
        document.add_heading(t.name, level=1)
        for q in t.quotes:
            document.add_paragraph(f"“{q.text}”", style="Quote")
            who = document.add_paragraph(f"— {q.speaker or 'the storyteller'}, ")
            _hyperlink(who, q.link, f"{q.story}, {q.timecode}")
            who.add_run(f" · {q.title}")
    return document


def _hyperlink(paragraph: Any, url: str, text: str) -> None:
    """A clickable link in a python-docx paragraph (python-docx has no API for it)."""
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    rid = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rid)
    run = OxmlElement("w:r")
    props = OxmlElement("w:rPr")
    style = OxmlElement("w:rStyle")
    style.set(qn("w:val"), "Hyperlink")
    props.append(style)
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "single")
    props.append(underline)
    run.append(props)
    node = OxmlElement("w:t")
    node.text = text
    run.append(node)
    link.append(run)
    paragraph._p.append(link)
