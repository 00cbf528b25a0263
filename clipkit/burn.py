"""Burnt-in subtitle styling: a TOML style rendered into an ASS script sized for the frame.

clipkit writes its own ASS file with PlayResX/PlayResY equal to the output frame, so sizes are
in real pixels. (libass sizes SRT text against a 288-line canvas, which makes one FontSize wrong
for every other frame shape, vertical video above all.)
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .resources import configs_dir
from .subtitles import Cue, Word, clean_words


@dataclass(frozen=True)
class BurnStyle:
    name: str = "default"
    font: str = "DejaVu Sans"
    size: float = 0.05
    bold: bool = False
    colour: str = "#FFFFFF"
    outline_colour: str = "#000000"
    outline: float = 0.08
    shadow: float = 0.0
    margin_bottom: float = 0.06
    box: bool = False
    box_colour: str = "#000000A0"
    # who is speaking, where the transcript knows: a text colour per speaker (in order of
    # first words in the extract; the list repeats) and/or `NAME: ` before each turn
    speaker_colours: tuple[str, ...] = ()
    speaker_names: bool = False
    # captions made for Shorts (watched muted): the word being said in this colour, where the
    # transcript's word timings are known; "" for none
    highlight_colour: str = ""
    position: str = "bottom"  # or "middle": large captions in the centre of a vertical frame


_HEX = re.compile(r"^#([0-9a-fA-F]{6})([0-9a-fA-F]{2})?$")


def ass_colour(value: str) -> str:
    """`#RRGGBB[AA]` (AA = opacity) to ASS `&HAABBGGRR` (AA = transparency)."""
    m = _HEX.match(value)
    if not m:
        raise ConfigError(f"colour {value!r} is not #RRGGBB or #RRGGBBAA")
    rr, gg, bb = m.group(1)[0:2], m.group(1)[2:4], m.group(1)[4:6]
    opacity = int(m.group(2) or "FF", 16)
    return f"&H{255 - opacity:02X}{bb}{gg}{rr}".upper()


def available_styles() -> list[str]:
    return sorted(p.stem for p in (configs_dir() / "styles").glob("*.toml"))


def load_style(name_or_path: str | None = None) -> BurnStyle:
    name_or_path = name_or_path or "default"
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = configs_dir() / "styles" / f"{name_or_path}.toml"
        if not path.is_file():
            raise ConfigError(
                f"unknown style {name_or_path!r} (known: {', '.join(available_styles())})"
            )
    elif not path.is_file():
        raise ConfigError(f"{path}: no such style file")
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("style", {})
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    known = {f.name for f in fields(BurnStyle)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown style key(s): {', '.join(unknown)}")
    if "speaker_colours" in table:
        colours = table["speaker_colours"]
        if not isinstance(colours, list) or not all(isinstance(c, str) for c in colours):
            raise ConfigError(
                f'{path}: speaker_colours must be a list, e.g. ["#FFFF00", "#00FFFF"]'
            )
        table["speaker_colours"] = tuple(colours)
    if not isinstance(table.get("speaker_names", False), bool):
        raise ConfigError(f"{path}: speaker_names must be true or false")
    style = BurnStyle(**{"name": path.stem, **table})
    if style.position not in ("bottom", "middle"):
        raise ConfigError(f'{path}: position must be "bottom" or "middle"')
    extra = (style.highlight_colour,) if style.highlight_colour else ()
    for colour in (
        style.colour,
        style.outline_colour,
        style.box_colour,
        *style.speaker_colours,
        *extra,
    ):
        ass_colour(colour)  # validate early, with the file's name
    if not 0 < style.size < 0.5:
        raise ConfigError(f"{path}: size must be a fraction of the frame, e.g. 0.05")
    return style


def _literal(text: str) -> str:
    # braces open override blocks and backslashes start escapes in ASS: keep transcripts literal
    return text.replace("\\", "/").replace("{", "(").replace("}", ")")


def _ass_text(cue: Cue, highlight: int | None = None, colour: str = "") -> str:
    """The cue's lines; with `highlight`, its token of that index (across lines) in `colour`."""
    lines, k = [], 0
    for line in cue.lines:
        tokens = []
        for token in line.split(" "):
            text = _literal(token)
            if k == highlight:
                text = f"{{\\1c{colour}}}{text}{{\\r}}"
            tokens.append(text)
            k += 1
        lines.append(" ".join(tokens))
    return r"\N".join(lines)


MIN_WORD_PROBABILITY = 0.3  # below it a word's timing is doubtful: the cue is left unhighlighted


