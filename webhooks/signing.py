"""Envelopes and signatures of outbound webhooks (docs/webhooks.md, sections 3 and 4).

Two schemes:
- `standard`: Standard Webhooks. `webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{ts}.{body}")>`,
  the key being the base64 part of a `whsec_` secret. During a rotation both the new and the
  old signature are sent, space-separated, as the spec allows.
- `hmac-sha256-hex`: `<Header>: sha256=<hex HMAC-SHA256(secret, body)>`, keyed with the secret
  string's UTF-8 bytes exactly as shown (RealCast's receivers do `secret.encode()`).

Bodies are compact JSON written so that JavaScript's `JSON.stringify(JSON.parse(body))`
gives the same bytes back: RealCast's Node receiver signs its re-serialisation, not the raw body.
"""

import base64
import hashlib
import hmac
import json
import os
import uuid
from datetime import datetime
from decimal import Decimal

from core.eventtime import format_timestamp

SECRET_PREFIX = "whsec_"
STANDARD = "standard"
HMAC_SHA256_HEX = "hmac-sha256-hex"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(os.urandom(32)).decode()


def _standard_key(secret: str) -> bytes:
    raw = secret[len(SECRET_PREFIX):] if secret.startswith(SECRET_PREFIX) else secret
    return base64.b64decode(raw)


def envelope(*, event_type: str, created_at: datetime, data: dict, style: str = "standard") -> dict:
    """The delivered body. `event` names the key RealCast-style receivers switch on; `underscore` writes
    `audio_level` for `audio.level`, the names the audio frontend was written against."""
    key = "event" if style == "event" else "type"
    name = event_type.replace(".", "_") if style == "underscore" else event_type
    return {key: name, "timestamp": format_timestamp(created_at), "data": data}


def encode_body(payload) -> bytes:
    """Compact JSON, non-ASCII kept, numbers written the way JavaScript writes them."""
    markers: dict[str, str] = {}
    text = json.dumps(_js_numbers(payload, markers), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    for marker, number in markers.items():
        text = text.replace(f'"{marker}"', number)
    return text.encode()


def _js_numbers(value, markers: dict[str, str]):
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        return _js_float(value, markers)
    if isinstance(value, int) and abs(value) >= 2**53:
        # JSON.parse turns it into a double; write what JSON.stringify writes back for it.
        return _js_float(float(value), markers)
    if isinstance(value, dict):
        return {str(k): _js_numbers(v, markers) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_js_numbers(v, markers) for v in value]
    return value


def _js_float(value: float, markers: dict[str, str]):
    if value != value or value in (float("inf"), float("-inf")):
        return None  # JSON.stringify(NaN) is null
    if value.is_integer() and abs(value) < 1e21:
        return int(value)  # JS prints 120.0 as 120
    text = repr(value)
    if "e" in text:
        if 1e-6 <= abs(value) < 1e21:  # JS writes exponents only outside this range
            text = format(Decimal(text), "f")
        else:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}e{int(exponent):+d}"
        marker = f"__jsnum_{uuid.uuid4().hex}__"
        markers[marker] = text
        return marker
    return value


def standard_digest(key: bytes, msg_id: str, timestamp: int | str, body: bytes) -> bytes:
    """The Standard Webhooks HMAC, shared by what we send and what the senders' messages are checked with."""
    return hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()


def sign_standard(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    return "v1," + base64.b64encode(standard_digest(_standard_key(secret), msg_id, timestamp, body)).decode()


def hmac_hex(secret: str, body: bytes) -> str:
    """HMAC-SHA256 of the body alone, hex: RealCast's scheme, keyed with the secret string's UTF-8 bytes
    exactly as shown to the sender. Shared by what we send and what RealCast's messages are checked with."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign_hmac_hex(secret: str, body: bytes) -> str:
    return "sha256=" + hmac_hex(secret, body)


def signature_headers(
    *, scheme: str, secrets: list[str], msg_id: str, timestamp: int, body: bytes,
    header: str = "X-Webhook-Signature",
) -> dict[str, str]:
    """The headers that authenticate `body`. `secrets[0]` is current; others are still honoured."""
    if scheme == HMAC_SHA256_HEX:
        headers = {
            header: sign_hmac_hex(secrets[0], body),
            "X-Webhook-Id": msg_id,
            "X-Webhook-Timestamp": str(timestamp),
        }
        # RealCast-style receivers de-duplicate on `X-<Vendor>-Webhook-Id` beside `X-<Vendor>-Signature`.
        if header.lower().endswith("-signature") and header.lower() != "x-webhook-signature":
            headers[header[: -len("-signature")] + "-Webhook-Id"] = msg_id
        return headers
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign_standard(s, msg_id, timestamp, body) for s in secrets),
    }


SIGNATURE_HEADER_NAMES = {"webhook-signature", "x-webhook-signature"}


# What the delivery writes itself, shown as sent. Any other header is an endpoint's custom one (an
# `Authorization`, an API key): its value is a credential of the receiver's and is never logged.
OWN_HEADER_NAMES = {"content-type", "user-agent", "webhook-id", "webhook-timestamp", "x-webhook-id",
                    "x-webhook-timestamp"}
HIDDEN_VALUE = "[hidden]"


def redact_headers(headers: dict[str, str], signature_header: str = "") -> dict[str, str]:
    """Headers fit for an attempt log: signatures shortened so they can't be replayed from the admin,
    custom headers' values hidden."""
    shortened = SIGNATURE_HEADER_NAMES | {signature_header.lower()}
    vendor_id = signature_header.lower().removesuffix("-signature") + "-webhook-id"

    def shown(name: str, value: str) -> str:
        lower = name.lower()
        if lower in shortened:
            return value[:12] + "…"
        if lower in OWN_HEADER_NAMES or lower == vendor_id:
            return value
        return HIDDEN_VALUE

    return {k: shown(k, v) for k, v in headers.items()}
