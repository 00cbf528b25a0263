"""What is published: extracts read from their sidecars, with the metadata a viewer sees
cleaned to the platform's limits, and the consent and sign-off filters."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import InputError, PlanError
from ..ffmpeg import sha256_file
from ..formats import has_cues
from ..sidecar import TITLE_MAX, ExtractSidecar, NotASidecar, read_sidecar

# Every video clipkit uploads carries this tag with its file's content hash: the channel itself
# then says what is already there, so a lost state file or a second laptop uploads nothing twice.
MARKER_PREFIX = "clipkit-"
MARKER_HEX = 16
DESCRIPTION_MAX_BYTES = 5000
TAGS_MAX = 500


def marker_of(sha256: str) -> str:
    return MARKER_PREFIX + sha256[:MARKER_HEX]


@dataclass(frozen=True)
class VideoMeta:
    """A video's metadata, the one spelling of it: what the upload sends, what an update
    sends, what the channel lists and what the state records as published."""

    title: str
    description: str
    tags: tuple[str, ...]
    privacy: str
    language: str = ""
    category: str = ""

    VIEWER = ("title", "description", "tags", "privacy")  # kept in step on every publish

    def changes_from(self, published: VideoMeta) -> list[str]:
        """Which of the fields a viewer sees differ from `published`."""
        return [k for k in self.VIEWER if getattr(self, k) != getattr(published, k)]

    def with_marker(self, sha256: str) -> VideoMeta:
        return replace(self, tags=(*self.tags, marker_of(sha256)))

    def without_markers(self) -> VideoMeta:
        return replace(self, tags=tuple(t for t in self.tags if not t.startswith(MARKER_PREFIX)))

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "description": self.description,
                "tags": list(self.tags), "privacy": self.privacy}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VideoMeta:
        return cls(
            title=str(data.get("title") or ""),
            description=str(data.get("description") or ""),
            tags=tuple(str(t) for t in data.get("tags") or ()),
            privacy=str(data.get("privacy") or ""),
        )


@dataclass(frozen=True)
class Item:
    sidecar: Path
    video: Path
    srt: Path | None
    sha256: str
    slug: str
    title: str
    description: str
    tags: tuple[str, ...]
    language: str
    fixups: tuple[str, ...]
    order: tuple[str, int, str]
    recording: str = ""  # the file name of the recording it was cut from
    moments: tuple[tuple[str, str, str], ...] = ()  # a film's: (slug, SHA-256, recording)
    tracks: tuple[tuple[str, Path], ...] = ()  # (language, SRT): translations, a track each

    @property
    def size(self) -> int:
        return self.video.stat().st_size

    def meta(self, privacy: str, category: str = "") -> VideoMeta:
        """What a viewer sees besides the video: kept in step with the platform on every publish."""
        return VideoMeta(self.title, self.description, self.tags, privacy, self.language, category)


# --- sidecars ------------------------------------------------------------------------------


def clean_metadata(
    sidecar: ExtractSidecar, where: str
) -> tuple[str, str, tuple[str, ...], list[str]]:
    """YouTube's limits: title <= 100 characters without < or >, description <= 5000 bytes
    without < or >, tags <= 500 characters in all. Fix-ups are returned to be reported."""
    fixups: list[str] = []
    title = " ".join(sidecar.title.split())
    if not title:
        raise InputError(f"{where}: no title")
    if "<" in title or ">" in title:
        raise InputError(f"{where}: the title contains < or >, which YouTube does not accept")
    if len(title) > TITLE_MAX:
        title = title[: TITLE_MAX - 1].rstrip() + "…"
        fixups.append(f"title shortened to {TITLE_MAX} characters")
    description = sidecar.description
    if "<" in description or ">" in description:
        description = description.replace("<", "‹").replace(">", "›")
        fixups.append("< and > in the description replaced by ‹ and ›")
    if len(description.encode("utf-8")) > DESCRIPTION_MAX_BYTES:
        cut = description.encode("utf-8")[: DESCRIPTION_MAX_BYTES - 3].decode("utf-8", "ignore")
        description = cut.rstrip() + "…"
        fixups.append(f"description shortened to {DESCRIPTION_MAX_BYTES} bytes")
    tags, dropped = _tags_within_limit(sidecar.tags)
    if dropped:
        fixups.append(dropped)
    return title, description, tags, fixups


def _tags_within_limit(raw: Sequence[str]) -> tuple[tuple[str, ...], str]:
    """The tags that fit YouTube's 500 characters (quotes and commas count) beside clipkit's
    marker, and a note of those dropped."""
    tags: list[str] = []
    total = len(marker_of("0" * 64)) + 1  # the marker tag clipkit adds
    for tag in filter(None, (t.replace("<", "").replace(">", "").strip() for t in raw)):
        cost = len(tag) + (2 if " " in tag else 0) + (1 if tags else 0)
        if total + cost > TAGS_MAX:
            after = tags[-1] if tags else "the first"
            return tuple(tags), f"tags after {after!r} dropped ({TAGS_MAX}-character limit)"
        tags.append(tag)
        total += cost
    return tuple(tags), ""


def _sidecar_paths(paths: Sequence[Path]) -> list[Path]:
    sidecars: list[Path] = []
    for p in paths:
        if p.is_dir():
            sidecars += sorted(f for f in p.glob("*.json") if not f.name.startswith("."))
        elif p.is_file():
            sidecars.append(p)
        else:
            raise InputError(f"{p}: no such file or folder")
    return sidecars


def _item_of(path: Path, sidecar: ExtractSidecar, language: str | None) -> Item:
    """The extract a sidecar describes; InputError names what is wrong with it."""
    title, description, tags, fixups = clean_metadata(sidecar, str(path))
    video = path.parent / sidecar.video
    if not sidecar.video or not video.is_file():
        raise InputError(f"{path}: video {video.name if sidecar.video else '(none)'} is missing")
    srt = path.parent / sidecar.srt if sidecar.srt else None
    own = language or sidecar.language or "en"
    return Item(
        sidecar=path,
        video=video,
        srt=srt if srt and has_cues(srt) else None,  # no speech in the extract: no caption track
        sha256=sha256_file(video),
        slug=sidecar.slug,
        title=title,
        description=description,
        tags=tags,
        language=own,
        fixups=tuple(fixups),
        order=sidecar.plan_order(path.name),
        recording=Path(sidecar.source).name,
        moments=sidecar.moments,
        tracks=tuple(
            (t.language, path.parent / t.srt)
            for t in sidecar.tracks
            if t.language != own and has_cues(path.parent / t.srt)
        ),
    )


def collect(paths: Sequence[Path], language: str | None = None) -> list[Item]:
    """The extracts to publish, from folders of sidecars or sidecar files; all problems at once."""
    items, problems = [], []
    for path in _sidecar_paths(paths):
        try:
            items.append(_item_of(path, read_sidecar(path), language))
        except NotASidecar as exc:
            if len(paths) == 1 and paths[0].is_dir():
                continue  # other JSON in the folder (transcripts) is not ours to publish
            problems.append(str(exc))
        except InputError as exc:
            problems.append(str(exc))
    if problems:
        raise PlanError(problems)
    if not items:
        raise InputError("no extracts to publish (expected clipkit extract sidecars, NAME.json)")
    return sorted(items, key=lambda i: i.order)


def with_signoff(items: list[Item]) -> tuple[list[Item], list[str]]:
    """The items their storytellers approved (for this very video), and one line for each
    left out."""
    from ..signoff import left_out, load_signoffs, state_of

    records: dict[Path, Any] = {}

    def signoffs(folder: Path) -> Any:
        if folder not in records:
            records[folder] = load_signoffs(folder)
        return records[folder]

    states = {}
    for item in items:
        folder = item.sidecar.parent
        if item.moments:  # a film: each of its moments approved, as they were when it was made
            from ..project import find_project

            root = find_project(folder)
            record = signoffs((root / "extracts") if root else folder)
            moment_states = {state_of(record, m[0], m[1]) for m in item.moments}
            states[item.slug] = "approved" if moment_states == {"approved"} else "pending"
        else:
            states[item.slug] = state_of(signoffs(folder), item.slug, item.sha256)
    return [i for i in items if states[i.slug] == "approved"], left_out(states)


def with_consent(items: list[Item], root: Path) -> tuple[list[Item], list[str]]:
    """The items whose story has consent given in the project's stories.toml, and one line
    for each recording left out."""
    from ..stories import consent_of, held_back, load_stories

    stories = load_stories(root)

    def recordings_of(item: Item) -> list[str]:  # a film: every story it shows
        return [m[2] for m in item.moments] if item.moments else [item.recording]

    recordings = sorted({r for i in items for r in recordings_of(i)})
    kept = [i for i in items if all(consent_of(stories, r) == "given" for r in recordings_of(i))]
    return kept, held_back(stories, recordings)


def choose_items(
    paths: Sequence[Path], language: str | None, project: Any, warn: Callable[[str], None]
) -> list[Item]:
    """The extracts to publish: those named (default: the project's), and in a project only
    those whose story has consent given and, where the project asks for it, that their
    storyteller approved; `warn` hears one line for each left out."""
    if not paths:
        if project is None:
            raise InputError("no extracts given (a folder of extracts or NAME.json sidecars)")
        paths = (project.extracts,)
    items = collect(list(paths), language)
    if project is None:
        return items
    items, held = with_consent(items, project.root)  # lived-experience stories need consent
    for line in held:
        warn(line)
    if not items:
        raise InputError('nothing to publish: no extract\'s story has consent = "given"')
    from ..signoff import required

    if required(project.settings):
        items, unsigned = with_signoff(items)
        for line in unsigned:
            warn(line)
        if not items:
            raise InputError("nothing to publish: no extract is approved by its storyteller")
    return items
