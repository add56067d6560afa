"""Builders for inbound tests: sources with keys, signed requests."""

import hashlib
import hmac
import json
import time

from webhooks.inbound.services import source_create
from webhooks.signing import sign_standard

REALCAST_SECRET = "rc-secret-0123456789"


def make_source(tenant, kind="recorder", name="test source", **kwargs):
    """(source, key)"""
    return source_create(tenant=tenant, name=name, kind=kind, **kwargs)


def body_of(payload) -> bytes:
    return payload if isinstance(payload, bytes) else json.dumps(payload).encode()


def hmac_hex_header(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_headers(secret: str, body: bytes, msg_id: str = "msg_1", timestamp: int | None = None) -> dict:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "HTTP_WEBHOOK_ID": msg_id,
        "HTTP_WEBHOOK_TIMESTAMP": str(ts),
        "HTTP_WEBHOOK_SIGNATURE": sign_standard(secret, msg_id, ts, body),
    }
