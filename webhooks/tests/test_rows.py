"""`insert_row()` stores exactly what `save(force_insert=True)` would, for the models it is used on."""

import pytest
from django.db.models.signals import post_save
from django.utils import timezone

from webhooks.inbound.models import InboundMessage
from webhooks.inbound.services import source_create
from webhooks.models import Event
from webhooks.rows import has_save_hooks, insert_row

pytestmark = pytest.mark.django_db


def test_an_event_row_round_trips_with_its_own_id_and_json(tenant):
    data = {"n": 1, "text": "é ✓", "nested": {"list": [1, 2.5, None, True]}}
    event = insert_row(Event(tenant=tenant, type="webhook.test", data=data, created_at=timezone.now()))
    stored = Event.objects.get(pk=event.pk)
    assert event.pk.startswith("msg_") and not event._state.adding
    assert (stored.tenant_id, stored.type, stored.data, stored.fanned_out_at) == (tenant.pk, "webhook.test", data, None)
    assert stored.created_at == event.created_at


def test_an_inbound_message_gets_the_database_pk_and_keeps_bytes_and_defaults(tenant):
    source, _ = source_create(tenant=tenant, name="rec", kind="recorder")
    body = b'{"a": 1}\xff\x00 raw'  # bytes as sent, not text
    message = InboundMessage(tenant=tenant, source=source, received_at=timezone.now(), handler="recordings.webhook",
                             headers={"Content-Type": "application/json"}, body=body, sha256="0" * 64,
                             response_body={"status": "success", "pk": 3})
    insert_row(message)
    second = insert_row(InboundMessage(tenant=tenant, source=source, received_at=timezone.now(), handler="h",
                                       body=b"", sha256="1" * 64))
    stored = InboundMessage.objects.get(pk=message.pk)
    assert second.pk > message.pk
    assert bytes(stored.body) == body
    assert (stored.status, stored.attempts, stored.message_id, stored.error) == ("received", 0, "", "")
    assert stored.headers == {"Content-Type": "application/json"}
    assert stored.response_body == {"status": "success", "pk": 3}
    assert InboundMessage.objects.get(pk=second.pk).response_body is None  # SQL NULL, not JSON null


@pytest.mark.parametrize("model", [Event, InboundMessage])
def test_the_models_written_with_insert_row_have_no_save_hooks_it_would_skip(model):
    assert not has_save_hooks(model)


def test_the_hook_guard_sees_a_receiver():
    def receiver(**kwargs):
        pass

    post_save.connect(receiver, sender=Event)
    try:
        assert has_save_hooks(Event)
    finally:
        post_save.disconnect(receiver, sender=Event)
