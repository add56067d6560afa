"""Checking that a request comes from a source: its key, and its signature over the raw body.

Every comparison is constant-time (`hmac.compare_digest`), and every candidate secret is tried
even after a match, so timing says nothing about which secret (or how much of one) matched.
"""

import base64
import binascii
import hmac
import re
import time

from webhooks.signing import SECRET_PREFIX, hmac_hex, standard_digest


class VerificationFailed(Exception):
    """The request is not authentic (401). `reason` is safe to show the sender."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _standard_key(secret: str) -> bytes | None:
    raw = secret[len(SECRET_PREFIX):] if secret.startswith(SECRET_PREFIX) else secret
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return None


MIN_STANDARD_KEY_BYTES = 16
REALCAST_NEEDS_SECRET = ("A RealCast source is authenticated by its signature alone: "
                         "set the signing secret from RealCast's dashboard.")
# RFC 9110 token characters, less "_": WSGI servers drop or merge headers with underscores.
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^`|~-]{1,100}$")
# The sender's message id, first present wins (RealCast, Standard Webhooks, ours, generic).
MESSAGE_ID_HEADERS = ("X-RealCast-Webhook-Id", "webhook-id", "X-Webhook-Id", "Idempotency-Key")
# Headers that carry something else: a signature header among them would hide it or be read as it.
_RESERVED_HEADERS = {"authorization", "x-api-key", "content-type", "content-length", "host", "cookie",
                     "transfer-encoding", "webhook-timestamp", "x-webhook-timestamp",
                     *(name.lower() for name in MESSAGE_ID_HEADERS)}


def signing_secret_problem(scheme: str, secret: str) -> str | None:
    """Why `secret` can't sign under `scheme` (shown to whoever sets it), or None if it can.

    Caught when the secret is set: otherwise a source would accept it and then refuse every request.
    """
    if scheme == "standard":
        key = _standard_key(secret)
        if key is None:
            return f"The standard scheme needs a {SECRET_PREFIX}<base64> secret (or plain base64)."
        if len(key) < MIN_STANDARD_KEY_BYTES:
            return f"The standard scheme needs a key of at least {MIN_STANDARD_KEY_BYTES} bytes."
    return None


def signature_header_problem(name: str) -> str | None:
    """Why `name` can't be a signature header, or None if it can."""
    if not _HEADER_NAME.match(name):
        return "Not an HTTP header name: letters, digits and '-' only (no spaces or underscores)."
    if name.lower() in _RESERVED_HEADERS:
        return f"{name} carries something else; choose another header, e.g. X-Webhook-Signature."
    return None


def standard_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> bytes | None:
    key = _standard_key(secret)
    return None if key is None else standard_digest(key, msg_id, timestamp, body)


def verify_hmac_hex(*, secrets: list[str], header_value: str | None, body: bytes) -> None:
    if not header_value:
        raise VerificationFailed("Missing signature header.")
    presented = header_value.strip()
    if presented.lower().startswith("sha256="):
        presented = presented[len("sha256="):]
    presented_bytes = presented.lower().encode("ascii", "replace")
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(hmac_hex(secret, body).encode(), presented_bytes)
    if not matched:
        raise VerificationFailed("Invalid signature.")


def verify_standard(
    *, secrets: list[str], msg_id: str | None, timestamp: str | None, signature: str | None, body: bytes,
    tolerance: int, now: float | None = None,
) -> None:
    """Standard Webhooks: `v1,<base64>` entries (space-separated) over "{id}.{timestamp}.{body}"."""
    if not (msg_id and timestamp and signature):
        raise VerificationFailed("Missing webhook-id, webhook-timestamp or webhook-signature header.")
    # Seconds as ASCII digits only: int() would also take "+17…", "017…" and "17_96…".
    if not (timestamp.isascii() and timestamp.isdigit()) or (len(timestamp) > 1 and timestamp[0] == "0"):
        raise VerificationFailed("Invalid webhook-timestamp.")
    ts = int(timestamp)
    now = time.time() if now is None else now
    # Two-sided: a timestamp from the future is as suspicious as a stale one.
    if ts < now - tolerance:
        raise VerificationFailed("Message timestamp too old.")
    if ts > now + tolerance:
        raise VerificationFailed("Message timestamp too far in the future.")
    presented = []
    for entry in signature.split():
        version, _, value = entry.partition(",")
        if version == "v1":
            try:
                presented.append(base64.b64decode(value, validate=True))
            except (binascii.Error, ValueError):
                continue
    matched = False
    for secret in secrets:
        expected = standard_signature(secret, msg_id, timestamp, body)
        if expected is None:
            continue
        for candidate in presented:
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise VerificationFailed("Invalid signature.")
