"""Deleting an inbound source retires it: the key stops working, what it posted stays on record."""

import pytest
from django.db.models import RestrictedError

from webhooks.inbound.models import InboundMessage, InboundSource
from webhooks.inbound.tests.factories import make_source

pytestmark = [pytest.mark.django_db, pytest.mark.urls("webhooks.inbound.tests.urls")]  # ours + config.urls
SOURCES = "/api/v1/inbound-sources"
MESSAGES = "/api/v1/inbound-messages"


def _post(client, key):
    return client.post("/t/sync", {"a": 1}, content_type="application/json", HTTP_X_API_KEY=key)


def test_deleted_source_stops_authenticating_and_keeps_its_messages(client, api_client, tenant):
    source, key = make_source(tenant)
    assert _post(client, key).status_code == 201
    assert api_client.delete(f"{SOURCES}/{source.pk}").status_code == 204
    assert api_client.get(f"{SOURCES}/{source.pk}").status_code == 404
    assert source.pk not in [s["id"] for s in api_client.get(SOURCES).json()["results"]]
    listed = api_client.get(MESSAGES).json()["results"]
    assert [m["source"] for m in listed] == [source.pk]  # the history is still the tenant's to read
    assert _post(client, key).status_code == 401
    retired = InboundSource.objects.get(pk=source.pk)
    assert retired.deleted_at is not None and not retired.is_active


def test_a_source_with_history_cannot_be_removed_outright_but_its_tenant_can(tenant):
    source, _ = make_source(tenant)
    InboundMessage.objects.create(tenant=tenant, source=source, received_at=source.created_at, handler="x",
                                  headers={}, body=b"{}", sha256="0" * 64)
    with pytest.raises(RestrictedError):
        source.delete()  # what the admin's delete would do: it shows the history in the way instead
    tenant.delete()
    assert not InboundSource.objects.filter(pk=source.pk).exists()
    assert not InboundMessage.objects.exists()
