"""`atomic_deferring_writes()`: deferred rows are written at the block's end, with its commit, or not at all."""

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from conftest import _test_database_url
from streams.models import StreamSession
from webhooks.inbound.models import InboundMessage
from webhooks.inbound.services import source_create
from webhooks.models import Event
from webhooks.rows import atomic_deferring_writes, execute, insert_row, update_row


def _event(tenant, n: int = 0, tenant_id: int | None = None) -> Event:
    event = Event(type="webhook.test", data={"n": n}, created_at=timezone.now())
    event.tenant_id = tenant.pk if tenant_id is None else tenant_id
    return event


def _message(tenant, source) -> InboundMessage:
    return InboundMessage(tenant=tenant, source=source, received_at=timezone.now(), handler="recordings.webhook",
                          body=b'{"a": 1}', sha256="0" * 64, response_body={"status": "success"})


def _other_connection_sees(event_ids: list[str]) -> int:
    """Rows committed, as another client sees them (PostgreSQL only)."""
    with psycopg.connect(_test_database_url()) as other:
        return other.execute("SELECT count(*) FROM webhooks_event WHERE id = ANY(%s)", [event_ids]).fetchone()[0]


@pytest.mark.django_db
def test_deferred_rows_are_written_when_the_block_ends_with_their_pks(tenant):
    source, _ = source_create(tenant=tenant, name="rec", kind="recorder")
    event, message = _event(tenant), _message(tenant, source)
    with atomic_deferring_writes():
        assert insert_row(event, defer=True) is True
        assert insert_row(message, defer=True) is True
        assert not Event.objects.filter(pk=event.pk).exists()  # not yet
        assert message.pk is None
    assert Event.objects.get(pk=event.pk).data == {"n": 0}
    assert message.pk is not None and not message._state.adding
    assert InboundMessage.objects.get(pk=message.pk).response_body == {"status": "success"}


@pytest.mark.django_db
def test_deferred_updates_and_statements_are_sent_in_the_order_they_were_made(tenant):
    session = StreamSession.objects.create(tenant=tenant, session_id="s1", title="old")
    with atomic_deferring_writes():
        session.title = "first"
        update_row(session, {"title"}, defer=True)
        execute(f"UPDATE {StreamSession._meta.db_table} SET title = %s WHERE id = %s", ["second", session.pk],  # noqa: S608
                defer=True)
        assert StreamSession.objects.get(pk=session.pk).title == "old"  # nothing sent yet
    assert StreamSession.objects.get(pk=session.pk).title == "second"


@pytest.mark.django_db
def test_outside_a_deferring_block_defer_writes_at_once(tenant):
    event = _event(tenant)
    with transaction.atomic():
        insert_row(event, defer=True)
        assert Event.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_an_exception_in_the_block_writes_no_deferred_row(tenant):
    event = _event(tenant)
    with pytest.raises(RuntimeError), atomic_deferring_writes():
        insert_row(event, defer=True)
        raise RuntimeError("handler failed")
    assert not Event.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_a_row_deferred_under_a_newer_savepoint_goes_with_that_savepoints_rollback(tenant):
    kept, undone = _event(tenant, 1), _event(tenant, 2)
    with atomic_deferring_writes():
        insert_row(kept, defer=True)
        with pytest.raises(RuntimeError), transaction.atomic():
            insert_row(undone, defer=True)  # written now, inside the savepoint
            assert Event.objects.filter(pk=undone.pk).exists()
            raise RuntimeError("inner step failed")
    assert list(Event.objects.filter(pk__in=[kept.pk, undone.pk]).values_list("pk", flat=True)) == [kept.pk]


def test_a_deferred_insert_cannot_also_report_a_conflict(tenant):
    with pytest.raises(TypeError):
        insert_row(_event(tenant), defer=True, unless_conflict_on=("id",))


