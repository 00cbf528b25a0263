"""YouTube adapter: OAuth login and token storage, the API client, error classification.

The client is built from the discovery document bundled with google-api-python-client (no
network needed to build it) with its root URL replaceable, so tests and proxies can point it
elsewhere: `client_options={'api_endpoint': ...}` would not move upload URLs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import AuthError, ClipkitError, ConfigError, InputError, QuotaError, YouTubeError
from .fsutil import atomic_write_text
from .publish.items import VideoMeta
from .publish.options import UploadSettings
from .resources import clipkit_home, configs_dir

SCOPES = [
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube.force-ssl",  # captions need it
]
RETRYABLE_STATUS = (500, 502, 503, 504, 429)
QUOTA_REASONS = ("quotaExceeded", "dailyLimitExceeded", "uploadLimitExceeded")
LOGIN_HINT = "run `clipkit auth login`"


# --- configuration -------------------------------------------------------------------------


def parse_size(text: str) -> int:
    """`256K`, `4M`, `1048576` -> bytes; a resumable chunk must be a multiple of 256 KiB."""
    raw = str(text).strip().upper().removesuffix("B").removesuffix("I")
    factor = {"K": 1024, "M": 1024 * 1024}.get(raw[-1:], 1)
    try:
        value = int(float(raw.rstrip("KM")) * factor)
    except ValueError as exc:
        raise InputError(f"invalid size {text!r} (e.g. 256K, 4M)") from exc
    if value <= 0 or value % (256 * 1024):
        raise InputError(f"chunk size {text} must be a positive multiple of 256K")
    return value


def youtube_config() -> tuple[dict[str, int], UploadSettings]:
    import tomllib

    data = tomllib.loads((configs_dir() / "youtube.toml").read_text(encoding="utf-8"))
    quota = {k: int(v) for k, v in data.get("quota", {}).items()}
    up = data.get("upload", {})
    settings = UploadSettings(
        chunk_size=parse_size(up.get("chunk_size", "4M")),
        retries=int(up.get("retries", 8)),
        retry_base_seconds=float(up.get("retry_base_seconds", 1.0)),
        retry_max_seconds=float(up.get("retry_max_seconds", 64.0)),
        timeout_seconds=float(up.get("timeout_seconds", 60)),
    )
    return quota, settings


def api_root(explicit: str | None = None) -> str | None:
    root = explicit or os.environ.get("CLIPKIT_YOUTUBE_API_ROOT")
    if root and not root.endswith("/"):
        root += "/"
    return root


# --- OAuth ---------------------------------------------------------------------------------


def token_path() -> Path:
    return clipkit_home() / "youtube-token.json"


def client_secrets_path(explicit: Path | None = None, configured: str | None = None) -> Path:
    """--client-secrets, then $CLIPKIT_CLIENT_SECRETS, then config, then the clipkit home."""
    env = os.environ.get("CLIPKIT_CLIENT_SECRETS")
    for candidate in (explicit, env, configured):
        if candidate:
            path = Path(candidate).expanduser()
            if not path.is_file():
                raise ConfigError(f"OAuth client secrets {path} not found")
            return path
    default = clipkit_home() / "client_secrets.json"
    if default.is_file():
        return default
    raise ConfigError(
        "no OAuth client secrets: pass --client-secrets FILE or set CLIPKIT_CLIENT_SECRETS "
        "(a Google Cloud OAuth client of type 'Desktop app', downloaded as JSON)"
    )


def load_client_config(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not valid JSON (expected OAuth client secrets)") from exc
    client = data.get("installed") or data.get("web") if isinstance(data, dict) else None
    needed = ("client_id", "client_secret", "auth_uri", "token_uri")
    if not isinstance(client, dict) or any(not client.get(k) for k in needed):
        raise ConfigError(
            f'{path}: not an OAuth client secrets file (expected an "installed" client with {", ".join(needed)})'
        )
    return data


def login(
    secrets: Path,
    open_browser: bool = True,
    browser: str | None = None,
    prompt: str = "",
    timeout: int | None = 300,
) -> Any:
    """The installed-app flow on a loopback port; saves the token (mode 0600)."""
    from google_auth_oauthlib.flow import InstalledAppFlow

    flow = InstalledAppFlow.from_client_config(load_client_config(secrets), SCOPES)
    try:
        creds = flow.run_local_server(
            host="localhost",
            port=0,
            open_browser=open_browser,
            browser=browser,
            authorization_prompt_message=prompt,
            success_message="clipkit is authorised. You can close this window.",
            timeout_seconds=timeout,
            access_type="offline",
            prompt="consent",
        )
    except Exception as exc:  # oauthlib and the flow raise many types; all end the login
        raise AuthError(f"login failed: {exc}") from exc
    save_token(creds)
    return creds


def save_token(creds: Any) -> None:
    path = token_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, creds.to_json(), mode=0o600)


def load_credentials() -> Any:
    from google.oauth2.credentials import Credentials

    path = token_path()
    if not path.is_file():
        raise AuthError(f"not logged in to YouTube: {LOGIN_HINT}")
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        creds = Credentials.from_authorized_user_info(info, info.get("scopes") or SCOPES)
    except (ValueError, KeyError) as exc:
        raise AuthError(f"the saved YouTube login at {path} is unreadable: {LOGIN_HINT}") from exc
    if info.get("token_uri") and creds.token_uri != info["token_uri"]:
        # from_authorized_user_info puts Google's endpoint back, and with_token_uri loses the
        # expiry (an expired token would then look valid): keep both
        expiry = creds.expiry
        creds = creds.with_token_uri(info["token_uri"])
        creds.expiry = expiry
    return creds


def fresh_credentials() -> Any:
    """Saved credentials, refreshed (and saved again) when the access token has expired."""
    from google.auth.exceptions import RefreshError
    from google_auth_httplib2 import Request
    from googleapiclient.http import build_http

    creds = load_credentials()
    if not creds.valid:
        try:
            creds.refresh(Request(build_http()))
        except RefreshError as exc:
            raise AuthError(
                f"YouTube refused the saved login (expired or revoked): {LOGIN_HINT}"
            ) from exc
        except (TimeoutError, OSError) as exc:
            raise YouTubeError(f"could not reach the token endpoint: {exc}") from exc
        save_token(creds)
    return creds


def logout() -> bool:
    path = token_path()
    if path.exists():
        path.unlink()
        return True
    return False


def token_status() -> dict[str, Any]:
    """What the saved login allows, without any secret in it."""
    path = token_path()
    if not path.is_file():
        return {"logged_in": False, "token_file": str(path)}
    info = json.loads(path.read_text(encoding="utf-8"))
    client_id = str(info.get("client_id", ""))
    return {
        "logged_in": True,
        "token_file": str(path),
        "token_file_mode": oct(path.stat().st_mode & 0o777),
        "scopes": info.get("scopes") or [],
        "refresh_token": bool(info.get("refresh_token")),
        "expiry": info.get("expiry"),
        "client": client_id.split("-")[0] + "-…" if client_id else "",
    }


def login_status() -> dict[str, Any]:
    """token_status() and, when logged in, the channel the login publishes to."""
    status = token_status()
    if status["logged_in"]:
        try:
            client = build_client(fresh_credentials(), api_root(), 30)
            channels = client.channels().list(part="snippet", mine=True).execute().get("items", [])
            status["channel"] = channels[0]["snippet"]["title"] if channels else None
        except ClipkitError as exc:
            status["channel_error"] = str(exc)
        except Exception as exc:  # an offline status is still worth showing
            status["channel_error"] = f"{type(exc).__name__}: could not reach YouTube"
    return status


# --- the client ----------------------------------------------------------------------------


@contextmanager
def connected_channel(settings: UploadSettings) -> Iterator[YouTubeChannel]:
    """The logged-in channel; an access token refreshed during the run is saved at the end."""
    creds = fresh_credentials()
    try:
        yield YouTubeChannel(build_client(creds, api_root(), settings.timeout_seconds))
    finally:
        if creds.token:
            save_token(creds)


def build_client(creds: Any, root: str | None, timeout: float) -> Any:
    from google_auth_httplib2 import AuthorizedHttp
    from googleapiclient.discovery import build_from_document
    from googleapiclient.discovery_cache import get_static_doc
    from googleapiclient.http import build_http

    doc = json.loads(get_static_doc("youtube", "v3"))
    if root:
        doc["rootUrl"] = root
        doc["mtlsRootUrl"] = root
    # build_http(), not httplib2.Http(): it keeps 308 Resume Incomplete from being followed
    # as a redirect
    http = build_http()
    http.timeout = timeout
    return build_from_document(doc, http=AuthorizedHttp(creds, http=http))


def classify(exc: BaseException) -> str:
    """'retry', 'quota', 'auth' or 'fatal' for an error raised by the client."""
    from google.auth.exceptions import RefreshError, TransportError
    from googleapiclient.errors import HttpError, ResumableUploadError

    if isinstance(exc, RefreshError):
        return "auth"
    if isinstance(exc, HttpError | ResumableUploadError):
        status = int(getattr(exc, "status_code", None) or exc.resp.status)
        if error_reason(exc) in QUOTA_REASONS:
            return "quota"
        if status in RETRYABLE_STATUS or error_reason(exc) in ("rateLimitExceeded", "backendError"):
            return "retry"
        return "auth" if status == 401 else "fatal"
    import httplib2

    if isinstance(
        exc,
        ConnectionError
        | TimeoutError
        | socket.timeout
        | ssl.SSLError
        | httplib2.HttpLib2Error
        | TransportError,
    ):
        return "retry"
    if isinstance(exc, OSError):
        return "retry"
    return "fatal"


def error_reason(exc: Any) -> str:
    details = getattr(exc, "error_details", None)
    if isinstance(details, list) and details and isinstance(details[0], dict):
        return str(details[0].get("reason", ""))
    try:
        content = json.loads(exc.content.decode("utf-8"))
        return str(content["error"]["errors"][0]["reason"])
    except (AttributeError, ValueError, KeyError, IndexError, TypeError):
        return ""


def error_message(exc: Any) -> str:
    try:
        content = json.loads(exc.content.decode("utf-8"))
        return str(content["error"]["message"])
    except (AttributeError, ValueError, KeyError, TypeError):
        return str(exc)


def quota_reset(now: dt.datetime | None = None) -> str:
    """When the daily quota resets: midnight Pacific time, said in UTC and as time left."""
    now = now or dt.datetime.now(dt.UTC)
    try:
        from zoneinfo import ZoneInfo

        pacific = now.astimezone(ZoneInfo("America/Los_Angeles"))
    except Exception:  # no tz database: Pacific standard time is close enough for a hint
        pacific = now.astimezone(dt.timezone(dt.timedelta(hours=-8)))
    midnight = (pacific + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    left = midnight - pacific
    hours, rest = divmod(int(left.total_seconds()), 3600)
    at = midnight.astimezone(dt.UTC).strftime("%H:%M UTC")
    return f"midnight Pacific time ({at}, in {hours} h {rest // 60:02d} min)"


# --- the publishing platform ---------------------------------------------------------------

Call = Callable[[], Any]  # one API request, run (charged, retried) by the publisher


def _media_upload_class() -> Any:  # built lazily: googleapiclient is an optional extra
    from googleapiclient.http import MediaFileUpload

    class BytesFileUpload(MediaFileUpload):  # type: ignore[misc]
        """Hands each chunk to the transport as bytes: after a dropped connection httplib2
        silently resends a request once, and a stream-backed chunk cannot be rewound (the resend
        went out empty and hung until the socket timeout)."""

        def has_stream(self) -> bool:
            return False

    return BytesFileUpload


def _video_body(meta: VideoMeta) -> dict[str, Any]:
    """A video's snippet and status, as uploaded and as updated."""
    return {
        "snippet": {
            "title": meta.title,
            "description": meta.description,
            "tags": list(meta.tags),
            "categoryId": meta.category,
            "defaultLanguage": meta.language,
            "defaultAudioLanguage": meta.language,
        },
        "status": {"privacyStatus": meta.privacy, "selfDeclaredMadeForKids": False},
    }


