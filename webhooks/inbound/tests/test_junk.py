"""Junk at every inbound path: nothing answers 5xx, nothing is stored or changed that shouldn't be."""

import io
import json
import time

import pytest
from django.test import RequestFactory

from recordings.models import Recording
from recordings.tests.factories import RECORDER_CURL_EXAMPLE, add_member
from webhooks.inbound.models import InboundMessage
from webhooks.inbound.tests import urls as _test_urls  # noqa: F401  (registers tests.echo for direct view calls)
from webhooks.inbound.tests.factories import (
    REALCAST_SECRET,
    body_of,
    hmac_hex_header,
    make_source,
    standard_headers,
)
from webhooks.inbound.views import InboundView
from webhooks.models import Event
from webhooks.signing import sign_standard

pytestmark = [pytest.mark.django_db, pytest.mark.urls("webhooks.inbound.tests.urls")]

REC = "/recordings/webhook/"
MIB = 1024 * 1024


@pytest.fixture
def key(tenant):
    add_member(tenant, "souvik@fyelabs.com")
    return make_source(tenant, kind="recorder")[1]


def post(client, url, body, **headers):
    return client.generic("POST", url, body, content_type="application/json", **headers)


JUNK = [
    (b"", "empty"),
    (b"   ", "empty"),
    (b"{not json", "not valid JSON"),
    (b"[1, 2, 3]", "must be an object"),
    (b'"text"', "must be an object"),
    (b"null", "must be an object"),
    (b"\xff\xfe\x00garbage", "UTF-8"),
    (b'{"recording_id": NaN}', "not valid JSON"),
    (b'{"title": "a\\u0000b", "recording_id": 1}', "NUL"),
    (b"[" * 100000 + b"]" * 100000, "JSON"),
    (b'{"recording_id": 1' + b"1" * 5000 + b"}", "JSON"),
]


@pytest.mark.parametrize(("body", "reason"), JUNK)
@pytest.mark.parametrize("url", [REC, "/t/sync", "/t/async"])
def test_junk_bodies_are_400_and_kept_as_failed(client, key, url, body, reason):
    response = post(client, url, body, HTTP_X_API_KEY=key)
    assert response.status_code == 400, response.content
    assert response.json()["status"] == "error"
    assert reason.lower() in response.json()["message"].lower()
    message = InboundMessage.objects.get()
    assert message.status == "failed" and bytes(message.body) == body  # authenticated: the raw bytes are kept
    assert not Recording.objects.exists()


@pytest.mark.parametrize("url", [REC, "/t/sync", "/t/async"])
def test_ten_mib_body_is_413_before_reading(client, key, url):
    response = post(client, url, b"x" * (10 * MIB), HTTP_X_API_KEY=key)
    assert response.status_code == 413
    assert not InboundMessage.objects.exists()


def test_413_comes_before_authentication(client):
    response = post(client, REC, b"x" * (2 * MIB))
    assert response.status_code == 413


def test_body_at_the_limit_is_read(client, key, settings):
    settings.WEBHOOKS_INBOUND_MAX_BODY = 100
    body = json.dumps({"recording_id": 1, "pad": "x" * 60}).encode()
    assert len(body) <= 100
    assert post(client, REC, body, HTTP_X_API_KEY=key).status_code == 400  # read, parsed, missing user_info
    assert post(client, REC, body + b" " * 100, HTTP_X_API_KEY=key).status_code == 413


def _chunked_request(body: bytes, key: str):
    request = RequestFactory().generic("POST", "/t/sync", body, content_type="application/json", HTTP_X_API_KEY=key)
    del request.META["CONTENT_LENGTH"]  # what gunicorn hands over for `Transfer-Encoding: chunked`
    request.META["wsgi.input"] = io.BytesIO(body)  # a decoded chunked stream: read() returns b"" at its end
    request.META["wsgi.input_terminated"] = True
    request.META["HTTP_TRANSFER_ENCODING"] = "chunked"
    return request


def test_chunked_body_over_the_cap_is_413_while_reading(key):
    view = InboundView.as_view(handler="tests.echo", kinds={"recorder"})
    assert view(_chunked_request(b"x" * (3 * MIB), key)).status_code == 413
    assert not InboundMessage.objects.exists()
    ok = view(_chunked_request(b'{"chunked": true}', key))
    assert ok.status_code == 201
    assert bytes(InboundMessage.objects.get().body) == b'{"chunked": true}'


