"""Every setting declared once (clipkit.settings): the command-line options, clipkit.toml's
validation, the documented configs/clipkit.toml and the options dataclasses all agree with it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from clipkit import settings as settings_module
from clipkit.cli import cli
from clipkit.cut import CutOptions
from clipkit.errors import ConfigError
from clipkit.project import load_project
from clipkit.settings import SECTIONS, SETTINGS, Setting, render_config, section_settings
from clipkit.transcribe import TranscribeOptions

from .conftest import ROOT, invoke


def command(name: str) -> click.Command:
    found = cli.commands[name]
    assert isinstance(found, click.Command)
    return found


def test_each_setting_is_declared_once() -> None:
    keys = [(s.section, s.key) for s in SETTINGS]
    assert len(keys) == len(set(keys))
    assert {s.section for s in SETTINGS} == set(SECTIONS)


@pytest.mark.parametrize(
    "s", [s for s in SETTINGS if s.option], ids=lambda s: f"{s.section}.{s.key}"
)
def test_the_option_is_made_from_the_setting(s: Setting) -> None:
    params = {p.name: p for p in command(s.section).params}
    option = params[s.key]
    assert isinstance(option, click.Option)
    assert s.flag in option.opts
    assert option.help == s.help
    assert option.default == (tuple(s.default) if s.kind == "terms" else s.default)
    if s.kind == "choice":
        assert tuple(option.type.choices) == s.choices  # type: ignore[attr-defined]
    if s.kind in ("number", "count"):
        assert (option.type.min, option.type.max) == (s.low, s.high)  # type: ignore[attr-defined]

    # and --help shows it, with its default
    def flat(text: str) -> str:  # help as one line, words hyphenated at a wrap joined again
        return " ".join(text.split()).replace("- ", "-")

    shown = flat(invoke(s.section, "--help").output)
    assert s.flag in shown and flat(s.help) in shown
    if s.kind == "bool":
        assert f"[default: {s.flag[2:] if s.default else 'no-' + s.flag[2:]}]" in shown
    elif s.default not in (None, ()):
        assert re.search(r"\[default: [^]]*" + re.escape(str(s.default)), shown)


def test_file_only_settings_have_no_option() -> None:
    for s in SETTINGS:
        if not s.option and s.section in cli.commands:
            assert s.key not in {p.name for p in command(s.section).params}, s


def test_the_documented_config_is_the_table() -> None:
    """configs/clipkit.toml is rendered from the table (python -c 'from clipkit.settings
    import render_config; print(render_config(), end="")' > configs/clipkit.toml)."""
    assert (ROOT / "configs" / "clipkit.toml").read_text(encoding="utf-8") == render_config()


def test_every_setting_in_the_documented_config_is_valid(tmp_path: Path) -> None:
    import tomllib

    text = render_config()
    for s in SETTINGS:  # the commented-out examples too
        text = text.replace(f"# {s.key} = ", f"{s.key} = ")
    data = tomllib.loads(text)
    for s in SETTINGS:
        assert s.key in data[s.section], s
    (tmp_path / "clipkit.toml").write_text(text, encoding="utf-8")
    project = load_project(tmp_path)
    assert project.settings["cut"]["loudness"] == -14.0


WRONG: dict[str, tuple[Any, str]] = {
    "text": (5, "must be a string"),
    "bool": ("yes", "must be true or false"),
    "number": (-40, "must be a number"),
    "count": (0, "must be a whole number"),
    "seconds": ("soon", ""),
    "choice": ("nope", "must be one of"),
    "terms": ("Leeds", "must be a list of words"),
    "colour": ("blue", "must be a colour"),
    "engine": ("nope-engine", "nope-engine"),
    "profile": ("nope-profile", "nope-profile"),
    "style": ("nope-style", "nope-style"),
}


def test_every_kind_has_a_wrong_value_here() -> None:
    assert set(WRONG) == set(settings_module.CHECKS)


@pytest.mark.parametrize("s", SETTINGS, ids=lambda s: f"{s.section}.{s.key}")
def test_clipkit_toml_refuses_a_wrong_value(s: Setting, tmp_path: Path) -> None:
    import json

    value, message = WRONG[s.kind]
    (tmp_path / "clipkit.toml").write_text(
        f"[{s.section}]\n{s.key} = {json.dumps(value)}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        load_project(tmp_path)
    assert f"[{s.section}] {s.key} = {value!r}: " in str(caught.value)
    assert message in str(caught.value)


def test_unknown_keys_and_sections_are_named(tmp_path: Path) -> None:
    (tmp_path / "clipkit.toml").write_text(
        '[cut]\nloudnes = -16\n[cutting]\nfade = "1"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        load_project(tmp_path)
    assert "unknown key(s) in [cut]: loudnes" in str(caught.value)
    assert "unknown section [cutting]" in str(caught.value)


def test_the_options_dataclasses_default_to_the_table(tmp_path: Path) -> None:
    def table(section: str) -> dict[str, Any]:
        return {s.key: s.default for s in section_settings(section) if s.option}

    assert TranscribeOptions.from_settings(table("transcribe")) == TranscribeOptions()
    assert TranscribeOptions() == TranscribeOptions.from_settings({})
    assert CutOptions.from_settings(table("cut"), tmp_path) == CutOptions(out_dir=tmp_path)


def test_a_new_setting_is_one_row(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The worked example of README "Design": one row in the table, and clipkit.toml checks
    it, documents it and hands it to the command (which takes it with setting_option)."""
    toy = Setting("cut", "grain", "number", 0.0, "Film grain, 0 to 1.", low=0, high=1)
    monkeypatch.setattr(settings_module, "SETTINGS", (*SETTINGS, toy))
    assert "# Film grain, 0 to 1.\ngrain = 0.0\n" in render_config()
    (tmp_path / "clipkit.toml").write_text("[cut]\ngrain = 0.5\n", encoding="utf-8")
    assert load_project(tmp_path).default_map()["cut"] == {"grain": 0.5}
    (tmp_path / "clipkit.toml").write_text("[cut]\ngrain = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[cut\] grain = 3: must be a number from 0 to 1"):
        load_project(tmp_path)
    from clipkit.cli.base import setting_option

    @click.command()
    @setting_option("cut", "grain")
    def toy_cut(grain: float) -> None:
        click.echo(f"grain {grain}")

    from click.testing import CliRunner

    assert CliRunner().invoke(toy_cut, []).output == "grain 0.0\n"
    refused = CliRunner().invoke(toy_cut, ["--grain", "2"])
    assert refused.exit_code == 2 and "2.0 is not in the range 0<=x<=1" in refused.output


def test_a_new_output_format_is_one_entry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The worked example of README Design: a toy LRC (karaoke lyrics) writer added as one
    entry of formats.FORMATS is what `subs convert` writes; without it, one clear error."""
    from clipkit import formats

    srt_file = tmp_path / "talk.srt"
    srt_file.write_text("1\n00:00:01,000 --> 00:00:02,500\nHello there\n\n"
                        "2\n00:01:03,250 --> 00:01:05,000\nSecond line\n", encoding="utf-8")  # fmt: skip
    refused = CliRunner().invoke(cli, ["subs", "convert", str(srt_file), str(tmp_path / "t.lrc")])
    assert refused.exit_code == 1
    assert refused.output.splitlines()[-1].startswith(
        f"Error: {tmp_path / 't.lrc'}: unsupported output format '.lrc'"
    )

    def lrc(cues: Any, doc: Any) -> str:
        return "".join(
            f"[{c.start // 60000:02d}:{c.start % 60000 / 1000:05.2f}]{c.text}\n" for c in cues
        )

    monkeypatch.setitem(
        formats.FORMATS, ".lrc", formats.Format(".lrc", "LRC lyrics", None, lrc, False)
    )
    made = CliRunner().invoke(cli, ["subs", "convert", str(srt_file), str(tmp_path / "t.lrc")])
    assert made.exit_code == 0, made.output
    assert (tmp_path / "t.lrc").read_text(encoding="utf-8") == (
        "[00:01.00]Hello there\n[01:03.25]Second line\n"
    )
