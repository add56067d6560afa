"""`webhooks/verify.py`, the receiver-side helper integrators copy: both schemes, every refusal reason."""

import ast
import base64
import hashlib
import hmac
import time
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from webhooks import signing
from webhooks.verify import WebhookVerificationError, verify, verify_hmac_sha256_hex, verify_standard

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
OLD_SECRET = "whsec_" + base64.b64encode(b"o" * 32).decode()
BODY = '{"type":"stream.live","timestamp":"2026-11-22T10:00:00.123Z","data":{"title":"Ünïcode ♫"}}'.encode()
NOW = 1_795_000_000


def standard_headers(secrets=(SECRET,), msg_id="msg_1", ts=NOW, body=BODY):
    return signing.signature_headers(scheme="standard", secrets=list(secrets), msg_id=msg_id, timestamp=ts, body=body)


def test_module_imports_nothing_but_the_standard_library():
    tree = ast.parse(Path(__file__).resolve().parents[1].joinpath("verify.py").read_text())
    modules = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert modules <= {"__future__", "base64", "binascii", "hashlib", "hmac", "json", "time", "collections"}


def test_standard_accepts_our_signature_and_returns_the_payload():
    payload = verify_standard(SECRET, standard_headers(), BODY, now=NOW)
    assert payload["data"]["title"] == "Ünïcode ♫"


def test_standard_accepts_a_signature_made_by_the_official_library():
    headers = {"webhook-id": "msg_x", "webhook-timestamp": str(NOW)}
    from datetime import UTC, datetime

    headers["webhook-signature"] = Webhook(SECRET).sign("msg_x", datetime.fromtimestamp(NOW, UTC), BODY.decode())
    assert verify_standard(SECRET, headers, BODY, now=NOW)["type"] == "stream.live"


def test_standard_headers_are_case_insensitive_and_body_may_be_str():
    headers = {k.upper(): v for k, v in standard_headers().items()}
    assert verify_standard(SECRET, headers, BODY.decode(), now=NOW)["type"] == "stream.live"


def test_during_rotation_either_secret_verifies():
    headers = standard_headers(secrets=(SECRET, OLD_SECRET))
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert verify_standard(SECRET, headers, BODY, now=NOW)
    assert verify_standard(OLD_SECRET, headers, BODY, now=NOW)


@pytest.mark.parametrize("skew, reason", [(-301, "too old"), (301, "too new")])
def test_standard_refuses_timestamps_outside_the_tolerance_both_ways(skew, reason):
    headers = standard_headers(ts=NOW + skew)
    with pytest.raises(WebhookVerificationError, match=reason):
        verify_standard(SECRET, headers, BODY, now=NOW)
    assert verify_standard(SECRET, standard_headers(ts=NOW + skew), BODY, now=NOW, tolerance=400)


def test_standard_uses_the_clock_when_now_is_not_given():
    assert verify_standard(SECRET, standard_headers(ts=int(time.time())), BODY)


@pytest.mark.parametrize("change", ["body", "id", "timestamp", "secret"])
def test_standard_refuses_any_tampering(change):
    headers, body, secret = standard_headers(), BODY, SECRET
    if change == "body":
        body = BODY.replace(b"live", b"dead")
    elif change == "id":
        headers["webhook-id"] = "msg_2"
    elif change == "timestamp":
        headers["webhook-timestamp"] = str(NOW + 1)
    else:
        secret = OLD_SECRET
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify_standard(secret, headers, body, now=NOW)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_standard_names_a_missing_header(missing):
    headers = standard_headers()
    del headers[missing]
    with pytest.raises(WebhookVerificationError, match=missing):
        verify_standard(SECRET, headers, BODY, now=NOW)


def test_standard_refuses_other_signature_versions_and_garbage():
    good = standard_headers()["webhook-signature"]
    for bad in ["v2," + good[3:], "v1", "garbage", "v1,", "v1a," + good[3:]]:
        with pytest.raises(WebhookVerificationError):
            verify_standard(SECRET, {**standard_headers(), "webhook-signature": bad}, BODY, now=NOW)
    with pytest.raises(WebhookVerificationError, match="unix timestamp"):
        verify_standard(SECRET, {**standard_headers(), "webhook-timestamp": "yesterday"}, BODY, now=NOW)


def test_standard_refuses_a_malformed_secret_with_a_reason():
    with pytest.raises(WebhookVerificationError, match="secret"):
        verify_standard("whsec_not base64!", standard_headers(), BODY, now=NOW)


def test_standard_refuses_a_signed_body_that_is_not_json():
    headers = standard_headers(body=b"not json")
    with pytest.raises(WebhookVerificationError, match="not JSON"):
        verify_standard(SECRET, headers, b"not json", now=NOW)


def test_hmac_hex_accepts_the_signature_realcast_computes():
    secret = "whsec_shown-to-the-subscriber"
    signature = "sha256=" + hmac.new(secret.encode(), BODY, hashlib.sha256).hexdigest()
    assert signature == signing.sign_hmac_hex(secret, BODY)
    assert verify_hmac_sha256_hex(secret, signature, BODY)["type"] == "stream.live"


def test_hmac_hex_refuses_missing_wrong_and_tampered():
    secret = "s3cret"
    signature = signing.sign_hmac_hex(secret, BODY)
    with pytest.raises(WebhookVerificationError, match="missing"):
        verify_hmac_sha256_hex(secret, None, BODY)
    with pytest.raises(WebhookVerificationError, match="mismatch"):
        verify_hmac_sha256_hex("other", signature, BODY)
    with pytest.raises(WebhookVerificationError, match="mismatch"):
        verify_hmac_sha256_hex(secret, signature, BODY + b" ")
    with pytest.raises(WebhookVerificationError, match="mismatch"):
        verify_hmac_sha256_hex(secret, signature.removeprefix("sha256="), BODY)


def test_dispatcher_picks_the_scheme_and_the_header():
    secret = "s3cret"
    headers = signing.signature_headers(scheme="hmac-sha256-hex", secrets=[secret], msg_id="msg_1", timestamp=NOW,
                                        body=BODY, header="X-RealCast-Signature")
    assert verify(secret, headers, BODY, scheme="hmac-sha256-hex", signature_header="x-realcast-signature")
    assert verify(SECRET, standard_headers(), BODY, now=NOW)
    with pytest.raises(WebhookVerificationError):
        verify(secret, headers, BODY, scheme="hmac-sha256-hex")  # looks in X-Webhook-Signature: absent
    with pytest.raises(ValueError, match="scheme"):
        verify(secret, headers, BODY, scheme="md5")