@pytest.mark.parametrize("length", ["lots", "-5", "1_0", " 2", "²"])
def test_invalid_content_length_is_400(key, length):
    request = RequestFactory().generic("POST", "/t/sync", b"{}", content_type="application/json", HTTP_X_API_KEY=key)
    request.META["CONTENT_LENGTH"] = length
    response = InboundView.as_view(handler="tests.echo", kinds={"recorder"})(request)
    assert response.status_code == 400 and b"Content-Length" in response.content
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize(("extra", "reason"), [(10, b"shorter than its Content-Length"), (-20, b"not valid JSON")])
def test_a_lying_content_length_is_400(key, extra, reason):
    # Longer than the body: the read comes up short. Shorter: the truncated JSON doesn't parse.
    body = json.dumps(RECORDER_CURL_EXAMPLE).encode()
    request = RequestFactory().generic("POST", "/t/sync", body, content_type="application/json", HTTP_X_API_KEY=key)
    request.META["CONTENT_LENGTH"] = str(len(body) + extra)
    response = InboundView.as_view(handler="tests.echo", kinds={"recorder"})(request)
    assert response.status_code == 400 and reason in response.content
    assert not InboundMessage.objects.filter(status="processed").exists()


@pytest.mark.parametrize("headers", [
    {}, {"HTTP_AUTHORIZATION": "Bearer nope"}, {"HTTP_X_API_KEY": "nope"}, {"HTTP_AUTHORIZATION": "Basic abc"},
    {"HTTP_AUTHORIZATION": "Bearer"}, {"HTTP_X_API_KEY": "ключ"},
])
def test_missing_or_wrong_key_is_401(client, key, headers):
    response = post(client, REC, json.dumps(RECORDER_CURL_EXAMPLE), **headers)
    assert response.status_code == 401
    assert not InboundMessage.objects.exists() and not Recording.objects.exists()


def test_revoked_source_and_inactive_tenant_are_401(client, tenant, key):
    from webhooks.inbound.models import InboundSource

    InboundSource.objects.update(is_active=False)
    assert post(client, REC, json.dumps(RECORDER_CURL_EXAMPLE), HTTP_X_API_KEY=key).status_code == 401
    InboundSource.objects.update(is_active=True)
    tenant.is_active = False
    tenant.save()
    assert post(client, REC, json.dumps(RECORDER_CURL_EXAMPLE), HTTP_X_API_KEY=key).status_code == 401


def test_get_is_405(client, key):
    assert client.get(REC, HTTP_X_API_KEY=key).status_code == 405


# --- Signatures -------------------------------------------------------------------------------


@pytest.fixture
def realcast(tenant):
    return make_source(tenant, kind="realcast", signing_secret=REALCAST_SECRET)[0]


RC_BODY = body_of({"event": "stream.live", "timestamp": "2024-12-09T10:00:00Z", "data": {"stream_id": "s"}})


def _rc(client, source_id, body=RC_BODY, signature=None, **headers):
    signature = hmac_hex_header(REALCAST_SECRET, body) if signature is None else signature
    return post(client, f"/t/realcast/{source_id}", body, HTTP_X_REALCAST_SIGNATURE=signature, **headers)


@pytest.mark.parametrize("signature", [
    "", "sha256=", "sha256=" + "0" * 64, "md5=abc", "sha256=zz", "sha256=" + "é" * 64,
])
def test_bad_realcast_signature_is_401(client, realcast, signature):
    response = _rc(client, realcast.pk, signature=signature)
    assert response.status_code == 401
    assert not InboundMessage.objects.exists()


def test_signature_over_other_bytes_is_401(client, realcast):
    reserialised = json.dumps(json.loads(RC_BODY), separators=(",", ":")).encode()
    assert _rc(client, realcast.pk, body=RC_BODY, signature=hmac_hex_header(REALCAST_SECRET, reserialised)
               ).status_code == 401


def test_unknown_and_other_tenants_source_ids_answer_alike(client, realcast, other_tenant):
    theirs = make_source(other_tenant, kind="realcast", signing_secret="their-secret-123")[0]
    answers = {
        "unknown": _rc(client, 999999),
        "not a number": _rc(client, "abc"),
        "other tenant, our secret": _rc(client, theirs.pk),
    }
    bodies = {name: (r.status_code, r.json()) for name, r in answers.items()}
    assert len({json.dumps(b) for b in bodies.values()}) == 1, bodies
    assert next(iter(bodies.values()))[0] == 401
    assert not InboundMessage.objects.exists()


