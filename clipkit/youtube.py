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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ClipkitError, ConfigError, InputError
from .fsutil import atomic_write_text
from .resources import clipkit_home, configs_dir

SCOPES = [
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube.force-ssl",  # captions need it
]
RETRYABLE_STATUS = (500, 502, 503, 504, 429)
QUOTA_REASONS = ("quotaExceeded", "dailyLimitExceeded", "uploadLimitExceeded")
LOGIN_HINT = "run `clipkit auth login`"


class AuthError(ClipkitError):
    """Not logged in, or YouTube refused the saved login."""


class QuotaError(ClipkitError):
    """The API project's daily quota (or upload limit) is used up."""


class YouTubeError(ClipkitError):
    """YouTube refused a request for a reason retrying will not fix."""


# --- configuration -------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadSettings:
    chunk_size: int = 4 * 1024 * 1024
    retries: int = 8
    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 64.0
    timeout_seconds: float = 60.0


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


# --- the client ----------------------------------------------------------------------------


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
