"""clipkit's command line: click wiring and printing only; the work happens in the library
modules. One module per command group; the group, shared options and printing in `base`."""

from . import cut, film, moments, project, publish, report, signoff, subs, transcribe  # noqa: F401 - they register
from .base import _short_outputs, cli, main

__all__ = ["_short_outputs", "cli", "main"]
