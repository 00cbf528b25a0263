"""The publish state file as typed records: what earlier clipkits wrote reads back and is
written again the same, keys a newer clipkit adds survive, damage is one clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clipkit.errors import InputError
from clipkit.publish import PublishState, VideoMeta

SHA = "a" * 64
OLD = "b" * 64
WRITTEN = {  # as the dict-of-dicts clipkit wrote it, before the records
    "format": "clipkit-publish/1",
    "playlists": {"Stories": "PL1"},
    "extracts": {
        SHA: {
            "slug": "story", "file": "story.mp4", "size": 1234, "video_id": "v2", "privacy": "private",
            "meta": {"title": "T", "description": "D", "tags": ["a b"], "privacy": "private"},
            "playlists": {"PL1": {"item_id": "i2", "pending": False}},
            "caption": {"id": "c1", "pending": False, "language": "en"},
            "captions": {"fr": {"id": "c2", "pending": False, "language": "fr"}},
            "thumbnail": {"at": 1.5},
        },
        OLD: {"slug": "story", "file": "story.mp4", "size": 99, "replaced": "v1",
              "playlists": {"PL1": {"item_id": None, "pending": False}}, "future": [1, 2]},
        "c" * 64: {"slug": "half", "file": "half.mp4", "size": 5, "session_uri": "https://up/1",
                   "bytes_confirmed": 262144},
    },
    "slugs": {"story": SHA, "half": "c" * 64},
    "order": {"PL1": ["v2"], "PLgone": ["v0"]},
    "added_later": {"x": 1},
}  # fmt: skip


def test_an_earlier_state_file_reads_back_as_records_and_is_written_the_same(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps(WRITTEN), encoding="utf-8")
    state = PublishState(path)
    record = state.videos[SHA]
    assert (record.video_id, record.thumbnail_at, record.has_track(), record.has_track("fr")) == (
        "v2", 1.5, True, True,
    )  # fmt: skip
    assert record.meta == VideoMeta("T", "D", ("a b",), "private")
    assert record.playlists["PL1"].id == "i2" and record.in_a_playlist()
    assert not state.videos[OLD].in_a_playlist() and state.videos[OLD].replaced == "v1"
    assert state.videos["c" * 64].session_uri == "https://up/1"
    assert state.published() == {"story": "v2"} and sorted(state.ours()) == ["v1", "v2"]
    assert state.order("PL1") == ["v2"] and state.order("PLgone") == ["v0"]
    state.save()
    assert json.loads(path.read_text(encoding="utf-8")) == WRITTEN


def test_records_made_in_a_run_serialise_to_the_same_format(tmp_path: Path) -> None:
    state = PublishState(tmp_path / "state.json")
    record = state.entry(SHA)
    record.slug, record.file, record.size = "story", "story.mp4", 10
    record.session_uri, record.bytes_confirmed = "https://up/2", 262144
    state.save()
    saved = json.loads(state.path.read_text(encoding="utf-8"))["extracts"][SHA]
    assert saved == {"slug": "story", "file": "story.mp4", "size": 10,
                     "session_uri": "https://up/2", "bytes_confirmed": 262144}  # fmt: skip
    record.session_uri, record.video_id = None, "v9"
    record.playlist_item("PL9").pending = True
    record.own_track().language = "cy"
    state.set_playlist_id("Straeon", "PL9")
    state.set_order("PL9", ["v9"])
    state.save()
    data = json.loads(state.path.read_text(encoding="utf-8"))
    assert "session_uri" not in data["extracts"][SHA]
    assert data["extracts"][SHA]["playlists"] == {"PL9": {"item_id": None, "pending": True}}
    assert data["extracts"][SHA]["caption"] == {"id": None, "pending": False, "language": "cy"}
    assert (data["playlists"], data["order"]) == ({"Straeon": "PL9"}, {"PL9": ["v9"]})


@pytest.mark.parametrize(
    "text",
    [
        "{ damaged",
        "[1, 2]",
        '{"extracts": []}',
        '{"extracts": {"' + SHA + '": "video"}}',
        '{"extracts": {"' + SHA + '": {"playlists": {"PL1": 7}}}}',
        '{"playlists": "Stories"}',
        b"\xff\xfe".decode("latin-1"),
    ],
)
def test_a_damaged_state_file_is_one_clear_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "state.json"
    path.write_text(text, encoding="latin-1")
    with pytest.raises(InputError, match=r"the publish state is damaged .*move it aside"):
        PublishState(path)


@pytest.mark.parametrize(
    ("now", "published", "changed"),
    [
        (VideoMeta("T", "D", ("a",), "private"), VideoMeta("T", "D", ("a",), "private"), []),
        (VideoMeta("T2", "D", ("a",), "public"), VideoMeta("T", "D", ("a",), "private"),
         ["title", "privacy"]),
        (VideoMeta("T", "D", ("b", "a"), "private", "fr", "22"),
         VideoMeta("T", "D", ("a", "b"), "private"), ["tags"]),  # order counts; language does not
    ],
)  # fmt: skip
def test_metadata_changes_name_what_a_viewer_sees(
    now: VideoMeta, published: VideoMeta, changed: list[str]
) -> None:
    assert now.changes_from(published) == changed


def test_the_marker_is_sent_and_never_recorded_as_a_viewer_tag() -> None:
    meta = VideoMeta("T", "D", ("story",), "private").with_marker(SHA)
    assert meta.tags == ("story", "clipkit-" + SHA[:16])
    assert meta.without_markers().tags == ("story",)
