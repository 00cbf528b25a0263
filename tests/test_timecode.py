import pytest

from clipkit.errors import InputError
from clipkit.subtitle_text import parse_srt, render_srt
from clipkit.subtitles import Cue
from clipkit.timecode import format_clock, format_vtt_time, parse_timecode


@pytest.mark.parametrize(
    ("text", "fps", "ms"),
    [
        ("0", 25, 0),
        ("7", 25, 7000),
        ("7.25", 25, 7250),
        ("5:13.4", 25, 313_400),
        ("05:13", 25, 313_000),
        ("1:02:03", 25, 3_723_000),
        ("01:02:03.004", 25, 3_723_004),
        ("01:02:03,5", 25, 3_723_500),
        ("00:00:01:12", 25, 1480),
        ("00:00:01:15", 30, 1500),
        ("0.0005", 25, 1),
        (" 12.5 ", 25, 12_500),
    ],
)
def test_parse_timecode(text: str, fps: float, ms: int) -> None:
    assert parse_timecode(text, fps) == ms


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-3", "negative time '-3'"),
        ("abc", "invalid timecode 'abc' (use SS, MM:SS, HH:MM:SS.mmm or HH:MM:SS:FF)"),
        ("1:75", "invalid timecode '1:75'"),
        ("1:60:00", "invalid timecode '1:60:00'"),
        ("00:00:01:25", "invalid timecode '00:00:01:25': frame 25 at 25 fps"),
        ("", "invalid timecode '' (use SS, MM:SS, HH:MM:SS.mmm or HH:MM:SS:FF)"),
    ],
)
def test_parse_timecode_rejects(text: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        parse_timecode(text)
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("ms", "srt", "vtt", "clock"),
    [
        (0, "00:00:00,000", "00:00:00.000", "0:00.000"),
        (61_001, "00:01:01,001", "00:01:01.001", "1:01.001"),
        (3_723_004, "01:02:03,004", "01:02:03.004", "1:02:03.004"),
    ],
)
def test_format(ms: int, srt: str, vtt: str, clock: str) -> None:
    assert (format_vtt_time(ms), format_clock(ms)) == (vtt, clock)
    (cue,) = parse_srt(render_srt([Cue(ms, ms + 1000, ("x",))]))
    assert render_srt([cue]).splitlines()[1].startswith(f"{srt} --> ")
