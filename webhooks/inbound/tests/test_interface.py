"""The contract the domain apps build on: a registered handler behind `InboundView`, sync and async."""

import pytest

from webhooks.inbound.models import InboundMessage
from webhooks.inbound.services import message_process
from webhooks.inbound.tests import urls as test_urls
from webhooks.inbound.tests.factories import REALCAST_SECRET, body_of, hmac_hex_header, make_source

pytestmark = [pytest.mark.django_db, pytest.mark.urls("webhooks.inbound.tests.urls")]


@pytest.fixture(autouse=True)
def _calls():
    test_urls.CALLS.clear()
    yield test_urls.CALLS


def test_sync_handler_answers_its_result_with_bearer_key(client, tenant):
    _, key = make_source(tenant)
    response = client.post("/t/sync", {"a": 1}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 201
    assert response.json() == {"status": "success", "echo": {"a": 1}, "tenant": "acme"}
    message = InboundMessage.objects.get()
    assert message.status == "processed" and message.attempts == 1
    assert bytes(message.body) == b'{"a": 1}'
    assert "Authorization" not in message.headers


def test_x_api_key_header_works_too(client, tenant):
    _, key = make_source(tenant)
    response = client.post("/t/sync", {"a": 1}, content_type="application/json", HTTP_X_API_KEY=key)
    assert response.status_code == 201


def test_async_stores_then_task_runs_handler(client, tenant, _calls, django_capture_on_commit_callbacks):
    _, key = make_source(tenant)
    response = client.post("/t/async", {"b": 2}, content_type="application/json", HTTP_X_API_KEY=key,
                           HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "accepted"
    message = InboundMessage.objects.get(pk=body["id"])
    assert message.status == "received" and message.message_id == "k1"
    message_process(message_pk=message.pk)  # what the Celery task does
    message.refresh_from_db()
    assert message.status == "processed"
    assert _calls == [{"message": message.pk, "tenant": "acme", "payload": {"b": 2}}]


def test_realcast_style_signature_in_url_source(client, tenant):
    source, _ = make_source(tenant, kind="realcast", signing_secret=REALCAST_SECRET)
    body = body_of({"event": "stream.live", "data": {"stream_id": "s1"}})
    response = client.post(
        f"/t/realcast/{source.pk}", body, content_type="application/json",
        HTTP_X_REALCAST_SIGNATURE=hmac_hex_header(REALCAST_SECRET, body), HTTP_X_REALCAST_WEBHOOK_ID="wh_1",
    )
    assert response.status_code == 200, response.content
    again = client.post(
        f"/t/realcast/{source.pk}", body, content_type="application/json",
        HTTP_X_REALCAST_SIGNATURE=hmac_hex_header(REALCAST_SECRET, body), HTTP_X_REALCAST_WEBHOOK_ID="wh_1",
    )
    assert again.status_code == 200
    original = InboundMessage.objects.get(message_id="wh_1", status__in=["received", "processed"])
    assert original.duplicate_count == 1


def test_rejected_by_handler_answers_its_status_and_marks_failed(client, tenant):
    _, key = make_source(tenant)
    response = client.post("/t/sync", {"reject": True}, content_type="application/json", HTTP_X_API_KEY=key)
    assert response.status_code == 409
    assert InboundMessage.objects.get().status == "failed"


def test_wrong_kind_is_forbidden(client, tenant):
    _, key = make_source(tenant, kind="realcast")
    response = client.post("/t/sync", {"a": 1}, content_type="application/json", HTTP_X_API_KEY=key)
    assert response.status_code == 403
    assert not InboundMessage.objects.exists()


def test_unexpected_handler_error_is_422_kept_with_traceback(client, tenant):
    _, key = make_source(tenant)
    response = client.post("/t/sync", {"explode": True}, content_type="application/json", HTTP_X_API_KEY=key)
    assert response.status_code == 422
    assert response.json()["status"] == "error"
    message = InboundMessage.objects.get()
    assert message.status == "failed" and "RuntimeError: boom" in message.error
    assert "Traceback" in message.traceback and message.response_status == 422


@pytest.mark.parametrize("message_id", ["", "with-id"])
def test_failed_handler_writes_are_rolled_back_but_the_message_is_kept(client, tenant, message_id):
    from webhooks.inbound.handlers import HandlerResult, inbound_handler
    from webhooks.inbound.views import InboundView

    @inbound_handler("tests.write_then_fail")
    def write_then_fail(message, payload):
        tenant.name = "changed by a failing handler"
        tenant.save(update_fields=["name"])
        raise RuntimeError("after the write")
        return HandlerResult()

    from django.test import RequestFactory

    _, key = make_source(tenant)
    request = RequestFactory().post("/x", b"{}", content_type="application/json", HTTP_X_API_KEY=key,
                                    HTTP_WEBHOOK_ID=message_id)
    response = InboundView.as_view(handler="tests.write_then_fail", kinds={"recorder"})(request)
    assert response.status_code == 422
    tenant.refresh_from_db()
    assert tenant.name != "changed by a failing handler"
    assert InboundMessage.objects.get().status == "failed"


def test_stored_message_keeps_raw_bytes_and_hash_but_no_credentials(client, tenant):
    import hashlib
    import json

    source, key = make_source(tenant, signing_secret="custom-secret-1", signature_header="X-Custom-Sig")
    body = b'{"a": 1,\n  "text": "caf\xc3\xa9"}'  # odd spacing and UTF-8: kept byte for byte, never re-serialised
    secrets = {
        "HTTP_AUTHORIZATION": f"Bearer {key}", "HTTP_X_API_KEY": key, "HTTP_COOKIE": "sessionid=abc123secret",
        "HTTP_PROXY_AUTHORIZATION": "Basic c2VjcmV0", "HTTP_X_HUB_SIGNATURE_256": "sha256=feedface",
        "HTTP_WEBHOOK_SIGNATURE": "v1,c2VjcmV0", "HTTP_X_AUTH_TOKEN": "tok-secret",
        "HTTP_X_CUSTOM_SIG": hmac_hex_header("custom-secret-1", body),
    }
    response = client.generic("POST", "/t/sync", body, content_type="application/json",
                              HTTP_X_REQUEST_ID="req-42", HTTP_WEBHOOK_ID="evt_stored", **secrets)
    assert response.status_code == 201, response.content
    message = InboundMessage.objects.get()
    assert bytes(message.body) == body
    assert message.sha256 == hashlib.sha256(body).hexdigest()
    assert (message.status, message.error, message.traceback) == ("processed", "", "")
    assert (message.message_id, message.source, message.tenant, message.attempts) == ("evt_stored", source, tenant, 1)
    assert message.headers["X-Request-Id"] == "req-42" and message.headers["Content-Type"] == "application/json"
    stored = json.dumps(message.headers).lower()
    for meta_name, value in secrets.items():
        name = meta_name[5:].replace("_", "-").lower()
        assert name not in stored and value.lower() not in stored, name


@pytest.mark.parametrize(("config", "problem"), [
    ({"handler": "tests.no_such_handler", "kinds": {"recorder"}}, "no inbound handler named"),
    ({"handler": "tests.echo", "kinds": {"recorderr"}}, "unknown or no inbound source kinds"),
    ({"handler": "tests.echo", "kinds": set()}, "unknown or no inbound source kinds"),
    ({"handler": "tests.echo", "kinds": {"recorder"}, "auth": "token"}, "auth must be"),
    ({"handler": "tests.echo", "kinds": {"realcast"}, "auth": "signature"}, "needs source_from_url"),
])
def test_a_misconfigured_view_fails_when_the_url_conf_loads(config, problem):
    from django.core.exceptions import ImproperlyConfigured

    from webhooks.inbound.views import InboundView

    with pytest.raises(ImproperlyConfigured, match=problem):
        InboundView.as_view(**config)
