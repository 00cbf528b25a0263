"""The site's files: what a build wrote (everything else in clipkit's folders goes), media
copied or linked under unique names, poster frames, and the check that it is self-contained."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import OutputError
from ..fsutil import atomic_write_text
from ..plan import slugify


@dataclass
class SiteResult:
    index: Path
    pages: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    media: dict[str, Path] = field(default_factory=dict)  # site/media/NAME -> the file it is
    written: set[Path] = field(default_factory=set)  # every file this build made or kept


# clipkit owns these folders of a site: whatever a build did not make in them is removed (a
# story whose consent was withdrawn leaves nothing behind: page, media, posters, captions)
OWNED_FOLDERS = ("stories", "media", "posters", "captions", "assets")


def writer(result: SiteResult) -> Any:
    def write(path: Path, text: str) -> None:
        atomic_write_text(path, text)
        result.written.add(path)

    return write


def remove_unmade(out: Path, written: set[Path]) -> None:
    """Whatever this build did not make goes from the folders clipkit owns (and about.html): a
    story whose consent was withdrawn must leave nothing online from an earlier build."""
    for folder in OWNED_FOLDERS:
        place = out / folder
        if not place.is_dir():
            continue
        for entry in sorted(place.rglob("*"), reverse=True):
            if entry.is_dir() and not entry.is_symlink():
                with contextlib.suppress(OSError):
                    entry.rmdir()  # only when empty
            elif entry not in written:
                entry.unlink()
    about = out / "about.html"
    if about.exists() and about not in written:
        about.unlink()


def copy_atomic(source: Path, target: Path) -> None:
    """Hard-linked where the disk allows, else copied; under a temp name first, so a full disk
    never leaves a truncated file under the final name."""
    from ..fsutil import atomic_path

    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        tmp.unlink()
        try:
            os.link(source.resolve(), tmp)
        except OSError:  # another disk, or links not allowed: a copy
            shutil.copy2(source, tmp)


class Media:
    """The site's media/ folder: one unique name per file (a recording and an extract both
    called story.mp4 get story.mp4 and story-2.mp4), copied in, linked to where it lies
    (`--link-media`), or left for `clipkit review` to serve from its table."""

    def __init__(self, out: Path, mode: str, result: SiteResult) -> None:
        self.out, self.mode, self.result = out, mode, result
        self.names: dict[Path, str] = {}
        self.taken: set[str] = set()

    def name(self, path: Path) -> str:
        key = path.resolve()
        if key not in self.names:
            name, n = path.name, 1
            while name.casefold() in self.taken:
                n += 1
                name = f"{path.stem}-{n}{path.suffix}"
            if n > 1:
                self.result.notes.append(
                    f"{path}: another file is already site/media/{path.name}; this one is "
                    f"media/{name}"
                )
            self.taken.add(name.casefold())
            self.names[key] = name
        return self.names[key]

    def src(self, path: Path, page_dir: Path) -> str:
        name = self.name(path)
        target = self.out / "media" / name
        if self.mode == "serve":
            self.result.media[name] = path.resolve()
        elif self.mode == "link":
            return os.path.relpath(path.resolve(), page_dir.resolve()).replace(os.sep, "/")
        else:
            same = target.is_file() and (
                (st := target.stat()).st_size == (src := path.stat()).st_size
                and st.st_mtime_ns == src.st_mtime_ns
            )
            if not same:
                copy_atomic(path, target)
            self.result.written.add(target)
        return os.path.relpath(target, page_dir).replace(os.sep, "/")


def make_poster(
    video: Path, media_name: str, seconds: float, site: Path, result: SiteResult
) -> Path:
    """A poster frame for a video, made once into site/posters/ under its unique media name."""
    from ..ffmpeg import grab_frame

    posters = site / "posters"
    posters.mkdir(parents=True, exist_ok=True)
    target = posters / f"{slugify(media_name)}.jpg"
    if not target.is_file() or target.stat().st_mtime < video.stat().st_mtime:
        from ..fsutil import atomic_path

        with atomic_path(target) as tmp:  # its name ends in .jpg: ffmpeg writes a JPEG
            grab_frame(video, seconds, tmp)
    result.written.add(target)
    return target


_LINK = re.compile(r'\b(?:src|href)="([^"#][^"]*)"')


def check_self_contained(site: Path) -> None:
    """Every page's links stay inside the site: uploaded alone, nothing 404s."""
    from urllib.parse import unquote

    root = site.resolve()
    for page in site.rglob("*.html"):
        for link in _LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"^[a-z][a-z0-9+.-]*:", link):
                continue  # http(s):, mailto:, data:
            target = (page.parent / unquote(link.split("#")[0])).resolve()
            if root not in (target, *target.parents):
                raise OutputError(
                    f"{page}: links to {unquote(link)} outside the site; build without "
                    "--link-media to put the media inside it"
                )


def href(rel: str) -> str:
    from urllib.parse import quote

    return quote(rel, safe="/.-_~")