class YouTubeUpload:
    """One resumable upload: `next_chunk()` until it returns the video; `session_uri` is what a
    later run resumes from (asking the server how much it holds first)."""

    def __init__(self, request: Any, session_uri: str | None) -> None:
        self.request = request
        if session_uri:
            request.resumable_uri = session_uri
            request._in_error_state = True  # the client then asks "bytes */N" before sending

    @property
    def session_uri(self) -> str | None:
        return self.request.resumable_uri or None

    @property
    def progress(self) -> int:
        return int(self.request.resumable_progress or 0)

    def next_chunk(self) -> tuple[str, str] | None:
        """Send one chunk; (video id, privacy) once the server has the whole file."""
        _, response = self.request.next_chunk()
        if response is None:
            return None
        return str(response["id"]), str(response.get("status", {}).get("privacyStatus", ""))

    def restart(self) -> None:
        """Forget an expired session: the next chunk opens a new one."""
        self.request.resumable_uri = None
        self.request.resumable_progress = 0
        self.request._in_error_state = False


class YouTubeChannel:
    """YouTube Data API v3 as a publishing platform. Each method returns the request as a call
    for the platform-neutral publisher (publish.py), which charges the quota, retries transient
    errors and keeps the state file; this class knows only YouTube's API and its errors."""

    name = "YouTube"

    def __init__(self, client: Any) -> None:
        self.client = client

    @staticmethod
    def video_url(video_id: str) -> str:
        return f"https://youtu.be/{video_id}"

    # errors

    @staticmethod
    def classify(exc: BaseException) -> str:
        return classify(exc)

    @staticmethod
    def translate(exc: BaseException, what: str) -> ClipkitError:
        kind = classify(exc)
        if kind == "quota":
            limit = (
                "upload limit" if error_reason(exc) == "uploadLimitExceeded" else "daily API quota"
            )
            return QuotaError(
                f"YouTube's {limit} is used up ({what}); it resets at {quota_reset()}"
            )
        if kind == "auth":
            return AuthError(f"YouTube refused the saved login ({what}): run `clipkit auth login`")
        return YouTubeError(f"{what} failed: {error_message(exc)}")

    @staticmethod
    def session_gone(exc: BaseException) -> bool:
        """The server no longer knows an upload session (expired)."""
        return getattr(getattr(exc, "resp", None), "status", None) in (404, 410)

    @staticmethod
    def quota_reset() -> str:
        return quota_reset()

    # playlists

    def list_playlists(self, token: str | None) -> Call:
        """A page of your playlists: ([(id, title)], next page token)."""
        request = self.client.playlists().list(
            part="snippet", mine=True, maxResults=50, pageToken=token
        )
        return lambda: _page(
            request.execute(), lambda p: (p["id"], p.get("snippet", {}).get("title"))
        )

    def uploads_playlist(self) -> Call:
        """The id of the channel's own playlist of every upload."""
        request = self.client.channels().list(part="contentDetails", mine=True)

        def run() -> str:
            items = request.execute().get("items") or []
            if not items:
                raise YouTubeError("this Google account has no YouTube channel")
            return str(items[0]["contentDetails"]["relatedPlaylists"]["uploads"])

        return run

    def list_uploads(self, uploads: str, token: str | None) -> Call:
        """A page of the channel's uploads with their metadata, every tag included:
        ([(video id, VideoMeta)], next page token)."""
        request = self.client.playlistItems().list(
            part="contentDetails", playlistId=uploads, maxResults=50, pageToken=token
        )

        def run() -> tuple[list[Any], str | None]:
            page = request.execute()
            ids = [i.get("contentDetails", {}).get("videoId") for i in page.get("items", [])]
            ids = [i for i in ids if i]
            videos = (
                self.client.videos().list(part="snippet,status", id=",".join(ids), maxResults=50)
                .execute().get("items", [])
                if ids else []
            )  # fmt: skip
            out = []
            for v in videos:
                snippet, status = v.get("snippet", {}), v.get("status", {})
                meta = VideoMeta(
                    title=snippet.get("title", ""),
                    description=snippet.get("description", ""),
                    tags=tuple(snippet.get("tags") or ()),
                    privacy=status.get("privacyStatus", ""),
                )
                out.append((str(v["id"]), meta))
            return out, page.get("nextPageToken")

        return run

    def create_playlist(self, title: str, privacy: str) -> Call:
        request = self.client.playlists().insert(
            part="snippet,status",
            body={"snippet": {"title": title}, "status": {"privacyStatus": privacy}},
        )
        return lambda: str(request.execute()["id"])

    def list_playlist_items(self, playlist_id: str, token: str | None) -> Call:
        """A page of a playlist: ([(item id, video id)], next page token)."""
        request = self.client.playlistItems().list(
            part="snippet", playlistId=playlist_id, maxResults=50, pageToken=token
        )
        return lambda: _page(
            request.execute(),
            lambda it: (it["id"], it.get("snippet", {}).get("resourceId", {}).get("videoId")),
        )

    def add_to_playlist(self, playlist_id: str, video_id: str, position: int | None) -> Call:
        snippet: dict[str, Any] = {
            "playlistId": playlist_id,
            "resourceId": {"kind": "youtube#video", "videoId": video_id},
        }
        if position is not None:
            snippet["position"] = position
        request = self.client.playlistItems().insert(part="snippet", body={"snippet": snippet})
        return lambda: str(request.execute()["id"])

    def remove_from_playlist(self, item_id: str) -> Call:
        request = self.client.playlistItems().delete(id=item_id)
        return lambda: request.execute()

    # videos

    def upload(
        self, video: Path, meta: VideoMeta, *, chunk_size: int, session_uri: str | None
    ) -> YouTubeUpload:
        media = _media_upload_class()(
            str(video), mimetype="video/mp4", chunksize=chunk_size, resumable=True
        )
        request = self.client.videos().insert(
            part="snippet,status", body=_video_body(meta), media_body=media, notifySubscribers=False
        )
        return YouTubeUpload(request, session_uri)

    def update_video(self, video_id: str, meta: VideoMeta) -> Call:
        # videos.update replaces the parts it names: send them whole, as the upload did
        body = {"id": video_id, **_video_body(meta)}
        request = self.client.videos().update(part="snippet,status", body=body)
        return lambda: request.execute()

    def move_in_playlist(
        self, item_id: str, playlist_id: str, video_id: str, position: int
    ) -> Call:
        body = {
            "id": item_id,
            "snippet": {
                "playlistId": playlist_id, "position": position,
                "resourceId": {"kind": "youtube#video", "videoId": video_id},
            },
        }  # fmt: skip
        request = self.client.playlistItems().update(part="snippet", body=body)
        return lambda: request.execute()

    def delete_video(self, video_id: str) -> Call:
        request = self.client.videos().delete(id=video_id)
        return lambda: request.execute()

    def set_thumbnail(self, video_id: str, jpg: Path) -> Call:
        from googleapiclient.http import MediaFileUpload

        request = self.client.thumbnails().set(
            videoId=video_id, media_body=MediaFileUpload(str(jpg), mimetype="image/jpeg")
        )
        return lambda: request.execute()

    # captions

    def list_captions(self, video_id: str) -> Call:
        """[(caption id, language)] of a video."""
        request = self.client.captions().list(part="snippet", videoId=video_id)
        return lambda: [
            (c["id"], c.get("snippet", {}).get("language"))
            for c in request.execute().get("items", [])
        ]

    def add_captions(self, video_id: str, language: str, srt: Path) -> Call:
        from googleapiclient.http import MediaFileUpload

        request = self.client.captions().insert(
            part="snippet",
            body={
                "snippet": {"videoId": video_id, "language": language, "name": "", "isDraft": False}
            },
            media_body=MediaFileUpload(
                str(srt), mimetype="application/octet-stream", resumable=False
            ),
        )
        return lambda: str(request.execute()["id"])


def _page(
    response: dict[str, Any], item: Callable[[dict[str, Any]], Any]
) -> tuple[list[Any], str | None]:
    return [item(i) for i in response.get("items", [])], response.get("nextPageToken")
