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

from .errors import ConfigError
from .resources import configs_dir
from .subtitles import Cue


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
    style = BurnStyle(**{"name": path.stem, **table})
    for colour in (style.colour, style.outline_colour, style.box_colour):
        ass_colour(colour)  # validate early, with the file's name
    if not 0 < style.size < 0.5:
        raise ConfigError(f"{path}: size must be a fraction of the frame, e.g. 0.05")
    return style


def _ass_text(cue: Cue) -> str:
    # braces open override blocks and backslashes start escapes in ASS: keep transcripts literal
    lines = [ln.replace("\\", "/").replace("{", "(").replace("}", ")") for ln in cue.lines]
    return r"\N".join(lines)


def _ass_time(ms: int) -> str:
    cs = ms // 10
    h, rest = divmod(cs, 360000)
    m, rest = divmod(rest, 6000)
    s, cs = divmod(rest, 100)
    return f"{h}:{m:02d}:{s:02d}.{cs:02d}"


def render_ass(cues: list[Cue], style: BurnStyle, width: int, height: int) -> str:
    short = min(width, height)
    size = max(8, round(style.size * short))
    outline = round(style.outline * size, 1)
    shadow = round(style.shadow * size, 1)
    margin_v = round(style.margin_bottom * short)
    margin_h = round(0.05 * width)
    border_style = 3 if style.box else 1  # 3: opaque box behind the text
    back = ass_colour(style.box_colour) if style.box else ass_colour(style.outline_colour)
    outline_colour = ass_colour(style.box_colour) if style.box else ass_colour(style.outline_colour)
    box_pad = round(0.25 * size) if style.box else outline
    head = [
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {width}",
        f"PlayResY: {height}",
        "WrapStyle: 2",  # clipkit breaks lines itself; never re-wrap
        "ScaledBorderAndShadow: yes",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, "
        "Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, "
        "Shadow, Alignment, MarginL, MarginR, MarginV, Encoding",
        f"Style: Default,{style.font},{size},{ass_colour(style.colour)},{ass_colour(style.colour)},"
        f"{outline_colour},{back},{-1 if style.bold else 0},0,0,0,100,100,0,0,{border_style},"
        f"{box_pad if style.box else outline},{shadow},2,{margin_h},{margin_h},{margin_v},1",
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    events = [
        f"Dialogue: 0,{_ass_time(c.start)},{_ass_time(c.end)},Default,,0,0,0,,{_ass_text(c)}"
        for c in cues
    ]
    return "\n".join(head + events) + "\n"
