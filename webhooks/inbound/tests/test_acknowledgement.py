"""The asynchronous acknowledgement (RealCast's path) is one INSERT: fast, and a duplicate still answers 2xx."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from webhooks.inbound.models import InboundMessage
from webhooks.inbound.tests.factories import make_source

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("webhooks.inbound.tests.urls")]


def _post(client, key, message_id):
    return client.post("/t/async", {"b": 2}, content_type="application/json", HTTP_X_API_KEY=key,
                       HTTP_IDEMPOTENCY_KEY=message_id)


def test_acknowledging_a_message_is_one_insert_outside_any_transaction(client, tenant):
    _, key = make_source(tenant)
    assert _post(client, key, "warm").status_code == 200  # the source is remembered from here on
    with CaptureQueriesContext(connection) as captured:
        assert _post(client, key, "m1").status_code == 200
    statements = [_verb(q["sql"]) for q in captured.captured_queries]
    assert statements == ["INSERT"], statements  # no BEGIN, SAVEPOINT or COMMIT around it


def _verb(sql: str) -> str:
    return sql.split()[0].upper()


def test_a_duplicate_acknowledgement_answers_2xx_and_stores_no_second_body(client, tenant):
    _, key = make_source(tenant)
    first = _post(client, key, "m1")
    again = _post(client, key, "m1")
    assert first.status_code == 200 and again.status_code == 200
    original = InboundMessage.objects.get(message_id="m1", status__in=["received", "processed", "failed"])
    duplicate = InboundMessage.objects.get(message_id="m1", status="duplicate")
    assert duplicate.duplicate_of_id == original.pk and bytes(duplicate.body) == b""
    original.refresh_from_db()
    assert original.duplicate_count == 1
