"""Schemathesis hooks for `test_schemathesis.py`: RealCast's requests are signed like RealCast signs them.

A RealCast source is authenticated by `X-RealCast-Signature` over the raw body alone. Where a
generated request carries that header, its value is replaced with the real signature of the body
requests will send (`json.dumps` of it), so the fuzzer reaches the handler, not only the check;
requests generated without it still test the refusal.
"""

import hashlib
import hmac
import json
import os

import schemathesis


@schemathesis.hook
def before_call(context, case, kwargs) -> None:
    if not case.path.startswith("/webhooks/realcast/") or not case.headers:
        return
    name = next((key for key in case.headers if key.lower() == "x-realcast-signature"), None)
    if name is None or (case.media_type or "").split(";")[0] != "application/json":
        return
    try:
        body = json.dumps(case.body).encode()
    except (TypeError, ValueError):
        return
    secret = os.environ["STREAMHOOK_REALCAST_SECRET"].encode()
    case.headers[name] = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
