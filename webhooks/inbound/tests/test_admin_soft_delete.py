"""Deleting an inbound source in the admin retires it like the API's DELETE: its messages stay."""

import pytest
from django.utils import timezone

from webhooks.inbound.models import InboundMessage, InboundSource
from webhooks.inbound.tests.factories import make_source

pytestmark = pytest.mark.django_db


def test_admin_delete_retires_the_source_and_keeps_its_messages(admin_client, tenant):
    source, _ = make_source(tenant)
    InboundMessage.objects.create(tenant=tenant, source=source, handler="recordings.webhook", body=b"{}",
                                  sha256="0" * 64, received_at=timezone.now())
    confirm = admin_client.get(f"/admin/webhooks_inbound/inboundsource/{source.pk}/delete/")
    assert confirm.status_code == 200 and "Inbound message: " not in confirm.content.decode()
    admin_client.post(f"/admin/webhooks_inbound/inboundsource/{source.pk}/delete/", {"post": "yes"})
    source = InboundSource.objects.get(pk=source.pk)
    assert source.deleted_at is not None and not source.is_active
    assert InboundMessage.objects.filter(source=source).count() == 1
