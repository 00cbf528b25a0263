"""The story archive: a static site (plain HTML, CSS and a little JavaScript) that works from
file:// and any static host, in rooms: `sources` (transcripts, recordings, extract sidecars,
paths kept inside the project), `files` (what a build writes, media, posters, the
self-contained check), `theme` (templates and escaping), `fragments` (pieces of pages),
`assets` (the script) and `site` (the pages). All text is escaped: a transcript saying
`<script>` shows it as text.
"""

from .files import SiteResult, check_self_contained
from .site import build_site
from .sources import load_transcripts, project_file, recording_paths
from .theme import Theme

__all__ = [
    "SiteResult",
    "Theme",
    "build_site",
    "check_self_contained",
    "load_transcripts",
    "project_file",
    "recording_paths",
]
