"""`clipkit subs`: check, reshape, convert, shift and slice subtitle files."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .base import (
    LABELS_OPTION,
    PROFILE_OPTION,
    cli,
    json_option,
)

SUBS_OUTPUT = click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="SRT or VTT file to write (default: SRT on stdout).",
)


@cli.group()
def subs() -> None:
    """Check, reshape, convert, shift and slice subtitles."""


def _emit(text: str, output: Path | None, cues_written: int) -> None:
    """Write to OUTPUT (atomically) or to stdout."""
    from ..fsutil import atomic_write_text

    if output is None:
        click.echo(text, nl=False)
        return
    atomic_write_text(output, text)
    click.echo(f"Wrote {output} ({cues_written} cues)", err=True)


@subs.command("check")
@click.argument("file", type=click.Path(path_type=Path))
@PROFILE_OPTION
@click.option(
    "--media",
    type=click.Path(path_type=Path),
    help="The recording (or its transcript JSON): cues past its end are hard breaks.",
)
@json_option("Print the report as JSON.")
def subs_check(file: Path, profile: str | None, media: Path | None, as_json: bool) -> None:
    """List every cue that breaks a rule of the profile; exit 1 on any hard rule.

    Example: clipkit subs check talk.srt --media talk.mp4
    """
    from ..formats import read_cues, read_transcript
    from ..profiles import load_profile
    from ..subtitles import check_cues, share_within_target

    rules = load_profile(profile)
    cues = read_cues(file, allow_overlap=True)  # overlaps are reported below, not fatal
    end = None
    if media is not None:
        if media.suffix.lower() == ".json":
            end = read_transcript(media).duration_ms
        else:
            from ..media import probe

            end = probe(media).duration_ms
    found = check_cues(cues, rules, end)
    hard = [v for v in found if v.hard]
    within = share_within_target(cues, rules)
    if as_json:
        report = {
            "file": str(file),
            "profile": rules.name,
            "cues": len(cues),
            "hard": len(hard),
            "soft": len(found) - len(hard),
            "within_target_cps": round(within, 4),
            "violations": [v.__dict__ for v in found],
        }
        click.echo(json.dumps(report, indent=2))
    else:
        for v in found:
            click.echo(v.describe())
        click.echo(
            f"{file}: {len(cues)} cues, {len(hard)} hard and {len(found) - len(hard)} soft "
            f"rule breaks; {within:.0%} within the {rules.target_cps:g} cps target ({rules.name})"
        )
    if hard:
        raise click.ClickException(f"{file}: {len(hard)} hard-rule violation(s) of {rules.name}")


@subs.command("reshape")
@click.argument("input_file", metavar="INPUT", type=click.Path(path_type=Path))
@SUBS_OUTPUT
@PROFILE_OPTION
@LABELS_OPTION
def subs_reshape(
    input_file: Path, output: Path | None, profile: str | None, speaker_labels: str
) -> None:
    """Re-shape a transcript (JSON with word timings) or subtitles (SRT/VTT) to a profile.

    Without word timings (SRT/VTT input), each cue's time is spread over its words by
    character count.

    Example: clipkit subs reshape talk.srt -o talk.fixed.srt
    """
    from ..formats import read_transcript, render
    from ..profiles import load_profile
    from ..subtitles import shape_words

    transcript = read_transcript(input_file)
    cues = shape_words(transcript.words, load_profile(profile), speaker_labels)
    _emit(render(output or Path("out.srt"), cues), output, len(cues))


@subs.command("convert")
@click.argument("input_file", metavar="INPUT", type=click.Path(path_type=Path))
@click.argument("output", type=click.Path(path_type=Path))
@LABELS_OPTION
@click.option(
    "--zoom-speakers/--no-zoom-speakers",
    default=None,
    help="Read `Name: text` cues as speakers (default: detect Zoom transcripts).",
)
@click.option(
    "--style",
    "style_name",
    metavar="NAME|FILE.toml",
    help="ASS output in a burn-in style (`shorts`: the word being said highlighted, from a "
    "JSON transcript's word timings).",
)
@click.option(
    "--size",
    metavar="WxH",
    default="1920x1080",
    show_default=True,
    help="The frame the ASS output is laid out for (1080x1920 for Shorts).",
)
def subs_convert(
    input_file: Path,
    output: Path,
    speaker_labels: str,
    zoom_speakers: bool | None,
    style_name: str | None,
    size: str,
) -> None:
    """Convert between SRT, WebVTT (Zoom transcripts too), ASS, plain text and JSON, by extension.

    Cues are kept as they are (use `subs reshape` to re-shape them); a Zoom transcript's speaker
    names are kept in JSON and, with --speaker-labels, in the subtitles.

    Example: clipkit subs convert talk.json talk.ass --style shorts --size 1080x1920
    """
    width, height = _frame_size(size)
    if style_name and output.suffix.lower() != ".ass":
        raise click.UsageError("--style shapes ASS output only (name the output FILE.ass)")
    from ..formats import read_transcript, render
    from ..subtitles import label_cues
    from ..transcript import Transcript

    transcript: Transcript = read_transcript(input_file, zoom_speakers)
    if input_file.suffix.lower() == ".json":
        from ..profiles import load_profile
        from ..subtitles import shape_words

        cues = shape_words(transcript.words, load_profile(None), speaker_labels)
    else:
        from ..formats import read_cues

        cues = label_cues(read_cues(input_file, zoom_speakers), speaker_labels)
    if style_name:
        from ..formats import render_styled_ass

        text = render_styled_ass(cues, transcript, style_name, width, height)
    else:
        text = render(output, cues, transcript)
    _emit(text, output, len(cues))


def _frame_size(text: str) -> tuple[int, int]:
    import re

    m = re.fullmatch(r"\s*(\d{2,5})\s*[xX]\s*(\d{2,5})\s*", text)
    if not m or not (16 <= int(m.group(1)) <= 8192 and 16 <= int(m.group(2)) <= 8192):
        raise click.UsageError(f"--size {text!r} is not WIDTHxHEIGHT, e.g. 1080x1920")
    return int(m.group(1)), int(m.group(2))


def _offset_ms(text: str) -> int:
    from ..timecode import parse_timecode

    text = text.strip()
    sign = -1 if text.startswith("-") else 1
    return sign * parse_timecode(text.lstrip("+-"))


@subs.command("shift", context_settings={"ignore_unknown_options": True})  # OFFSET may be -2.5
@click.argument("input_file", metavar="INPUT", type=click.Path(path_type=Path))
@click.argument("offset")
@SUBS_OUTPUT
def subs_shift(input_file: Path, offset: str, output: Path | None) -> None:
    """Move every cue by OFFSET (e.g. 2.5, -1:02.3); cues pushed before 0 are clipped or dropped.

    Example: clipkit subs shift talk.srt -1.5 -o talk.srt
    """
    from ..formats import read_cues, render
    from ..subtitles import shift_cues

    cues = shift_cues(read_cues(input_file), _offset_ms(offset))
    _emit(render(output or Path("out.srt"), cues), output, len(cues))


@subs.command("slice")
@click.argument("input_file", metavar="INPUT", type=click.Path(path_type=Path))
@click.argument("start")
@click.argument("end")
@SUBS_OUTPUT
def subs_slice(input_file: Path, start: str, end: str, output: Path | None) -> None:
    """The cues between START and END, re-timed to start at 0; cues at the edges are clipped.

    Example: clipkit subs slice talk.srt 5:00 6:00 -o part.srt
    """
    from ..errors import InputError
    from ..formats import read_cues, render
    from ..subtitles import slice_cues
    from ..timecode import parse_timecode

    start_ms, end_ms = parse_timecode(start), parse_timecode(end)
    if end_ms <= start_ms:
        raise InputError(f"slice end {end} is not after its start {start}")
    cues = slice_cues(read_cues(input_file), start_ms, end_ms)
    _emit(render(output or Path("out.srt"), cues), output, len(cues))


# --- cut -----------------------------------------------------------------------------------
