"""A fake YouTube Data API v3 on 127.0.0.1 for tests: the real resumable-upload protocol
(POST session -> Location; PUT with Content-Range -> 308 + Range or 200; `bytes */N` status
queries), playlists, playlist items, captions (multipart), channels, videos.delete, and an OAuth
`/token` endpoint. Faults are injected per route, in order, and every request is recorded.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import itertools
import json
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Upload:
    total: int
    meta: dict[str, Any]
    data: bytearray = field(default_factory=bytearray)
    resent: int = 0  # bytes received again for a range already stored
    video_id: str | None = None


UPLOADS = "UUfake"  # the id of the channel's uploads playlist


class FakeYouTube:
    def __init__(self, page_size: int = 2, lock_private: bool = False) -> None:
        self.page_size = page_size
        self.lock_private = lock_private  # an unverified API project: uploads forced private
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.access_tokens: set[str] = set()
        self.refresh_tokens: dict[str, bool] = {}  # token -> still valid
        self.auth_codes: dict[str, str] = {}  # code -> the scope the user granted
        self.token_requests: list[dict[str, str]] = []
        self.uploads: dict[str, Upload] = {}
        self.videos: dict[str, dict[str, Any]] = {}
        self.playlists: dict[str, dict[str, Any]] = {}
        self.playlist_items: list[dict[str, Any]] = []
        self.captions: list[dict[str, Any]] = []
        self.thumbnails: dict[str, bytes] = {}  # video id -> image
        self.requests: list[tuple[str, str]] = []  # (method, route)
        self.ranges: list[str] = []  # Content-Range of every upload PUT, in order
        self.faults: list[tuple[str, Any]] = []  # (route, action): consumed in order
        self.chunk_delay = 0.0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # --- control ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/"

    def start(self) -> FakeYouTube:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def issue_tokens(self) -> tuple[str, str]:
        access, refresh = f"access-{next(self.ids)}", f"refresh-{next(self.ids)}"
        with self.lock:
            self.access_tokens.add(access)
            self.refresh_tokens[refresh] = True
        return access, refresh

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.access_tokens.clear()

    def revoke(self, refresh: str) -> None:
        with self.lock:
            self.refresh_tokens[refresh] = False
            self.access_tokens.clear()

    def inject(self, route: str, action: Any, times: int = 1) -> None:
        """route: session, chunk, status, playlists.list, playlists.insert, playlistItems.insert,
        playlistItems.list, captions.insert, ...; action: an HTTP status, 'quota', 'upload-limit',
        'drop' (close the connection mid-request) or 'expire' (access tokens stop working)."""
        self.faults += [(route, action)] * times

    def count(self, route: str) -> int:
        return sum(1 for _, r in self.requests if r == route)

    def playlist_video_ids(self, playlist_id: str) -> list[str]:
        items = [i for i in self.playlist_items if i["snippet"]["playlistId"] == playlist_id]
        return [
            i["snippet"]["resourceId"]["videoId"]
            for i in sorted(items, key=lambda i: i["snippet"]["position"])
        ]

    def video_sha256(self, video_id: str) -> str:
        upload = next(u for u in self.uploads.values() if u.video_id == video_id)
        return hashlib.sha256(bytes(upload.data)).hexdigest()

    # --- the server ------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._dispatch(self, "GET")

            def do_POST(self) -> None:
                fake._dispatch(self, "POST")

            def do_PUT(self) -> None:
                fake._dispatch(self, "PUT")

            def do_DELETE(self) -> None:
                fake._dispatch(self, "DELETE")

        return Handler

    def _send(
        self,
        h: BaseHTTPRequestHandler,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        raw = b"" if body is None else json.dumps(body).encode()
        h.send_response(status)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        if body is not None:
            h.send_header("Content-Type", "application/json; charset=UTF-8")
        h.send_header("Content-Length", str(len(raw)))
        h.end_headers()
        h.wfile.write(raw)

    def _error(self, h: BaseHTTPRequestHandler, status: int, reason: str, message: str) -> None:
        self._send(
            h,
            status,
            {
                "error": {
                    "code": status,
                    "message": message,
                    "errors": [{"reason": reason, "message": message}],
                }
            },
        )

    def _route(self, method: str, path: str, query: dict[str, str]) -> str:
        if path == "/token":
            return "token"
        if path.startswith("/upload/youtube/v3/videos"):
            if method == "POST":
                return "session"
            return "upload-put"
        if path.startswith("/upload/youtube/v3/captions"):
            return "captions.insert"
        if path.startswith("/upload/youtube/v3/thumbnails/set"):
            return "thumbnails.set"
        resource = path.removeprefix("/youtube/v3/").strip("/")
        verb = {"GET": "list", "POST": "insert", "DELETE": "delete", "PUT": "update"}[method]
        return f"{resource}.{verb}"

    def _take_fault(self, route: str) -> Any:
        with self.lock:
            for k, (r, action) in enumerate(self.faults):
                if r == route:
                    del self.faults[k]
                    return action
        return None

    def _dispatch(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parsed = urllib.parse.urlparse(h.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        route = self._route(method, parsed.path, query)
        length = int(h.headers.get("Content-Length") or 0)
        if route == "upload-put":
            content_range = h.headers.get("Content-Range", "")
            route = "status" if content_range.startswith("bytes */") else "chunk"
            with self.lock:
                self.ranges.append(content_range)
        with self.lock:
            self.requests.append((method, route))
        fault = self._take_fault(route)
        if fault == "drop":
            h.rfile.read(min(length, 1024))  # take a little of the body, then hang up
            h.close_connection = True
            h.connection.shutdown(2)
            return
        body = h.rfile.read(length) if length else b""
        if len(body) < length:
            return  # the client went away mid-body: store nothing
        if route == "token":
            return self._token(h, body)
        auth = h.headers.get("Authorization", "")
        if fault == "expire":
            self.expire_access_tokens()
        if not auth.startswith("Bearer ") or auth[7:] not in self.access_tokens:
            return self._error(h, 401, "authError", "Invalid Credentials")
        if fault == "quota":
            return self._error(
                h,
                403,
                "quotaExceeded",
                "The request cannot be completed because you have exceeded your quota.",
            )
        if fault == "forbidden":
            return self._error(
                h,
                403,
                "forbidden",
                "The authenticated user doesn't have permissions to upload and set custom video thumbnails.",
            )
        if fault == "upload-limit":
            return self._error(
                h,
                400,
                "uploadLimitExceeded",
                "The user has exceeded the number of videos they may upload.",
            )
        if isinstance(fault, int):
            return self._error(h, fault, "backendError", f"injected {fault}")
        handler = getattr(self, "_" + route.replace(".", "_"), None)
        if handler is None:
            return self._error(h, 404, "notFound", f"no route {method} {parsed.path}")
        handler(h, query, body)

    # --- OAuth ------------------------------------------------------------------------------

    def _token(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        form = dict(urllib.parse.parse_qsl(body.decode()))
        with self.lock:
            self.token_requests.append(form)
        grant = form.get("grant_type")
        if grant == "authorization_code" and form.get("code") in self.auth_codes:
            access, refresh = self.issue_tokens()
            return self._send(h, 200, {"access_token": access, "refresh_token": refresh, "expires_in": 3600,
                                       "token_type": "Bearer", "scope": self.auth_codes.pop(form["code"])})  # fmt: skip
        if grant == "refresh_token" and self.refresh_tokens.get(form.get("refresh_token", "")):
            access = f"access-{next(self.ids)}"
            with self.lock:
                self.access_tokens.add(access)
            return self._send(
                h, 200, {"access_token": access, "expires_in": 3600, "token_type": "Bearer"}
            )
        self._send(
            h,
            400,
            {"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
        )

    # --- uploads ----------------------------------------------------------------------------

    def _session(self, h: BaseHTTPRequestHandler, query: dict[str, str], body: bytes) -> None:
        total = int(h.headers.get("X-Upload-Content-Length", "0"))
        upload_id = f"up{next(self.ids)}"
        with self.lock:
            self.uploads[upload_id] = Upload(total=total, meta=json.loads(body or b"{}"))
        location = f"{self.url}upload/youtube/v3/videos?uploadType=resumable&upload_id={upload_id}"
        self._send(h, 200, None, {"Location": location})

    def _range_headers(self, upload: Upload) -> dict[str, str]:
        return {"Range": f"bytes=0-{len(upload.data) - 1}"} if upload.data else {}

    def _status(self, h: BaseHTTPRequestHandler, query: dict[str, str], body: bytes) -> None:
        upload = self.uploads.get(query.get("upload_id", ""))
        if upload is None:
            return self._error(h, 404, "notFound", "upload session not found")
        if upload.video_id:
            return self._send(h, 200, self.videos[upload.video_id])
        self._send(h, 308, None, self._range_headers(upload))

    def _chunk(self, h: BaseHTTPRequestHandler, query: dict[str, str], body: bytes) -> None:
        upload = self.uploads.get(query.get("upload_id", ""))
        if upload is None:
            return self._error(h, 404, "notFound", "upload session not found")
        m = re.match(r"bytes (\d+)-(\d+)/(\d+)", h.headers.get("Content-Range", ""))
        if not m:
            return self._error(h, 400, "badRequest", "bad Content-Range")
        first, last = int(m.group(1)), int(m.group(2))
        if len(body) != last - first + 1:
            return self._error(h, 400, "badRequest", "body shorter than its Content-Range")
        with self.lock:
            have = len(upload.data)
            if first > have:
                return self._send(h, 308, None, self._range_headers(upload))
            upload.resent += max(0, min(have, last + 1) - first)
            upload.data += body[have - first :]
            if len(upload.data) >= upload.total and upload.video_id is None:
                video_id = f"vid{next(self.ids)}"
                privacy = upload.meta.get("status", {}).get("privacyStatus", "private")
                video = {"kind": "youtube#video", "id": video_id, "snippet": upload.meta.get("snippet", {}),
                         "status": {"privacyStatus": "private" if self.lock_private else privacy, "uploadStatus": "uploaded"}}  # fmt: skip
                self.videos[video_id] = video
                upload.video_id = video_id
        if self.chunk_delay:  # a slow link: the chunk is stored, its answer is late
            time.sleep(self.chunk_delay)
        if upload.video_id:
            return self._send(h, 200, self.videos[upload.video_id])
        self._send(h, 308, None, self._range_headers(upload))

    # --- resources --------------------------------------------------------------------------

    def _page(
        self, h: BaseHTTPRequestHandler, query: dict[str, str], items: list[dict[str, Any]]
    ) -> None:
        start = int(query.get("pageToken") or 0)
        size = min(int(query.get("maxResults") or 5), self.page_size)
        page = items[start : start + size]
        body: dict[str, Any] = {"items": page, "pageInfo": {"totalResults": len(items)}}
        if start + size < len(items):
            body["nextPageToken"] = str(start + size)
        self._send(h, 200, body)

    def _playlists_list(
        self, h: BaseHTTPRequestHandler, query: dict[str, str], body: bytes
    ) -> None:
        self._page(h, query, list(self.playlists.values()))

    def _playlists_insert(
        self, h: BaseHTTPRequestHandler, query: dict[str, str], body: bytes
    ) -> None:
        data = json.loads(body)
        pid = f"PL{next(self.ids)}"
        self.playlists[pid] = {"kind": "youtube#playlist", "id": pid, **data}
        self._send(h, 200, self.playlists[pid])

    def _playlistItems_list(
        self, h: BaseHTTPRequestHandler, query: dict[str, str], body: bytes
    ) -> None:
        if query.get("playlistId") == UPLOADS:  # the channel's uploads, newest first
            uploads = [{"id": f"UPL{v}", "snippet": {"position": k},
                        "contentDetails": {"videoId": v}}
                       for k, v in enumerate(reversed(list(self.videos)))]  # fmt: skip
            return self._page(h, query, uploads)
        items = [
            i for i in self.playlist_items if i["snippet"]["playlistId"] == query.get("playlistId")
        ]
        self._page(h, query, sorted(items, key=lambda i: i["snippet"]["position"]))

    def _playlistItems_insert(
        self, h: BaseHTTPRequestHandler, query: dict[str, str], body: bytes
    ) -> None:
        snippet = json.loads(body)["snippet"]
        with self.lock:
            siblings = [
                i
                for i in self.playlist_items
                if i["snippet"]["playlistId"] == snippet["playlistId"]
            ]
            position = min(int(snippet.get("position", len(siblings))), len(siblings))
            for other in siblings:
                if other["snippet"]["position"] >= position:
                    other["snippet"]["position"] += 1
            item = {
                "kind": "youtube#playlistItem",
                "id": f"PLI{next(self.ids)}",
                "snippet": {**snippet, "position": position},
            }
            self.playlist_items.append(item)
        self._send(h, 200, item)

    def _playlistItems_delete(
        self, h: BaseHTTPRequestHandler, query: dict[str, str], body: bytes
    ) -> None:
        with self.lock:
            item = next((i for i in self.playlist_items if i["id"] == query.get("id")), None)
            if item is None:
                return self._error(h, 404, "playlistItemNotFound", "not found")
            self.playlist_items.remove(item)
            for other in self.playlist_items:
                same = other["snippet"]["playlistId"] == item["snippet"]["playlistId"]
                if same and other["snippet"]["position"] > item["snippet"]["position"]:
                    other["snippet"]["position"] -= 1
        self._send(h, 204)

    def _videos_update(self, h: BaseHTTPRequestHandler, query: dict[str, str], body: bytes) -> None:
        data = json.loads(body)
        with self.lock:
            video = self.videos.get(data.get("id", ""))
            if video is None:
                return self._error(h, 404, "videoNotFound", "not found")
            for part in query.get("part", "").split(","):
                if part in data:
                    video[part] = {**video.get(part, {}), **data[part]}
        self._send(h, 200, video)

    def _playlistItems_update(
        self, h: BaseHTTPRequestHandler, query: dict[str, str], body: bytes
    ) -> None:
        data = json.loads(body)
        with self.lock:
            item = next((i for i in self.playlist_items if i["id"] == data.get("id")), None)
            if item is None:
                return self._error(h, 404, "playlistItemNotFound", "not found")
            siblings = sorted(
                (i for i in self.playlist_items
                 if i["snippet"]["playlistId"] == item["snippet"]["playlistId"] and i is not item),
                key=lambda i: i["snippet"]["position"],
            )  # fmt: skip
            position = min(int(data["snippet"].get("position", 0)), len(siblings))
            siblings.insert(position, item)
            for k, other in enumerate(siblings):
                other["snippet"]["position"] = k
        self._send(h, 200, item)

    def _videos_delete(self, h: BaseHTTPRequestHandler, query: dict[str, str], body: bytes) -> None:
        if self.videos.pop(query.get("id", ""), None) is None:
            return self._error(h, 404, "videoNotFound", "not found")
        self.captions = [c for c in self.captions if c["snippet"]["videoId"] != query.get("id")]
        self._send(h, 204)

    def _channels_list(self, h: BaseHTTPRequestHandler, query: dict[str, str], body: bytes) -> None:
        self._send(h, 200, {"items": [{
            "id": "UCfake", "snippet": {"title": "Community Reporters"},
            "contentDetails": {"relatedPlaylists": {"uploads": UPLOADS}},
        }]})  # fmt: skip

    def _videos_list(self, h: BaseHTTPRequestHandler, query: dict[str, str], body: bytes) -> None:
        wanted = [i for i in query.get("id", "").split(",") if i]
        self._send(h, 200, {"items": [self.videos[i] for i in wanted if i in self.videos]})

    def _captions_list(self, h: BaseHTTPRequestHandler, query: dict[str, str], body: bytes) -> None:
        items = [
            {k: v for k, v in c.items() if k != "data"}
            for c in self.captions
            if c["snippet"]["videoId"] == query.get("videoId")
        ]
        self._send(h, 200, {"items": items})

    def _captions_insert(
        self, h: BaseHTTPRequestHandler, query: dict[str, str], body: bytes
    ) -> None:
        content_type = h.headers.get("Content-Type", "")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        parts = list(message.iter_parts())
        if len(parts) != 2:
            return self._error(h, 400, "badRequest", "expected metadata and media parts")
        meta = json.loads(parts[0].get_content())
        data = parts[1].get_payload(decode=True)
        if meta["snippet"]["videoId"] not in self.videos:
            return self._error(h, 404, "videoNotFound", "no such video")
        caption = {
            "kind": "youtube#caption",
            "id": f"cap{next(self.ids)}",
            "snippet": meta["snippet"],
            "data": data,
        }
        self.captions.append(caption)
        self._send(h, 200, {k: v for k, v in caption.items() if k != "data"})

    def _thumbnails_set(
        self, h: BaseHTTPRequestHandler, query: dict[str, str], body: bytes
    ) -> None:
        video_id = query.get("videoId", "")
        if video_id not in self.videos:
            return self._error(h, 404, "videoNotFound", "no such video")
        if not body.startswith(b"\xff\xd8"):
            return self._error(h, 400, "invalidImage", "not a JPEG")
        self.thumbnails[video_id] = body
        self._send(
            h, 200, {"kind": "youtube#thumbnailSetResponse", "items": [{"default": {"url": "x"}}]}
        )