def test_source_without_secret_cannot_use_signature_auth(client, tenant):
    source = make_source(tenant, kind="realcast")[0]
    assert _rc(client, source.pk).status_code == 401


def test_secret_rotation_accepts_both_then_only_the_new(client, realcast):
    from webhooks.inbound.services import source_drop_previous_secrets, source_set_signing_secret

    source_set_signing_secret(source=realcast, secret="rc-new-secret-456")
    assert _rc(client, realcast.pk, HTTP_X_REALCAST_WEBHOOK_ID="a").status_code == 200  # old
    assert _rc(client, realcast.pk, signature=hmac_hex_header("rc-new-secret-456", RC_BODY),
               HTTP_X_REALCAST_WEBHOOK_ID="b").status_code == 200
    source_drop_previous_secrets(source=realcast)
    assert _rc(client, realcast.pk, HTTP_X_REALCAST_WEBHOOK_ID="c").status_code == 401


STD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def standard_key(tenant):
    add_member(tenant, "souvik@fyelabs.com")
    return make_source(tenant, kind="recorder", signing_secret=STD_SECRET, signature_scheme="standard")[1]


# The header's timestamp is whole seconds (`int(time.time())` drops up to 1 s), so the cases stay 5 s
# from the 300 s edge: +301 was one second out, and in when a second turned between header and check.
@pytest.mark.parametrize(("offset", "ok"), [(0, True), (-295, True), (295, True), (-305, False), (305, False),
                                             (-86400, False), (86400 * 365, False)])
def test_standard_scheme_timestamp_window_is_two_sided(client, standard_key, offset, ok):
    body = json.dumps(RECORDER_CURL_EXAMPLE).encode()
    headers = standard_headers(STD_SECRET, body, msg_id=f"m{offset}", timestamp=int(time.time()) + offset)
    response = post(client, REC, body, HTTP_X_API_KEY=standard_key, **headers)
    assert response.status_code == (201 if ok else 401), response.content
    assert Recording.objects.exists() is ok


def test_standard_scheme_rejects_tampered_body_and_garbage_headers(client, standard_key):
    body = json.dumps(RECORDER_CURL_EXAMPLE).encode()
    headers = standard_headers(STD_SECRET, body)
    assert post(client, REC, body + b" ", HTTP_X_API_KEY=standard_key, **headers).status_code == 401
    for name, value in [("HTTP_WEBHOOK_TIMESTAMP", "soon"), ("HTTP_WEBHOOK_SIGNATURE", "v1,!!!"),
                        ("HTTP_WEBHOOK_SIGNATURE", "v2,abc")]:
        assert post(client, REC, body, HTTP_X_API_KEY=standard_key, **{**headers, name: value}).status_code == 401
    assert not Recording.objects.exists()


@pytest.mark.parametrize("timestamp", ["+{now}", "0{now}", "{now_}", " {now}", "{now}.0"])
def test_standard_scheme_takes_the_timestamp_only_as_plain_digits(client, standard_key, timestamp):
    """The signature covers the header's exact text; int() would read "+17…", "017…" and "17_96…" alike."""
    body = json.dumps(RECORDER_CURL_EXAMPLE).encode()
    now = str(int(time.time()))
    text = timestamp.format(now=now, now_=f"{now[:4]}_{now[4:]}")
    headers = standard_headers(STD_SECRET, body, msg_id="m-ts")
    headers["HTTP_WEBHOOK_TIMESTAMP"] = text
    headers["HTTP_WEBHOOK_SIGNATURE"] = sign_standard(STD_SECRET, "m-ts", text, body)  # valid for that text
    response = post(client, REC, body, HTTP_X_API_KEY=standard_key, **headers)
    assert response.status_code == 401 and "webhook-timestamp" in response.json()["message"]