def _word_events(cue: Cue, words: list[Word], colour: str) -> list[tuple[int, int, str]] | None:
    """(start, end, text) events that highlight each word of `cue` while it is said; None where
    the words do not match the cue's text or their timings are doubtful."""
    tokens = " ".join(cue.lines).split(" ")
    mine = [w for w in words if cue.start <= w.start < cue.end]
    offset = len(tokens) - len(mine)  # a speaker label before the first word
    if not mine or offset not in (0, 1) or any(w.probability < MIN_WORD_PROBABILITY for w in mine):
        return None
    if [t for t in tokens[offset:]] != [w.text for w in mine]:
        return None
    events = []
    if mine[0].start > cue.start:
        events.append((cue.start, mine[0].start, _ass_text(cue)))
    for k, w in enumerate(mine):
        end = mine[k + 1].start if k + 1 < len(mine) else cue.end
        if end > w.start:
            events.append((w.start, end, _ass_text(cue, k + offset, colour)))
    return events


def _colour(value: str):  # type: ignore[no-untyped-def]
    """`#RRGGBB[AA]` (AA = opacity) as a pysubs2 Color (whose alpha is transparency)."""
    import pysubs2

    ass_colour(value)  # validates
    m = _HEX.match(value)
    assert m is not None
    rgb = m.group(1)
    opacity = int(m.group(2) or "FF", 16)
    return pysubs2.Color(int(rgb[0:2], 16), int(rgb[2:4], 16), int(rgb[4:6], 16), 255 - opacity)


def _default_style(style: BurnStyle, width: int, height: int) -> Any:
    """The burn-in style as an ASS style, sized in pixels of the output frame."""
    import pysubs2

    short = min(width, height)
    size = max(8, round(style.size * short))
    edge = style.box_colour if style.box else style.outline_colour
    return pysubs2.SSAStyle(
        fontname=style.font,
        fontsize=size,
        primarycolor=_colour(style.colour),
        secondarycolor=_colour(style.colour),
        outlinecolor=_colour(edge),
        backcolor=_colour(edge),
        bold=style.bold,
        borderstyle=3 if style.box else 1,  # 3: opaque box behind the text
        outline=round(0.25 * size) if style.box else round(style.outline * size, 1),
        shadow=round(style.shadow * size, 1),
        alignment=pysubs2.Alignment.MIDDLE_CENTER
        if style.position == "middle"
        else pysubs2.Alignment.BOTTOM_CENTER,
        marginl=round(0.05 * width),
        marginr=round(0.05 * width),
        marginv=round(style.margin_bottom * short),
        encoding=1,
    )


def ass_document(
    cues: list[Cue], style: BurnStyle, width: int, height: int, words: list[Word] | None = None
) -> str:
    """An ASS script (through pysubs2) with PlayResX/Y equal to the output frame, so sizes are
    real pixels; the same script `subs convert x.ass` writes for Aegisub users. With a style's
    `highlight_colour` and the words' timings, each word is coloured while it is said."""
    import pysubs2

    doc = pysubs2.SSAFile()
    doc.info.update(
        {
            "PlayResX": str(width),
            "PlayResY": str(height),
            "WrapStyle": "2",  # clipkit breaks lines itself; never re-wrap
            "ScaledBorderAndShadow": "yes",
        }
    )
    doc.styles = {"Default": _default_style(style, width, height)}
    speakers: dict[str, str] = {}  # speaker -> the style of their colour
    if style.speaker_colours:
        for c in cues:
            if c.speaker and c.speaker not in speakers:
                name = f"Speaker{len(speakers) + 1}"
                colour = style.speaker_colours[len(speakers) % len(style.speaker_colours)]
                doc.styles[name] = doc.styles["Default"].copy()
                doc.styles[name].primarycolor = _colour(colour)
                doc.styles[name].secondarycolor = _colour(colour)
                speakers[c.speaker] = name
    # an override colour is &HBBGGRR& (its alpha is set apart)
    colour = f"&H{ass_colour(style.highlight_colour)[4:]}&" if style.highlight_colour else ""
    cleaned = clean_words(words) if words and colour else []
    doc.events = []
    for c in cues:
        parts = _word_events(c, cleaned, colour) if cleaned else None
        for start, end, text in parts or [(c.start, c.end, _ass_text(c))]:
            doc.events.append(pysubs2.SSAEvent(
                start=start, end=end, text=text, style=speakers.get(c.speaker or "", "Default"),
            ))  # fmt: skip
    return doc.to_string("ass")
