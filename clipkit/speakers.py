"""Who is speaking, where the recording knows: one track per participant (Zoom's "record a
separate audio file for each participant") or one microphone per person on the channels of a
stereo recorder. Each word goes to the track or channel carrying the most energy while it is
said, which holds up when every microphone hears everyone a little (bleed).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .errors import InputError
from .settings import SPEAKER_MODES
from .stories import Story
from .subtitles import Word
from .transcript import Transcript

FRAME_MS = 10
MODES = SPEAKER_MODES
CHANNELS_DIFFER_DB = 6.0  # median level difference between channels when people are apart
SILENT_DB = -60.0


def frame_levels(chunks: Any) -> Any:
    """RMS level (dBFS) per 10 ms frame of 16 kHz audio blocks ((channels, n) or (n,))."""
    import numpy as np

    hop = 16000 * FRAME_MS // 1000
    out = []
    rest = None
    for block in chunks:
        block = np.atleast_2d(block)
        if rest is not None:
            block = np.concatenate([rest, block], axis=1)
        count = block.shape[1] // hop
        frames = block[:, : count * hop].reshape(block.shape[0], count, hop)
        out.append(10 * np.log10(np.mean(frames * frames, axis=2) + 1e-12))
        rest = block[:, count * hop :]
    return np.concatenate(out, axis=1) if out else np.zeros((1, 0))


def participant_name(path: Path) -> str:
    """A name from a Zoom participant file (`audioAmiraKhan11234567.m4a` → "Amira Khan")."""
    stem = re.sub(r"^audio", "", path.stem)
    stem = re.sub(r"\d+$", "", stem) or path.stem
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", stem).replace("_", " ").strip()
    return spaced or path.stem


def participant_files(recording: Path, folder: Path | None = None) -> list[Path]:
    """Zoom's per-participant audio: `audio*.m4a` beside the recording, or every audio file of
    `folder`."""
    if folder is not None:
        if not folder.is_dir():
            raise InputError(f"speaker audio folder {folder} not found")
        files = sorted(
            p
            for p in folder.iterdir()
            if p.suffix.lower() in (".m4a", ".wav", ".mp3", ".aac", ".flac")
        )
    else:
        files = sorted(p for p in recording.parent.glob("audio*.m4a") if p != recording)
    if not files:
        where = folder or recording.parent
        raise InputError(
            f"no per-participant audio in {where} (Zoom: audio*.m4a; or pass --speaker-audio DIR)"
        )
    return files


@dataclass(frozen=True)
class Voices:
    """Per-speaker frame levels (dB, 10 ms), by name."""

    names: tuple[str, ...]
    levels: Any  # (speakers, frames)


def voices_from_files(files: Sequence[Path]) -> Voices:
    import numpy as np

    from .media import iter_audio

    levels = [frame_levels(iter_audio(f, block_seconds=60.0))[0] for f in files]
    for f, lv in zip(files, levels, strict=True):
        if len(lv) == 0 or float(np.percentile(lv, 98)) < SILENT_DB:
            raise InputError(f"{f.name}: this participant's audio is silent")
    frames = max(len(lv) for lv in levels)
    stacked = np.full((len(levels), frames), -120.0)
    for k, lv in enumerate(levels):
        stacked[k, : len(lv)] = lv
    return Voices(tuple(participant_name(f) for f in files), stacked)


def voices_from_channels(recording: Path, track: int = 0) -> Voices:
    from .media import iter_audio

    levels = frame_levels(iter_audio(recording, track=track, block_seconds=60.0, channels=True))
    if levels.shape[0] < 2:
        raise InputError(
            f"{recording.name} has one audio channel: --speakers channels needs a recording with "
            "one microphone per channel"
        )
    return Voices(tuple(f"Speaker {k + 1}" for k in range(levels.shape[0])), levels)


def channels_differ(voices: Voices) -> bool:
    """Whether the channels carry different people (a level difference while anyone speaks),
    not the same mix twice."""
    import numpy as np

    loud = voices.levels.max(axis=0)
    speech = loud > np.percentile(loud, 10) + 15
    if speech.sum() < 50:
        return False
    spread = voices.levels[:, speech].max(axis=0) - voices.levels[:, speech].min(axis=0)
    return float(np.median(spread)) >= CHANNELS_DIFFER_DB


def attribute(words: Sequence[Word], voices: Voices) -> list[Word]:
    """Each word to the voice with the most energy while it is said (ties: the speaker before)."""
    import numpy as np

    out: list[Word] = []
    frames = voices.levels.shape[1]
    for w in words:
        a = min(w.start // FRAME_MS, frames - 1)
        b = min(max(w.end // FRAME_MS, a + 1), frames)
        energy = 10 ** (voices.levels[:, a:b] / 10)
        scores = energy.mean(axis=1) if b > a else np.zeros(len(voices.names))
        best = int(np.argmax(scores))
        if out and scores[best] <= scores[voices.names.index(out[-1].speaker)] * 1.001:
            best = voices.names.index(out[-1].speaker)
        out.append(replace(w, speaker=voices.names[best]))
    return out


def with_speakers(transcript: Transcript, voices: Voices) -> Transcript:
    """Words and segments labelled by the voice with the most energy under each word."""
    return labelled(transcript, attribute(transcript.words, voices))


def with_turns(transcript: Transcript, turns: Sequence[Any]) -> Transcript:
    """Words and segments labelled by diarized turns (each word: the turn it overlaps most)."""
    from .diarize import speakers_of

    words = transcript.words
    named = speakers_of([(w.start, w.end) for w in words], turns)
    return labelled(transcript, [replace(w, speaker=s) for w, s in zip(words, named, strict=True)])


def labelled(transcript: Transcript, words: Sequence[Word]) -> Transcript:
    """The transcript with these words (same order, now named); a segment takes its words'
    majority speaker."""
    from collections import Counter

    named = iter(words)
    segments = []
    for seg in transcript.segments:
        seg_words = tuple(next(named) for _ in seg.words)
        who = (
            Counter(w.speaker for w in seg_words).most_common(1)[0][0] if seg_words else seg.speaker
        )
        segments.append(replace(seg, words=seg_words, speaker=who))
    return replace(transcript, segments=tuple(segments))


@dataclass(frozen=True)
class SpeakerSource:
    """Where speaker turns come from for one transcription (picklable for worker processes)."""

    mode: str = "off"  # off, auto, files, channels
    folder: str | None = None  # participant files (default: beside the recording)
    labels: str = "none"  # SRT marks: none, prefix, dash
    count: int | None = None  # how many people speak, when the editor knows (auto only)
    min_count: int | None = None  # at least / at most this many (auto only)
    max_count: int | None = None


def rename(transcript: Transcript, names: dict[str, str]) -> Transcript:
    """Speakers renamed (`SPEAKER_00` → `Amira`) in every word and segment."""
    segments = tuple(
        replace(
            seg,
            speaker=names.get(seg.speaker, seg.speaker) if seg.speaker else None,
            words=tuple(
                replace(w, speaker=names.get(w.speaker, w.speaker) if w.speaker else None)
                for w in seg.words
            ),
        )
        for seg in transcript.segments
    )
    return replace(transcript, segments=segments)


def rename_files(
    transcript_path: Path,
    names: dict[str, str],
    profile: str | None,
    labels: str,
    strict: bool = True,
) -> list[Path]:
    """Rename speakers in a transcript JSON and rewrite its sibling SRT, VTT and TXT.
    `strict`: a name the transcript does not have is an error (else it is passed over, as for
    stories.toml names already applied); nothing to rename writes nothing."""
    from .formats import read_transcript, render
    from .fsutil import replace_all
    from .profiles import load_profile
    from .subtitles import shape_words

    transcript = read_transcript(transcript_path)
    known = {w.speaker for w in transcript.words if w.speaker}
    unknown = sorted(set(names) - known)
    if unknown and strict:
        raise InputError(
            f"{transcript_path.name} has no speaker {', '.join(map(repr, unknown))} "
            f"(it has {', '.join(sorted(known)) or 'none'})"
        )
    names = {k: v for k, v in names.items() if k in known and k != v}
    if not names:
        return []
    renamed = rename(transcript, names)
    cues = shape_words(
        renamed.words, load_profile(profile), labels, media_end=renamed.duration_ms or None
    )
    written = [transcript_path] + [
        sibling
        for suffix in (".srt", ".vtt", ".txt")
        if (sibling := transcript_path.with_suffix(suffix)).is_file()
    ]
    # every text made first, then all renamed: a failure leaves the four agreeing as they were
    replace_all([(path, render(path, cues, renamed)) for path in written])
    return written


def names_from_stories(
    stories: Mapping[str, Story],
    recording: Path,
    transcript_path: Path,
    profile: str | None,
    labels: str,
) -> list[Path]:
    """Apply the `speakers` table of the recording's story in stories.toml (Speaker 1 → Amira)
    to its transcript; files rewritten (none when already named)."""
    story = stories.get(recording.name)
    if story is None or not story.speakers or not transcript_path.is_file():
        return []
    return rename_files(transcript_path, dict(story.speakers), profile, labels, strict=False)
