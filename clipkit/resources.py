"""Files shipped with clipkit: the bundled font and the TOML configs (profiles, styles)."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def configs_dir() -> Path:
    """`clipkit/configs` in an installed wheel; the repository's `configs/` in a checkout."""
    installed = _PACKAGE / "configs"
    return installed if installed.is_dir() else _PACKAGE.parent / "configs"


def fonts_dir() -> Path:
    return _PACKAGE / "assets" / "fonts"


BUNDLED_FONT_FAMILY = "DejaVu Sans"


def clipkit_home() -> Path:
    """Per-user state (model cache, tokens): `$CLIPKIT_HOME`, else the platform's app dir."""
    import os

    env = os.environ.get("CLIPKIT_HOME")
    if env:
        return Path(env).expanduser()
    import click

    return Path(click.get_app_dir("clipkit"))
