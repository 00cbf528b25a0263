#!/usr/bin/env python3
"""Publish benchmark: upload throughput of clipkit's resumable upload (state saved after every
chunk, retries, progress) against a bare google-api-python-client resumable loop with the same
chunk size, both to the local fake YouTube API, in one process and one run; then the bytes
re-sent after a dropped connection. Run with `make bench`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clipkit.publish import Item, Publisher, PublishOptions, PublishState  # noqa: E402
from clipkit.youtube import (  # noqa: E402
    SCOPES,
    UploadSettings,
    YouTubeChannel,
    _media_upload_class,
    build_client,
    load_credentials,
)
from tests.fake_youtube import FakeYouTube  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=int, default=50)
    parser.add_argument("--chunk", type=int, default=4 * 1024 * 1024)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    fake = FakeYouTube().start()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        os.environ["CLIPKIT_HOME"] = str(tmp)
        access, refresh = fake.issue_tokens()
        expiry = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=1)
        (tmp / "youtube-token.json").write_text(json.dumps({
            "token": access, "refresh_token": refresh, "token_uri": f"{fake.url}token", "client_id": "c",
            "client_secret": "s", "scopes": SCOPES, "expiry": expiry.isoformat() + "Z",
        }))  # fmt: skip
        video = tmp / "big.mp4"
        video.write_bytes(os.urandom(args.megabytes * 1024 * 1024))
        size = video.stat().st_size
        settings = UploadSettings(
            chunk_size=args.chunk, retries=8, retry_base_seconds=0.01, timeout_seconds=30
        )
        client = build_client(load_credentials(), fake.url, settings.timeout_seconds)
        item = Item(
            video,
            video,
            None,
            hashlib.sha256(video.read_bytes()).hexdigest(),
            "big",
            "Big",
            "",
            (),
            "en",
            (),
            ("", 0, ""),
        )

        def bare() -> float:
            media = _media_upload_class()(
                str(video), mimetype="video/mp4", chunksize=args.chunk, resumable=True
            )
            request = client.videos().insert(
                part="snippet,status",
                body={"snippet": {"title": "Big"}, "status": {"privacyStatus": "private"}},
                media_body=media,
            )
            started = time.perf_counter()
            response = None
            while response is None:
                _, response = request.next_chunk()
            return time.perf_counter() - started

        def ours(k: int) -> float:
            state = PublishState(tmp / f"state{k}.json")
            publisher = Publisher(
                YouTubeChannel(client),
                state,
                PublishOptions(playlist="Bench", settings=settings),
                lambda e: None,
            )
            started = time.perf_counter()
            publisher.upload(item, 1, 1)
            return time.perf_counter() - started

        bare_times, our_times = [], []
        for k in range(args.repeat):  # interleaved, so drift on the machine hits both alike
            bare_times.append(bare())
            our_times.append(ours(k))
        fake.uploads.clear()
        fake.ranges.clear()
        fake.inject("chunk", "drop")
        drop_state = PublishState(tmp / "drop.json")
        Publisher(
            YouTubeChannel(client),
            drop_state,
            PublishOptions(playlist="Bench", settings=settings),
            lambda e: None,
        ).upload(item, 1, 1)
        (upload,) = fake.uploads.values()
        duplicated = upload.resent  # bytes the server stored twice
        # bytes the client sent again: PUTs of a range that had been sent before
        resent, seen = 0, set()
        for content_range in fake.ranges:
            first, _, rest = content_range.removeprefix("bytes ").partition("-")
            if first.isdigit():
                last = int(rest.partition("/")[0])
                resent += last - int(first) + 1 if first in seen else 0
                seen.add(first)
    fake.stop()
    mb = size / 1e6
    b, o = statistics.median(bare_times), statistics.median(our_times)
    head = f"Upload of {mb:.0f} MB to the local fake YouTube API, {args.chunk // 1024} KiB chunks"
    print(f"\n{head}, median of {args.repeat} interleaved runs")
    print(f"{'case':<48} {'seconds':>8} {'MB/s':>8} {'ratio':>7}")
    print(
        f"{'bare google-api-python-client resumable loop':<48} {b:>8.3f} {mb / b:>8.1f} {1:>7.2f}"
    )
    print(
        f"{'clipkit upload (state, retries, progress)':<48} {o:>8.3f} {mb / o:>8.1f} {o / b:>7.2f}   target <= 1.05"
    )
    print(
        f"\nA connection dropped mid-chunk: {resent} bytes sent again (one chunk: {args.chunk}; target <= one chunk)"
    )
    print(f"bytes the server stored twice: {duplicated}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
