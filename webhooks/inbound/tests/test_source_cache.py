"""Remembered sources: a busy sender costs no lookup, and a change still takes effect."""

import pytest

from webhooks.inbound import source_cache
from webhooks.inbound.models import InboundSource
from webhooks.inbound.services import source_rotate_key
from webhooks.inbound.tests.factories import make_source

pytestmark = [pytest.mark.django_db, pytest.mark.urls("webhooks.inbound.tests.urls")]


def _post(client, key):
    return client.post("/t/sync", {"a": 1}, content_type="application/json", HTTP_X_API_KEY=key)


def _source_queries(captured) -> list[str]:
    return [q["sql"] for q in captured if 'FROM "webhooks_inbound_inboundsource"' in q["sql"]]


def test_second_request_with_the_same_key_asks_no_source_query(client, tenant):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _, key = make_source(tenant)
    with CaptureQueriesContext(connection) as first:
        assert _post(client, key).status_code == 201
    with CaptureQueriesContext(connection) as second:
        assert _post(client, key).status_code == 201
    assert len(_source_queries(first.captured_queries)) == 1
    assert _source_queries(second.captured_queries) == []


def test_rotated_key_stops_working_at_once_in_this_process(client, tenant):
    source, key = make_source(tenant)
    assert _post(client, key).status_code == 201
    new_key = source_rotate_key(source=source)
    assert _post(client, key).status_code == 401
    assert _post(client, new_key).status_code == 201


def test_source_disabled_by_save_is_refused_at_once(client, tenant):
    source, key = make_source(tenant)
    assert _post(client, key).status_code == 201
    source.is_active = False
    source.save(update_fields=["is_active"])
    assert _post(client, key).status_code == 401


def test_tenant_switched_off_is_refused_at_once(client, tenant):
    _, key = make_source(tenant)
    assert _post(client, key).status_code == 201
    tenant.is_active = False
    tenant.save()
    assert _post(client, key).status_code == 401


def test_change_made_by_another_process_is_seen_when_the_entry_expires(client, tenant, monkeypatch, settings):
    settings.WEBHOOKS_INBOUND_SOURCE_CACHE_SECONDS = 5
    clock = [1000.0]
    monkeypatch.setattr(source_cache.time, "monotonic", lambda: clock[0])
    source, key = make_source(tenant)
    assert _post(client, key).status_code == 201
    # An UPDATE sends no signal: what another process's change looks like from here.
    InboundSource.objects.filter(pk=source.pk).update(is_active=False)
    clock[0] += 4.9
    assert _post(client, key).status_code == 201  # still remembered: the documented delay
    clock[0] += 0.2
    assert _post(client, key).status_code == 401


def test_zero_seconds_turns_the_cache_off(client, tenant, settings):
    settings.WEBHOOKS_INBOUND_SOURCE_CACHE_SECONDS = 0
    source, key = make_source(tenant)
    assert _post(client, key).status_code == 201
    InboundSource.objects.filter(pk=source.pk).update(is_active=False)
    assert _post(client, key).status_code == 401


def test_unknown_keys_are_not_remembered(client, tenant):
    make_source(tenant)
    for n in range(20):
        assert _post(client, f"shin_unknown{n}").status_code == 401
    assert source_cache._entries == {}


def test_callers_get_a_copy_not_the_remembered_instance(tenant):
    source, _ = make_source(tenant)
    first = source_cache.cached_source(("id", source.pk), lambda: InboundSource.objects.get(pk=source.pk))
    first.name = "changed by a request"
    again = source_cache.cached_source(("id", source.pk), lambda: pytest.fail("should be remembered"))
    assert again.name == source.name
