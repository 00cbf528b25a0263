"""clipkit: transcripts, subtitles, extracts and playlists from community recordings."""

__version__ = "0.1.0"
