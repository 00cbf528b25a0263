"""The transcript: segments with word timings, as engines produce and clipkit's JSON stores them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import SubtitleError
from .subtitles import Word

JSON_FORMAT = "clipkit-transcript/1"


@dataclass(frozen=True)
class Segment:
    start: int
    end: int
    text: str
    words: tuple[Word, ...] = ()
    speaker: str | None = None
    no_speech_prob: float = 0.0
    avg_logprob: float = 0.0


@dataclass(frozen=True)
class Transcript:
    segments: tuple[Segment, ...]
    language: str
    duration_ms: int
    engine: str = ""
    model: str = ""
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict, compare=False)
    source_key: str = ""  # the recording's content key (sourcekey.py): what freshness compares

    @property
    def words(self) -> list[Word]:
        return [w for seg in self.segments for w in seg.words]

    @property
    def text(self) -> str:
        return " ".join(seg.text.strip() for seg in self.segments if seg.text.strip())


def _sec(ms: int) -> float:
    return round(ms / 1000.0, 3)


def _ms(value: Any, where: str) -> int:
    if not isinstance(value, int | float) or value < 0:
        raise SubtitleError(f"{where}: expected a non-negative time in seconds, got {value!r}")
    return int(round(value * 1000))


def to_json_dict(t: Transcript, version: str) -> dict[str, Any]:
    return {
        "format": JSON_FORMAT,
        "clipkit_version": version,
        "engine": t.engine,
        "model": t.model,
        "language": t.language,
        "duration": _sec(t.duration_ms),
        "source": t.source,
        **({"source_key": t.source_key} if t.source_key else {}),
        **({"meta": t.meta} if t.meta else {}),
        "segments": [
            {
                "start": _sec(s.start),
                "end": _sec(s.end),
                "text": s.text.strip(),
                **({"speaker": s.speaker} if s.speaker else {}),
                "no_speech_prob": round(s.no_speech_prob, 4),
                "avg_logprob": round(s.avg_logprob, 4),
                "words": [
                    {
                        "start": _sec(w.start),
                        "end": _sec(w.end),
                        "word": w.text,
                        "probability": round(w.probability, 4),
                        **({"speaker": w.speaker} if w.speaker else {}),
                    }
                    for w in s.words
                ],
            }
            for s in t.segments
        ],
    }


def _number(value: Any, where: str) -> float:
    if not isinstance(value, int | float):
        raise SubtitleError(f"{where}: expected a number, got {value!r}")
    return float(value)


def from_json_dict(data: Any, source: str = "<json>") -> Transcript:
    if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
        raise SubtitleError(f"{source}: not a clipkit transcript (no 'segments' list)")
    segments = []
    for i, seg in enumerate(data["segments"]):
        where = f"{source}: segment {i + 1}"
        if not isinstance(seg, dict):
            raise SubtitleError(f"{where}: not an object")
        words = []
        for w in seg.get("words") or []:
            probability = w.get("probability", 1.0) if isinstance(w, dict) else None
            if (
                not isinstance(w, dict)
                or not isinstance(w.get("word"), str)
                or not isinstance(probability, int | float)
            ):
                raise SubtitleError(f"{where}: malformed word entry")
            words.append(
                Word(
                    start=_ms(w.get("start"), where),
                    end=_ms(w.get("end"), where),
                    text=w["word"].strip(),
                    probability=float(probability),
                    speaker=w.get("speaker") or seg.get("speaker"),
                )
            )
        segments.append(
            Segment(
                start=_ms(seg.get("start"), where),
                end=_ms(seg.get("end"), where),
                text=str(seg.get("text", "")),
                words=tuple(words),
                speaker=seg.get("speaker"),
                no_speech_prob=_number(seg.get("no_speech_prob", 0.0), where),
                avg_logprob=_number(seg.get("avg_logprob", 0.0), where),
            )
        )
    return Transcript(
        segments=tuple(segments),
        language=str(data.get("language", "")),
        duration_ms=_ms(data.get("duration", 0), source),
        engine=str(data.get("engine", "")),
        model=str(data.get("model", "")),
        source=str(data.get("source", "")),
        meta=data.get("meta") or {},
        source_key=str(data.get("source_key") or ""),
    )


PARAGRAPH_PAUSE_MS = 1500


def render_text(t: Transcript) -> str:
    """A readable transcript: a paragraph per speaker turn or after a pause of 1.5 s or more,
    each opening with its time (`[12:03] `) and, where known, the speaker's name."""
    # words where the transcript has them (pauses inside Whisper's segments count), else cues
    units = [(w.start, w.end, w.text, w.speaker) for w in t.words] or [
        (seg.start, seg.end, seg.text.strip(), seg.speaker) for seg in t.segments
    ]
    paragraphs: list[str] = []
    current: list[str] = []
    start, end, speaker = 0, 0, None
    for u_start, u_end, text, who in units:
        if not text:
            continue
        if current and (who != speaker or u_start - end >= PARAGRAPH_PAUSE_MS):
            paragraphs.append(_para(start, speaker, current))
            current = []
        if not current:
            start = u_start
        speaker, end = who, u_end
        current.append(text)
    if current:
        paragraphs.append(_para(start, speaker, current))
    return "\n\n".join(paragraphs) + ("\n" if paragraphs else "")


def _para(start: int, speaker: str | None, parts: list[str]) -> str:
    from .timecode import format_clock

    stamp = format_clock(start).rsplit(".", 1)[0]  # whole seconds: [12:03]
    body = " ".join(parts)
    return f"[{stamp}] {speaker}: {body}" if speaker else f"[{stamp}] {body}"


def transcript_from_cues(
    cues: list, source: str = "", language: str = ""
) -> Transcript:  # list[Cue]
    """A transcript from subtitle cues: one segment per cue, word times spread by characters."""
    from .subtitles import words_from_cues

    segments = tuple(
        Segment(
            start=c.start,
            end=c.end,
            text=" ".join(c.lines),
            words=tuple(words_from_cues([c])),
            speaker=c.speaker,
        )
        for c in cues
    )
    duration = max((c.end for c in cues), default=0)
    return Transcript(segments=segments, language=language, duration_ms=duration, source=source)
