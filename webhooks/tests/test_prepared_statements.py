"""`prepared()`: the ingest statements run as EXECUTEs of statements prepared once per connection."""

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from webhooks import rows
from webhooks.models import Event
from webhooks.rows import insert_row, locked_row, prepared

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements"),
    pytest.mark.django_db,
]


def _server_statements() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, statement FROM pg_prepared_statements")
        return dict(cursor.fetchall())


def _event(tenant, event_id: str) -> Event:
    event = Event(id=event_id, type="webhook.test", data={"n": 1}, created_at=timezone.now())
    event.tenant_id = tenant.pk
    return event


def test_a_statement_is_prepared_on_first_use_and_executed_after(tenant):
    sql = "SELECT id FROM webhooks_event WHERE tenant_id = %s AND type = %s"
    with connection.cursor() as cursor:
        first = prepared(sql)
        assert prepared(sql) == first
        assert first.startswith("EXECUTE streamhook_") and first.endswith("(%s, %s)")
        name = first.split()[1].split("(")[0]
        assert _server_statements()[name] == (
            f"PREPARE {name} AS SELECT id FROM webhooks_event WHERE tenant_id = $1 AND type = $2")  # noqa: S608
        cursor.execute(first, [tenant.pk, "webhook.test"])
        assert cursor.fetchall() == []


def test_an_insert_unless_conflict_reports_the_conflict_through_execute(tenant):
    assert insert_row(_event(tenant, "msg_prepared_1"), unless_conflict_on=("id",)) is True
    assert insert_row(_event(tenant, "msg_prepared_1"), unless_conflict_on=("id",)) is False  # rowcount 0
    assert Event.objects.filter(pk="msg_prepared_1").count() == 1
    assert any('"webhooks_event"' in text for text in _server_statements().values())


def test_a_prepared_statement_outlives_a_rollback(tenant):
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_row(_event(tenant, "msg_prepared_2"))
        insert_row(_event(tenant, "msg_prepared_2"))  # the same pk: the transaction fails
    insert_row(_event(tenant, "msg_prepared_3"))  # the same EXECUTE, after the rollback
    assert list(Event.objects.filter(pk__startswith="msg_prepared_").values_list("pk", flat=True)) == [
        "msg_prepared_3"]


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_again(tenant):
    insert_row(_event(tenant, "msg_prepared_4"))
    connection.close()
    insert_row(_event(tenant, "msg_prepared_5"))  # the new session has no statements: PREPARE again
    assert Event.objects.filter(pk__in=["msg_prepared_4", "msg_prepared_5"]).count() == 2
    assert locked_row(Event, id="msg_prepared_5").data == {"n": 1}


def test_values_keep_their_types_through_execute(tenant):
    insert_row(_event(tenant, "msg_prepared_6"))
    with transaction.atomic():
        event = locked_row(Event, id="msg_prepared_6")
    assert event.created_at.tzinfo is not None and event.data == {"n": 1} and event.fanned_out_at is None


@override_settings(WEBHOOKS_PREPARED_STATEMENTS=False)
def test_off_the_statement_is_sent_as_it_is():
    sql = "SELECT 1 WHERE %s"
    with connection.cursor():
        assert prepared(sql) == sql


def test_a_connection_prepares_a_bounded_number_of_statements(monkeypatch):
    with connection.cursor():
        monkeypatch.setattr(rows, "_MAX_PREPARED", len(rows._prepared.get(connection.connection, {})) + 2)
        texts = [prepared(f"SELECT {n} WHERE %s") for n in range(4)]
    assert [text.startswith("EXECUTE") for text in texts] == [True, True, False, False]
    assert texts[2] == "SELECT 2 WHERE %s"


def test_a_literal_percent_is_refused(monkeypatch):
    with connection.cursor(), pytest.raises(ValueError, match="literal %"):
        prepared("SELECT '100%%' WHERE %s")
    # Also on a connection that holds as many statements as it may (the whole suite's, in one
    # process): the refusal came after that check, so it depended on the tests run before.
    monkeypatch.setattr(rows, "_MAX_PREPARED", 0)
    with connection.cursor(), pytest.raises(ValueError, match="literal %"):
        prepared("SELECT '100%%' WHERE %s")


@pytest.mark.django_db(transaction=True)
def test_statements_the_server_lost_are_prepared_again_after_one_failure(tenant):
    insert_row(_event(tenant, "msg_prepared_7"))
    connection.connection.execute("DEALLOCATE ALL")  # a pooler resetting the session behind our back
    with pytest.raises(DatabaseError, match="does not exist"):
        insert_row(_event(tenant, "msg_prepared_8"))
    insert_row(_event(tenant, "msg_prepared_9"))  # prepared again, under a new name
    assert set(Event.objects.filter(pk__startswith="msg_prepared_").values_list("pk", flat=True)) == {
        "msg_prepared_7", "msg_prepared_9"}
