"""The DJ stream assistant's side of its integration: posts track classifications, bot chat and stream stats.

Stand-alone (requests + urllib3, no Django), so a stream tool can copy this one file:

    client = StreamAssistantWebhookClient("http://localhost:8000", api_key="...")
    client.send_stream_stats(stream_info, event_type="stream_start")
    result = client.send_track_classification(track_data, stream_info)
    if not result.ok:
        log.warning("webhook failed: %s", result.error)

A webhook must never break the stream: every method returns a `WebhookResult` and never
raises. 5xx, 429 and network errors are retried with exponential backoff; the server
de-duplicates by each event's domain key, so a retried POST is harmless.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

PATHS = {
    "track": "/api/webhook/track-classified",
    "chat": "/api/webhook/chat-interaction",
    "stats": "/api/webhook/stream-stats",
}
STREAM_EVENTS = ("stream_start", "stream_update", "stream_end")


@dataclass(frozen=True)
class WebhookResult:
    ok: bool
    status_code: int | None = None
    body: Any = None
    error: str | None = None
    skipped: bool = False  # the client is disabled: nothing was sent

    def __bool__(self) -> bool:
        return self.ok


def iso_timestamp(moment: datetime | None = None) -> str:
    """ISO 8601 UTC with milliseconds and `Z` (the assistant's `timestamp`); now by default."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


DJ_STREAM_FIELDS = ("twitch_username", "stream_title", "viewer_count", "platform")


def dj_stream(stream_info: dict | None) -> dict:
    """The assistant's `dj_stream` object from the caller's stream info.

    Only what the caller said is sent (a missing viewer count is not "0 viewers"); the platform
    is Twitch unless told otherwise, as the guide's assistant is a Twitch bot.
    """
    info = {name: value for name, value in (stream_info or {}).items()
            if name in DJ_STREAM_FIELDS and value is not None}
    return {"platform": "twitch", **info}


def _failure(exc: Exception) -> str:
    """One short line: requests' "Max retries exceeded ... (Caused by ...: [Errno 111] Connection
    refused)" becomes "ConnectionError: Connection refused"."""
    text = str(exc)
    errno = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if errno:
        text = errno.group(1).strip()
    elif isinstance(exc, requests.Timeout):
        text = "timed out"
    return f"{type(exc).__name__}: {text[:300]}"


def _reason(body: Any) -> str:
    """The server's own words for a refusal: its `message` (and `errors`) when it sent JSON."""
    if isinstance(body, dict) and body.get("message"):
        errors = body.get("errors")
        return str(body["message"]) + (f" {errors}" if errors else "")
    text = str(body)
    title = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)  # an HTML error page
    text = title.group(1) if title else text
    return " ".join(text.split())[:300]


class StreamAssistantWebhookClient:
    """One HTTP session to a Streamhook (or the guide's own) server for one stream session."""

    def __init__(
        self, base_url: str, api_key: str | None = None, timeout: float = 5, enabled: bool = True, *,
        session_id: str | None = None, retries: int = 3, backoff_factor: float = 0.5,
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.enabled = enabled
        self.session_id = session_id or str(uuid.uuid4())
        self.http = requests.Session()
        retry = Retry(
            total=retries, connect=retries, read=retries, status=retries, backoff_factor=backoff_factor,
            status_forcelist=(429, 500, 502, 503, 504), allowed_methods=frozenset({"POST"}),
            raise_on_status=False, respect_retry_after_header=True,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)
        self.http.headers.update({"Content-Type": "application/json", "User-Agent": "streamhook-stream-assistant/1"})
        if api_key:
            self.http.headers["Authorization"] = f"Bearer {api_key}"

    # --- the assistant's three calls -------------------------------------------------

    def send_track_classification(self, track_data: dict, stream_info: dict | None = None, *,
                                  timestamp: str | None = None) -> WebhookResult:
        """`track_start`: `track_data` has artist, title, optional bpm and key, and `classification`."""
        return self._post("track", "track_start", stream_info, timestamp, track_data=track_data)

    def send_chat_interaction(self, chat_interaction: dict, stream_info: dict | None = None, *,
                              timestamp: str | None = None) -> WebhookResult:
        """`chat_message`: message_sent, engagement_type, audience_reaction, response_count, emoji_reactions."""
        return self._post("chat", "chat_message", stream_info, timestamp, chat_interaction=chat_interaction)

    def send_stream_stats(self, stream_info: dict | None = None, event_type: str = "stream_update", *,
                          timestamp: str | None = None) -> WebhookResult:
        """`stream_start`, `stream_update` or `stream_end`, with the current viewer count and title."""
        if event_type not in STREAM_EVENTS:
            return WebhookResult(ok=False, error=f"event_type must be one of {', '.join(STREAM_EVENTS)}")
        return self._post("stats", event_type, stream_info, timestamp)

    # --- plumbing ----------------------------------------------------------------------

    def _post(self, kind: str, event_type: str, stream_info: dict | None, timestamp: str | None,
              **content) -> WebhookResult:
        if not self.enabled:
            return WebhookResult(ok=True, skipped=True)
        try:  # the stream goes on whatever the caller passed or the network does
            payload = {"timestamp": timestamp or iso_timestamp(), "dj_stream": dj_stream(stream_info), **content,
                       "session_id": self.session_id, "event_type": event_type}
            response = self.http.post(self.base_url + PATHS[kind], json=payload, timeout=self.timeout,
                                      allow_redirects=False)
        except Exception as exc:
            return WebhookResult(ok=False, error=_failure(exc))
        try:
            body = response.json()
        except ValueError:
            body = response.text[:1000]
        ok = 200 <= response.status_code < 300
        return WebhookResult(ok=ok, status_code=response.status_code, body=body,
                             error=None if ok else f"HTTP {response.status_code}: {_reason(body)}")

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "StreamAssistantWebhookClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
