"""What a publish run is asked to do, and the transfer settings any platform's calls run under."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class UploadSettings:
    chunk_size: int = 4 * 1024 * 1024
    retries: int = 8
    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 64.0
    timeout_seconds: float = 60.0


@dataclass(frozen=True)
class PublishOptions:
    playlist: str
    privacy: str = "private"
    captions: bool = True
    thumbnail_at: float | None = None  # seconds into each extract; None: the platform picks
    replace: bool = False
    quota_budget: int | None = None
    language: str | None = None
    category: str = "22"  # YouTube's People & Blogs
    settings: UploadSettings = field(default_factory=UploadSettings)
    costs: dict[str, int] = field(default_factory=dict)
    prune: bool = False  # remove playlist items of extracts no longer in the plan
