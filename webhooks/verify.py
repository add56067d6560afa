"""Verify Streamhook webhooks in your receiver. Standard library only: copy this file into your project.

    from verify import verify, WebhookVerificationError

    try:
        payload = verify(secret, request.headers, request.body)   # raw body bytes, never re-serialised JSON
    except WebhookVerificationError as exc:
        return 401, str(exc)

Two schemes, as configured on the endpoint:

- `standard` (Standard Webhooks): headers `webhook-id`, `webhook-timestamp`, `webhook-signature`
  (`v1,<base64>` entries separated by spaces: during a secret rotation there are two). The signed
  content is `{id}.{timestamp}.{body}`, keyed with the base64-decoded part of the `whsec_` secret.
  The timestamp must be within `tolerance` seconds of now, in either direction (replay protection).
- `hmac-sha256-hex`: one header (e.g. `X-RealCast-Signature`) holding `sha256=<hex HMAC-SHA256>` of the
  body, keyed with the secret string's UTF-8 bytes exactly as shown. Only the body is signed, so there
  is no timestamp to check: de-duplicate on `X-Webhook-Id` to refuse replays.

Every comparison is constant-time. Failures raise `WebhookVerificationError` with the reason.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping

__all__ = ["WebhookVerificationError", "verify", "verify_hmac_sha256_hex", "verify_standard"]

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE = 300  # seconds, both into the past and into the future


class WebhookVerificationError(Exception):
    """The request is not an authentic, fresh webhook; `str(exc)` says why."""


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup over any mapping (dict, Django/Flask/Starlette headers)."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for key, candidate in headers.items():
            if key.lower() == lowered:
                return candidate
    return value


def _as_bytes(body: bytes | bytearray | str) -> bytes:
    if isinstance(body, str):
        return body.encode("utf-8")
    return bytes(body)


def _parse(body: bytes) -> dict:
    try:
        return json.loads(body)
    except ValueError as exc:
        raise WebhookVerificationError(f"body is not JSON: {exc}") from None


def _standard_key(secret: str | bytes) -> bytes:
    if isinstance(secret, bytes):
        return secret
    raw = secret[len(SECRET_PREFIX):] if secret.startswith(SECRET_PREFIX) else secret
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError("secret is not a valid whsec_ (base64) secret") from None


def verify_standard(
    secret: str | bytes,
    headers: Mapping[str, str],
    body: bytes | str,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> dict:
    """Check a Standard Webhooks delivery and return its parsed JSON payload."""
    msg_id = _header(headers, "webhook-id")
    timestamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    missing = [n for n, v in (("webhook-id", msg_id), ("webhook-timestamp", timestamp),
                              ("webhook-signature", signatures)) if not v]
    if missing:
        raise WebhookVerificationError(f"missing header(s): {', '.join(missing)}")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not a unix timestamp") from None
    current = time.time() if now is None else now
    if sent_at < current - tolerance:
        raise WebhookVerificationError("message timestamp too old")
    if sent_at > current + tolerance:
        raise WebhookVerificationError("message timestamp too new")

    body = _as_bytes(body)
    expected = hmac.new(_standard_key(secret), f"{msg_id}.{sent_at}.".encode() + body, hashlib.sha256).digest()
    expected_b64 = base64.b64encode(expected).decode()
    for entry in signatures.split(" "):
        version, _, value = entry.partition(",")
        # Compare every v1 entry: the one matching our secret may be the new or the old one.
        if version == "v1" and hmac.compare_digest(value.encode(), expected_b64.encode()):
            return _parse(body)
    raise WebhookVerificationError("no matching signature (wrong secret, or the body was modified)")


def verify_hmac_sha256_hex(secret: str, signature_header_value: str | None, body: bytes | str) -> dict:
    """Check a `sha256=<hex>` signature over the raw body and return the parsed JSON payload."""
    if not signature_header_value:
        raise WebhookVerificationError("missing signature header")
    body = _as_bytes(body)
    expected = "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature_header_value.strip().encode(), expected.encode()):
        raise WebhookVerificationError("signature mismatch (wrong secret, or the body was modified)")
    return _parse(body)


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    scheme: str = "standard",
    signature_header: str = "X-Webhook-Signature",
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> dict:
    """Verify with the endpoint's scheme (`standard` or `hmac-sha256-hex`)."""
    if scheme == "standard":
        return verify_standard(secret, headers, body, tolerance=tolerance, now=now)
    if scheme == "hmac-sha256-hex":
        return verify_hmac_sha256_hex(secret, _header(headers, signature_header), body)
    raise ValueError(f"unknown signature scheme {scheme!r}")
