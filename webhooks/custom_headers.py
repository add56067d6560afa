"""Custom request headers per endpoint (`headers`): which ones an integrator may set.

A receiver may want an `Authorization` or routing header of its own. What it may not do is
write a header the delivery itself writes or the HTTP connection owns: a custom
`webhook-signature` would let a wrong value sit beside (or replace) the real one, and a custom
`Content-Length` or `Transfer-Encoding` would corrupt the request. Those are refused when the
endpoint is saved, against the signature header it uses then.
"""

import re

MAX_HEADERS = 20
MAX_VALUE_LENGTH = 1000
# RFC 9110 field name (a token); used with fullmatch, so no trailing newline gets through.
NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}")
# Visible ASCII with spaces and tabs: no CR, LF or NUL (header injection), nothing a client must encode.
VALUE = re.compile(r"[\t\x20-\x7e]*")

OWNED_BY_HTTP = {"host", "content-length", "content-type", "user-agent", "expect", "date"}
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
              "trailer", "trailers", "transfer-encoding", "upgrade"}
# Written by one signature scheme or the other (webhooks/signing.py), whichever the endpoint uses now.
SIGNATURE_HEADERS = {"x-webhook-signature", "x-webhook-id", "x-webhook-timestamp"}


def reserved_reason(name: str, *, signature_header: str) -> str | None:
    """Why `name` can't be a custom header, or None when it can."""
    lower = name.lower()
    vendor_id = signature_header.lower().removesuffix("-signature") + "-webhook-id"
    if lower.startswith("webhook-") or lower in SIGNATURE_HEADERS or lower in (signature_header.lower(), vendor_id) \
            or lower.endswith("-signature"):
        return "is a signature header, written by the delivery itself"
    if lower in OWNED_BY_HTTP:
        return "is written by the delivery itself"
    if lower in HOP_BY_HOP:
        return "is a hop-by-hop header, owned by the connection"
    return None


def headers_problems(headers, *, signature_header: str) -> list[str]:
    """What is wrong with `headers` ({name: value}); each message names the header."""
    if not isinstance(headers, dict):
        return ["Must be an object of header names to string values."]
    if len(headers) > MAX_HEADERS:
        return [f"At most {MAX_HEADERS} custom headers."]
    problems, seen = [], set()
    for name, value in headers.items():
        if not NAME.fullmatch(name):
            problems.append(f"{name!r} is not a valid HTTP header name.")
            continue
        if name.lower() in seen:
            problems.append(f"{name} is given twice (header names are case-insensitive).")
        seen.add(name.lower())
        reason = reserved_reason(name, signature_header=signature_header)
        if reason:
            problems.append(f"{name} {reason}; choose another header.")
        elif not isinstance(value, str):
            problems.append(f"{name}: the value must be a string.")
        elif len(value) > MAX_VALUE_LENGTH or not VALUE.fullmatch(value):
            problems.append(f"{name}: the value must be at most {MAX_VALUE_LENGTH} characters of text, "
                            "without line breaks or control characters.")
    return problems
