"""Replay: stored raw bytes through the handler again, from the command and the admin."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from core.crypto import reveal
from recordings.models import Recording
from recordings.tests.factories import RECORDER_CURL_EXAMPLE, add_member
from webhooks.inbound.models import InboundMessage
from webhooks.inbound.tests.factories import make_source

pytestmark = pytest.mark.django_db
REC = "/recordings/webhook/"


@pytest.fixture
def failed_message(client, tenant):
    _, key = make_source(tenant, kind="recorder")
    response = client.generic("POST", REC, json.dumps(RECORDER_CURL_EXAMPLE), content_type="application/json",
                              HTTP_X_API_KEY=key)
    assert response.status_code == 404  # souvik isn't a member yet
    return InboundMessage.objects.get()


def test_replay_command_reprocesses_failed_messages(tenant, failed_message):
    add_member(tenant, "souvik@fyelabs.com")
    out = StringIO()
    call_command("replay_inbound", "--source", str(failed_message.source_id), "--status", "failed",
                 "--since", "2000-01-01", stdout=out)
    failed_message.refresh_from_db()
    assert failed_message.status == "processed" and failed_message.attempts == 2
    assert failed_message.response_status == 201
    assert Recording.objects.count() == 1
    assert "1/1 replayed" in out.getvalue() and "1 processed, 0 failed" in out.getvalue()
    # Replaying again is harmless: the upsert is idempotent (one row, now "updated").
    call_command("replay_inbound", "--id", str(failed_message.pk), stdout=StringIO())
    assert Recording.objects.count() == 1


def test_dry_run_changes_nothing(tenant, failed_message):
    add_member(tenant, "souvik@fyelabs.com")
    out = StringIO()
    call_command("replay_inbound", "--status", "failed", "--dry-run", stdout=out)
    assert f"would replay #{failed_message.pk}" in out.getvalue()
    assert "1 message(s) would be replayed" in out.getvalue()
    failed_message.refresh_from_db()
    assert failed_message.status == "failed" and not Recording.objects.exists()


def test_still_failing_replay_is_reported(failed_message):
    out = StringIO()
    call_command("replay_inbound", "--status", "failed", stdout=out)
    assert "failed again" in out.getvalue() and "0 processed, 1 failed" in out.getvalue()


@pytest.mark.parametrize(("args", "reason"), [
    (["--source", "12345"], "no inbound source 12345"),
    ([], "give at least one of"),
    (["--since", "last tuesday"], "--since 'last tuesday'"),
    (["--since", "2026-13-45"], "--since '2026-13-45'"),  # well-formed but no such day: not a traceback
    (["--until", "2026-02-30T10:00:00"], "--until '2026-02-30T10:00:00'"),
    (["--since", "2026-02-01", "--until", "2026-01-01"], "must be before --until"),
    (["--status", "bogus"], "invalid choice"),
    (["--status", "duplicate"], "invalid choice"),  # duplicates have no body to replay
    (["--source", "abc"], "invalid int value"),
    (["--id", "x"], "invalid int value"),
])
def test_command_refuses_bad_arguments_with_a_reason(db, args, reason):
    with pytest.raises(CommandError, match=reason.replace("(", r"\(")):
        call_command("replay_inbound", *args, stdout=StringIO())


def test_since_takes_a_span_ago(tenant, failed_message):
    add_member(tenant, "souvik@fyelabs.com")
    out = StringIO()
    call_command("replay_inbound", "--since", "1h", "--dry-run", stdout=out)
    assert "1 message(s) would be replayed" in out.getvalue()
    call_command("replay_inbound", "--until", "1h", "--dry-run", stdout=out)
    assert "0 message(s) would be replayed" in out.getvalue()


def test_replaying_a_processed_message_leaves_the_same_state(client, tenant, failed_message):
    """The upsert is idempotent: replay once or five times, the recording and the message read the same."""
    from django.forms.models import model_to_dict

    add_member(tenant, "souvik@fyelabs.com")
    call_command("replay_inbound", "--id", str(failed_message.pk), stdout=StringIO())

    def state():
        recordings = [model_to_dict(r, exclude=["updated_at"]) for r in Recording.objects.order_by("pk")]
        message = InboundMessage.objects.values("status", "error", "traceback", "body", "sha256").get(
            pk=failed_message.pk)
        return recordings, {**message, "body": bytes(message["body"])}

    after_first = state()
    for _ in range(5):
        call_command("replay_inbound", "--id", str(failed_message.pk), stdout=StringIO())
    assert state() == after_first
    assert after_first[1]["status"] == "processed"
    message = InboundMessage.objects.get(pk=failed_message.pk)
    # The row records the latest run's answer: the first replay created the recording, the rest updated it.
    assert (message.attempts, message.response_status, message.response_body["action"]) == (7, 200, "updated")


def test_admin_replay_action(admin_client, tenant, failed_message):
    add_member(tenant, "souvik@fyelabs.com")
    response = admin_client.post(
        "/admin/webhooks_inbound/inboundmessage/",
        {"action": "replay", "_selected_action": [failed_message.pk]}, follow=True,
    )
    assert response.status_code == 200
    assert b"1 processed" in response.content
    failed_message.refresh_from_db()
    assert failed_message.status == "processed"


def test_admin_pages_render(admin_client, failed_message):
    assert admin_client.get("/admin/webhooks_inbound/inboundmessage/").status_code == 200
    page = admin_client.get(f"/admin/webhooks_inbound/inboundmessage/{failed_message.pk}/change/")
    assert page.status_code == 200 and b"souvik@fyelabs.com" in page.content
    assert admin_client.get("/admin/webhooks_inbound/inboundsource/").status_code == 200
    assert admin_client.get("/admin/webhooks_inbound/inboundsource/add/").status_code == 200


def test_admin_creates_source_and_shows_key_once(admin_client, tenant):
    from webhooks.inbound.keys import hash_key
    from webhooks.inbound.models import InboundSource

    response = admin_client.post("/admin/webhooks_inbound/inboundsource/add/", {
        "tenant": tenant.pk, "name": "rc", "kind": "realcast", "signature_scheme": "hmac-sha256-hex",
        "signature_header": "X-Webhook-Signature", "timestamp_tolerance": 300, "is_active": "on",
        "new_signing_secret": "rc-secret-abcdef",
    }, follow=True)
    assert response.status_code == 200
    source = InboundSource.objects.get()
    key = next(m.message for m in response.context["messages"]).split("Source key: ")[1].split(" ")[0]
    assert hash_key(key) == source.key_hash
    assert [reveal(s) for s in source.signing_secrets] == ["rc-secret-abcdef"]
    assert source.signature_header == "X-RealCast-Signature"


def test_task_skips_messages_already_handled(tenant, failed_message):
    from webhooks.inbound.tasks import process_inbound_message

    process_inbound_message(failed_message.pk)  # status is failed, not received: nothing runs
    failed_message.refresh_from_db()
    assert failed_message.attempts == 1


def test_sweep_requeues_async_messages_left_received(tenant, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from webhooks.inbound import tasks
    from webhooks.inbound.beat import is_registered
    from webhooks.inbound.services import message_build

    source, _ = make_source(tenant)
    old = message_build(source=source, handler="recordings.webhook", message_id="", headers={}, body=b"{}",
                        sha256="0" * 64)
    old.save()
    InboundMessage.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(minutes=10))
    fresh = message_build(source=source, handler="recordings.webhook", message_id="", headers={}, body=b"{}",
                          sha256="0" * 64)
    fresh.save()
    queued = []
    monkeypatch.setattr(tasks.process_inbound_message, "delay", queued.append)
    assert tasks.sweep_received_messages() == 1
    assert queued == [old.pk]
    assert is_registered()


def test_admin_refuses_a_standard_secret_it_could_never_verify_and_keeps_is_active(admin_client, tenant):
    from webhooks.inbound.models import InboundSource

    form = {"tenant": tenant.pk, "name": "std", "kind": "recorder", "signature_scheme": "standard",
            "signature_header": "X-Webhook-Signature", "timestamp_tolerance": 300, "new_signing_secret": "plain-text"}
    refused = admin_client.post("/admin/webhooks_inbound/inboundsource/add/", form)
    assert refused.status_code == 200 and b"whsec_" in refused.content  # the form again, with the reason
    assert not InboundSource.objects.exists()
    form["new_signing_secret"] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # is_active left unticked
    assert admin_client.post("/admin/webhooks_inbound/inboundsource/add/", form).status_code == 302
    assert InboundSource.objects.get().is_active is False


def test_admin_refuses_a_realcast_source_without_a_secret(admin_client, tenant):
    from webhooks.inbound.models import InboundSource

    response = admin_client.post("/admin/webhooks_inbound/inboundsource/add/", {
        "tenant": tenant.pk, "name": "rc", "kind": "realcast", "signature_scheme": "hmac-sha256-hex",
        "signature_header": "X-Webhook-Signature", "timestamp_tolerance": 300, "is_active": "on",
    })
    assert response.status_code == 200 and b"signature alone" in response.content
    assert not InboundSource.objects.exists()