@pytest.mark.django_db(transaction=True)
def test_the_outermost_block_commits_in_the_round_trip_of_its_rows_and_runs_on_commit_hooks(tenant):
    events = [_event(tenant, n) for n in range(3)]
    ran = []
    with atomic_deferring_writes():
        for event in events:
            insert_row(event, defer=True)
        transaction.on_commit(lambda: ran.append(Event.objects.filter(pk__in=[e.pk for e in events]).count()))
    assert ran == [3]  # the hook ran after the commit and saw the rows
    assert not connection.in_atomic_block and connection.get_autocommit()
    if connection.vendor == "postgresql":
        assert connection.connection.pgconn.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert _other_connection_sees([e.pk for e in events]) == 3
    with atomic_deferring_writes():  # the connection goes on as usual afterwards
        insert_row(_event(tenant, 9), defer=True)
    assert Event.objects.filter(type="webhook.test").count() == 4


@pytest.mark.django_db(transaction=True)
def test_a_row_the_commit_refuses_fails_the_block_and_leaves_nothing_and_a_usable_connection(tenant):
    # The tenant foreign key is checked at COMMIT (deferrable constraint): the round trip that
    # carries the rows and the COMMIT is where it fails.
    good, orphan = _event(tenant, 1), _event(tenant, 2, tenant_id=tenant.pk + 1000)
    with pytest.raises(IntegrityError), atomic_deferring_writes():
        insert_row(good, defer=True)
        insert_row(orphan, defer=True)
    assert not connection.in_atomic_block
    assert Event.objects.filter(pk__in=[good.pk, orphan.pk]).count() == 0
    if connection.vendor == "postgresql":
        assert _other_connection_sees([good.pk, orphan.pk]) == 0


# --- BEGIN with the first statement (PostgreSQL) -----------------------------------------------

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="BEGIN is folded on PostgreSQL")


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_the_first_statement_opens_the_transaction_so_nothing_is_visible_before_the_end(tenant):
    session = StreamSession.objects.create(tenant=tenant, session_id="s1", title="kept")
    written = _event(tenant, 1)
    with atomic_deferring_writes():
        assert StreamSession.objects.get(pk=session.pk).title == "kept"  # the first statement reads right
        assert connection.connection.pgconn.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        insert_row(written)  # not deferred: sent now, inside the transaction
        assert Event.objects.filter(pk=written.pk).exists()
        assert _other_connection_sees([written.pk]) == 0  # not committed yet
    assert _other_connection_sees([written.pk]) == 1
    assert connection.get_autocommit() and connection.connection.autocommit
    assert connection.connection.pgconn.transaction_status == psycopg.pq.TransactionStatus.IDLE


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_an_exception_after_statements_were_sent_rolls_all_of_them_back(tenant):
    sent = _event(tenant, 1)
    with pytest.raises(RuntimeError), atomic_deferring_writes():
        insert_row(sent)
        raise RuntimeError("handler failed")
    assert _other_connection_sees([sent.pk]) == 0
    assert not Event.objects.filter(pk=sent.pk).exists()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_first_statement_that_fails_leaves_the_block_to_roll_back_cleanly(tenant):
    untyped = _event(tenant, 1)
    untyped.type = None
    with pytest.raises(IntegrityError), atomic_deferring_writes():
        insert_row(untyped)  # NOT NULL: the server refuses it, after running BEGIN
    assert connection.connection.pgconn.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert Event.objects.filter(type="webhook.test").count() == 0


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_savepoint_inside_the_block_rolls_back_only_its_own_writes(tenant):
    kept, undone = _event(tenant, 1), _event(tenant, 2)
    with atomic_deferring_writes():
        insert_row(kept)
        with pytest.raises(RuntimeError), transaction.atomic():
            insert_row(undone)
            raise RuntimeError("inner step failed")
    assert _other_connection_sees([kept.pk, undone.pk]) == 1


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_executemany_as_the_first_statement_still_runs_inside_the_transaction(tenant):
    table = StreamSession._meta.db_table
    session = StreamSession.objects.create(tenant=tenant, session_id="s1", title="old")
    with atomic_deferring_writes():
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {table} SET title = %s WHERE id = %s",  # noqa: S608
                               [("new", session.pk), ("newer", session.pk)])
        assert connection.connection.pgconn.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    assert StreamSession.objects.get(pk=session.pk).title == "newer"