def test_a_signed_message_keeps_its_signed_id_whatever_other_id_header_comes_with_it(client, standard_key):
    """Replaying the signed bytes beside an unsigned `X-RealCast-Webhook-Id` once made a new message."""
    body = json.dumps(RECORDER_CURL_EXAMPLE).encode()
    headers = standard_headers(STD_SECRET, body, msg_id="msg_signed")
    first = post(client, REC, body, HTTP_X_API_KEY=standard_key, **headers)
    replay = post(client, REC, body, HTTP_X_API_KEY=standard_key, HTTP_X_REALCAST_WEBHOOK_ID="evil-1", **headers)
    assert first.status_code == replay.status_code == 201 and replay.json() == first.json()
    assert list(InboundMessage.objects.order_by("pk").values_list("message_id", "status")) == [
        ("msg_signed", "processed"), ("msg_signed", "duplicate")]
    assert Event.objects.filter(type__startswith="recording.").count() == 1


# --- De-duplication -----------------------------------------------------------------------------


def test_replayed_id_is_2xx_and_not_processed_again(client, key):
    body = json.dumps(RECORDER_CURL_EXAMPLE)
    first = post(client, REC, body, HTTP_X_API_KEY=key, HTTP_WEBHOOK_ID="evt_1")
    again = post(client, REC, body, HTTP_X_API_KEY=key, HTTP_WEBHOOK_ID="evt_1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()  # the original's answer
    assert Event.objects.filter(type__startswith="recording.").count() == 1  # no recording.updated
    original = InboundMessage.objects.get(status="processed")
    assert original.duplicate_count == 1
    duplicate = InboundMessage.objects.get(status="duplicate")
    assert duplicate.duplicate_of == original and bytes(duplicate.body) == b""


def test_replayed_id_with_junk_body_changes_nothing(client, key):
    post(client, REC, json.dumps(RECORDER_CURL_EXAMPLE), HTTP_X_API_KEY=key, HTTP_X_WEBHOOK_ID="evt_2")
    response = post(client, REC, b"{junk", HTTP_X_API_KEY=key, HTTP_X_WEBHOOK_ID="evt_2")
    assert response.status_code == 201
    assert Recording.objects.get().title == "Test Recording"


def test_async_duplicate_is_accepted_once(client, key):
    first = post(client, "/t/async", b'{"a": 1}', HTTP_X_API_KEY=key, HTTP_IDEMPOTENCY_KEY="k")
    second = post(client, "/t/async", b'{"a": 1}', HTTP_X_API_KEY=key, HTTP_IDEMPOTENCY_KEY="k")
    assert first.status_code == second.status_code == 200
    assert InboundMessage.objects.filter(status="received").count() == 1


def test_same_id_from_two_sources_is_not_a_duplicate(client, tenant, key):
    other_key = make_source(tenant, kind="recorder", name="second")[1]
    post(client, "/t/sync", b'{"a": 1}', HTTP_X_API_KEY=key, HTTP_WEBHOOK_ID="same")
    post(client, "/t/sync", b'{"a": 1}', HTTP_X_API_KEY=other_key, HTTP_WEBHOOK_ID="same")
    assert InboundMessage.objects.filter(status="processed").count() == 2


def test_sender_retry_of_a_failed_message_runs_it_again(client, tenant, key):
    data = {**RECORDER_CURL_EXAMPLE, "user_info": {"email": "late@fyelabs.com"}}
    assert post(client, REC, json.dumps(data), HTTP_X_API_KEY=key, HTTP_WEBHOOK_ID="r1").status_code == 404
    add_member(tenant, "late@fyelabs.com")
    assert post(client, REC, json.dumps(data), HTTP_X_API_KEY=key, HTTP_WEBHOOK_ID="r1").status_code == 201


def test_too_long_message_id_is_400(client, key):
    assert post(client, "/t/sync", b"{}", HTTP_X_API_KEY=key, HTTP_WEBHOOK_ID="x" * 201).status_code == 400


# --- Tenancy ------------------------------------------------------------------------------------


def test_another_tenants_key_never_touches_this_tenants_recordings(client, tenant, other_tenant, key):
    assert post(client, REC, json.dumps(RECORDER_CURL_EXAMPLE), HTTP_X_API_KEY=key).status_code == 201
    add_member(other_tenant, "souvik@fyelabs.com", username="souvik-globex")
    other_key = make_source(other_tenant, kind="recorder")[1]
    changed = {**RECORDER_CURL_EXAMPLE, "title": "Hijacked"}
    assert post(client, REC, json.dumps(changed), HTTP_X_API_KEY=other_key).status_code == 201
    assert Recording.objects.get(tenant=tenant).title == "Test Recording"
    assert Recording.objects.get(tenant=other_tenant).title == "Hijacked"


# Throttling: test_throttling.py (with a frozen clock).
