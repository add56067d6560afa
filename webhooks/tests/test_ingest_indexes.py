"""The tables every inbound request writes carry the indexes their queries need, and no more.

Each index is another write per row on the ingest path; one whose columns lead another index
(or a unique constraint) serves no lookup the other doesn't.
"""

import pytest
from django.db import connection

from recordings.models import Recording
from webhooks.inbound.models import InboundMessage
from webhooks.models import Event

pytestmark = pytest.mark.django_db


def _indexed_columns(model) -> set[tuple[str, ...]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return {tuple(c["columns"]) for c in constraints.values() if c["index"] or c["unique"] or c["primary_key"]}


@pytest.mark.parametrize(("model", "expected"), [
    (InboundMessage, {("id",), ("source_id", "status", "received_at"), ("tenant_id", "received_at"),
                      ("received_at",), ("source_id", "message_id"), ("duplicate_of_id",)}),
    (Event, {("id",), ("tenant_id", "type", "created_at"), ("created_at",)}),
    (Recording, {("id",), ("tenant_id", "recording_id"), ("tenant_id", "recorded_at"), ("tenant_id", "user_id"),
                 ("user_id",)}),
])
def test_the_ingest_tables_have_no_index_another_one_covers(model, expected):
    assert _indexed_columns(model) == expected


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's extra index on a CharField key")
def test_the_event_id_has_no_pattern_index():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [Event._meta.db_table])
        definitions = [row[0] for row in cursor.fetchall()]
    assert len(definitions) == 3 and not any("pattern_ops" in d for d in definitions)
