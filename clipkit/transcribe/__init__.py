"""The transcribe pipeline: validate inputs, resolve the model once, transcribe files on parallel
workers (one model per worker), and write SRT/VTT/TXT/JSON atomically beside each other.

Rooms, each importing only those before it: `options` (what is asked and made), `windows`
(audio in pause-cut windows), `one` (one recording, every output), `jobs` (where jobs run:
here, worker processes, a cluster), `batch` (checks, freshness, the run)."""

from .batch import is_fresh, transcribe_files, validate_recordings
from .jobs import TranscribeJob, parallel_files, transcribe_task
from .one import transcribe_one, write_outputs
from .options import FileResult, TranscribeOptions, output_paths, parse_formats, translation_paths
from .windows import SAMPLE_RATE, WINDOW_S, audio_windows

__all__ = [
    "SAMPLE_RATE", "WINDOW_S", "FileResult", "TranscribeJob", "TranscribeOptions",
    "audio_windows", "is_fresh", "output_paths", "parallel_files", "parse_formats",
    "transcribe_files", "transcribe_one", "transcribe_task", "translation_paths",
    "validate_recordings", "write_outputs",
]  # fmt: skip
