"""Remembered sources: a busy sender costs no lookup, and a change still takes effect."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from webhooks.inbound.models import InboundSource
from webhooks.inbound.services import (
    source_by_id,
    source_by_key,
    source_by_url_secret,
    source_rotate_key,
    source_rotate_url,
)
from webhooks.inbound.tests.factories import make_source

pytestmark = [pytest.mark.django_db, pytest.mark.urls("webhooks.inbound.tests.urls")]


def _post(client, key):
    return client.post("/t/sync", {"a": 1}, content_type="application/json", HTTP_X_API_KEY=key)


def _source_queries(captured) -> list[str]:
    return [q["sql"] for q in captured if 'FROM "webhooks_inbound_inboundsource"' in q["sql"]]


def test_second_request_with_the_same_key_asks_no_source_query(client, tenant):
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


def test_rotated_url_stops_working_at_once(tenant):
    source, _ = make_source(tenant)
    old_secret = source.url_secret
    assert source_by_url_secret(old_secret) is not None
    new_secret = source_rotate_url(source=source)
    assert source_by_url_secret(old_secret) is None
    assert source_by_url_secret(new_secret).pk == source.pk


def test_a_change_made_around_streamhook_is_seen_when_the_entry_expires(client, tenant, settings):
    settings.WEBHOOKS_INBOUND_SOURCE_CACHE_SECONDS = 1
    source, key = make_source(tenant)
    assert _post(client, key).status_code == 201
    # An UPDATE sends no signal: what SQL run by hand looks like to the cache.
    InboundSource.objects.filter(pk=source.pk).update(is_active=False)
    assert _post(client, key).status_code == 201  # still remembered: the documented delay
    time.sleep(1.1)
    assert _post(client, key).status_code == 401


def test_zero_seconds_turns_the_cache_off(client, tenant, settings):
    settings.WEBHOOKS_INBOUND_SOURCE_CACHE_SECONDS = 0
    source, key = make_source(tenant)
    assert _post(client, key).status_code == 201
    InboundSource.objects.filter(pk=source.pk).update(is_active=False)
    assert _post(client, key).status_code == 401


def test_an_unknown_key_asks_the_database_every_time(client, tenant):
    make_source(tenant)
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            assert _post(client, "shin_unknown").status_code == 401
        assert len(_source_queries(captured.captured_queries)) == 1


def test_callers_get_their_own_instance(tenant):
    source, key = make_source(tenant)
    first = source_by_key(key)
    first.name = "changed by a request"
    again = source_by_key(key)
    assert again.name == source.name and again is not first


def test_a_source_found_by_id_is_remembered(tenant):
    source, _ = make_source(tenant, kind="realcast", signing_secret="whsec-by-id-0123456789")
    with CaptureQueriesContext(connection) as first:
        assert source_by_id(source.pk).pk == source.pk
    with CaptureQueriesContext(connection) as second:
        assert source_by_id(source.pk).pk == source.pk
    assert len(_source_queries(first.captured_queries)) == 1
    assert _source_queries(second.captured_queries) == []


def test_a_source_found_by_id_and_then_disabled_is_refused_at_once(tenant):
    source, _ = make_source(tenant, kind="realcast", signing_secret="whsec-by-id-0123456789")
    assert source_by_id(source.pk) is not None
    source.is_active = False
    source.save(update_fields=["is_active"])
    assert source_by_id(source.pk) is None


def test_a_source_found_by_id_goes_with_its_tenant(tenant):
    source, _ = make_source(tenant, kind="realcast", signing_secret="whsec-by-id-0123456789")
    assert source_by_id(source.pk) is not None
    tenant.is_active = False
    tenant.save()
    assert source_by_id(source.pk) is None


def test_an_unknown_id_is_not_remembered(tenant):
    source, _ = make_source(tenant, kind="realcast", signing_secret="whsec-by-id-0123456789")
    missing = source.pk + 1000
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            assert source_by_id(missing) is None
        assert len(_source_queries(captured.captured_queries)) == 1
