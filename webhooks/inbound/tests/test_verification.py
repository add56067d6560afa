"""Signature checks as properties: what a sender's library signs verifies; any other byte, secret or time fails."""

import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks import Webhook

from webhooks.inbound.verification import VerificationFailed, verify_hmac_hex, verify_standard

STD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OLD_STD_SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"
NOW = 1_800_000_000
ids = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40)
bodies = st.text(max_size=200).map(str.encode)  # the library signs text; we check its UTF-8 bytes
YEARS = 10 * 365 * 86400


def official_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """What a sender using the official Standard Webhooks library sends."""
    return Webhook(secret).sign(msg_id, datetime.fromtimestamp(timestamp, UTC), body.decode())


@settings(max_examples=150, deadline=None)
@given(msg_id=ids, body=bodies, skew=st.integers(min_value=-300, max_value=300))
def test_official_library_signatures_verify_within_the_window(msg_id, body, skew):
    signature = official_signature(STD_SECRET, msg_id, NOW + skew, body)
    verify_standard(secrets=[STD_SECRET], msg_id=msg_id, timestamp=str(NOW + skew), signature=signature,
                    body=body, tolerance=300, now=NOW)


@settings(max_examples=150, deadline=None)
@given(msg_id=ids, body=bodies, skew=st.one_of(st.integers(-YEARS, -301), st.integers(301, YEARS)))
def test_outside_the_window_either_way_fails(msg_id, body, skew):
    signature = official_signature(STD_SECRET, msg_id, NOW + skew, body)
    with pytest.raises(VerificationFailed, match="too old" if skew < 0 else "future"):
        verify_standard(secrets=[STD_SECRET], msg_id=msg_id, timestamp=str(NOW + skew), signature=signature,
                        body=body, tolerance=300, now=NOW)


@settings(max_examples=200, deadline=None)
@given(msg_id=ids, body=bodies.filter(bool), data=st.data())
def test_any_changed_byte_or_id_fails(msg_id, body, data):
    signature = official_signature(STD_SECRET, msg_id, NOW, body)
    index = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
    flipped = body[:index] + bytes([body[index] ^ data.draw(st.integers(1, 255))]) + body[index + 1:]
    with pytest.raises(VerificationFailed):
        verify_standard(secrets=[STD_SECRET], msg_id=msg_id, timestamp=str(NOW), signature=signature,
                        body=flipped, tolerance=300, now=NOW)
    with pytest.raises(VerificationFailed):
        verify_standard(secrets=[STD_SECRET], msg_id=msg_id + "x", timestamp=str(NOW), signature=signature,
                        body=body, tolerance=300, now=NOW)


def test_rotation_accepts_either_secret_and_a_space_separated_pair():
    body = b'{"recording_id": 3}'
    old = official_signature(OLD_STD_SECRET, "m1", NOW, body)
    new = official_signature(STD_SECRET, "m1", NOW, body)
    for signature in (old, new, f"{old} {new}", f"v2,abc {new}"):
        verify_standard(secrets=[STD_SECRET, OLD_STD_SECRET], msg_id="m1", timestamp=str(NOW), signature=signature,
                        body=body, tolerance=300, now=NOW)
    with pytest.raises(VerificationFailed):
        verify_standard(secrets=[STD_SECRET], msg_id="m1", timestamp=str(NOW), signature=old, body=body,
                        tolerance=300, now=NOW)


@settings(max_examples=200, deadline=None)
@given(secret=st.text(min_size=8, max_size=40), body=st.binary(max_size=300),
       prefix=st.sampled_from(["sha256=", "SHA256=", ""]))
def test_hex_scheme_accepts_realcasts_signature_and_nothing_else(secret, body, prefix):
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    verify_hmac_hex(secrets=["another-secret", secret], header_value=prefix + digest, body=body)
    verify_hmac_hex(secrets=[secret], header_value=f" {prefix}{digest.upper()} ", body=body)  # hex is case-free
    with pytest.raises(VerificationFailed):
        verify_hmac_hex(secrets=[secret], header_value=prefix + digest, body=body + b"\n")
    with pytest.raises(VerificationFailed):
        verify_hmac_hex(secrets=[secret + "x"], header_value=prefix + digest, body=body)
    with pytest.raises(VerificationFailed):
        verify_hmac_hex(secrets=[secret], header_value=prefix + digest[:-1], body=body)
