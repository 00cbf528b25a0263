"""One exception tree. Library code raises these; only the CLI turns them into `Error: ...`."""

from __future__ import annotations


class ClipkitError(Exception):
    """Base class for every error clipkit reports to the user."""


class BatchError(ClipkitError):
    """Several items of a batch failed; each problem names its item."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class InputError(ClipkitError):
    """A file or argument the user gave cannot be used."""


class MediaError(InputError):
    """A recording cannot be read (missing, not media, no audio stream...)."""


class OutputError(ClipkitError):
    """An output cannot be written."""


class FFmpegError(ClipkitError):
    """ffmpeg is missing or failed; the message carries the tail of its stderr."""


class EngineError(ClipkitError):
    """A speech-to-text engine is unknown, not installed, or failed."""


class ModelNotFoundError(EngineError):
    """No local model matches the requested name or path."""


class SubtitleError(InputError):
    """A subtitle or transcript file is malformed."""


class ConfigError(InputError):
    """A profile, style or config file is malformed or unknown."""


class PlanError(BatchError, InputError):
    """One or more problems in a plan, each naming its file and row."""


class AuthError(ClipkitError):
    """Not logged in, or the publishing platform refused the saved login."""


class QuotaError(ClipkitError):
    """The platform's daily quota (or upload limit) is used up."""


class PlatformError(ClipkitError):
    """The publishing platform refused a request for a reason retrying will not fix."""


class YouTubeError(PlatformError):
    """YouTube refused a request for a reason retrying will not fix."""


class BudgetReached(ClipkitError):
    """Publishing stopped before a call that would exceed the quota budget."""


class ClusterError(ClipkitError):
    """The Dask cluster cannot take the work (unreachable, versions, resources, paths)."""
