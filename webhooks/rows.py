"""`insert_row()`, `update_row()`, `locked_row()`, `atomic_deferring_writes()`: the ingest hot path's
statements, cheaper.

Every inbound request writes an `InboundMessage` and an `Event`, most lock a session row. The ORM
compiles each statement anew (query, compiler, `as_sql`), which cost more CPU than the database
spent on the row: `bench/ingest.py` is CPU-bound, so that was requests/s lost. Here a statement
is built once per model (and key) from its metadata and only the values change.

Use `insert_row()` and `update_row()` only for models without save() overrides or pre/post_save
receivers: they send no signals (tests check that the models they write have none).

Round trips cost more than the rows: each statement is a wait on PostgreSQL and, under gunicorn's
threads, a GIL hand-over. Writes whose result nobody needs before the transaction ends (the outbox
event, the inbound message's log row, a locked row's changed fields) can be made with `defer=True`
inside `atomic_deferring_writes()`: they go to the database together, in order, in the round trip
that also commits, and the block's BEGIN goes with its first statement. Seed 003's upsert is two
round trips in all (`webhooks/tests/test_round_trips.py` counts them on the wire).

On PostgreSQL the statements are prepared once per connection (`prepared()`): the same dozen
statements run on every request, and PostgreSQL spent more CPU parsing and planning the recorder's
upsert (with its user lookup) than running it. They are SQL-level prepared statements (`PREPARE`,
then `EXECUTE name(values)`), so they still travel several to a simple query; psycopg's own
(protocol-level) ones would each need a round trip or its pipeline mode, whose Python side cost
more client CPU than the planning saved. `DATABASE_PREPARED_STATEMENTS=false` turns them off, for a
pooler in transaction mode that can't keep them.
"""

import functools
import itertools
import threading
import weakref
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TypeVar

import psycopg
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model

from webhooks import conf

M = TypeVar("M", bound=Model)


def database() -> BaseDatabaseWrapper:
    """The default database's wrapper for this thread, for code on the hot path to hold on to.

    Every attribute read through `django.db.connection` (a proxy to the current thread's wrapper)
    is a lookup of its own, ~1 µs: an ingest request made some fifty, 13-15 % of its instructions.
    """
    return connections[DEFAULT_DB_ALIAS]


@functools.cache
def _insert(model: type[Model], vendor: str, conflict_on: tuple[str, ...]) -> tuple[str, list[Field], bool]:
    db = database()
    meta = model._meta
    auto_pk = meta.pk if meta.pk.db_returning else None  # an AutoField: the database picks it
    fields = [f for f in meta.concrete_fields if f is not auto_pk]
    quote = db.ops.quote_name
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if conflict_on:
        sql += f" ON CONFLICT ({', '.join(quote(meta.get_field(f).column) for f in conflict_on)}) DO NOTHING"
    if auto_pk is not None:
        sql += f" RETURNING {quote(auto_pk.column)}"
    return sql, fields, auto_pk is not None


def insert_row(instance: Model, *, unless_conflict_on: tuple[str, ...] = (), defer: bool = False) -> bool:
    """INSERT `instance` (on the default database), setting its pk when the database assigns it.

    `unless_conflict_on` names a unique constraint's fields: a row already holding those values
    makes this insert nothing and return False (PostgreSQL and SQLite's `ON CONFLICT DO NOTHING`).

    `defer=True`, inside `atomic_deferring_writes()`: the row's values are taken now and it is
    written when the block ends (a pk the database assigns is set then). Outside one, or under a
    savepoint opened since it began (whose rollback must take the row with it), it is written now.
    """
    db = database()
    sql, fields, returns_pk = _insert(type(instance), db.vendor, unless_conflict_on)
    params = _values(instance, fields, db, adding=True)
    if defer:
        if unless_conflict_on:
            raise TypeError("a deferred insert can't report a conflict: pass defer or unless_conflict_on")
        if _defer(db, sql, params, instance, returns_pk):
            return True
    with db.cursor() as cursor:
        run(cursor, prepared(sql, db), params)
        if returns_pk:
            row = cursor.fetchone()
            if row is None:
                return False
            instance.pk = row[0]
        elif unless_conflict_on and cursor.rowcount == 0:
            return False
    _inserted(instance, None)
    return True


def _values(instance: Model, fields: list[Field], db: BaseDatabaseWrapper, *, adding: bool) -> list:
    """The fields' values as the ORM's save() sends them (`auto_now`, `auto_now_add` applied)."""
    return [f.get_db_prep_save(f.pre_save(instance, adding), db) for f in fields]


@functools.cache
def _update(model: type[Model], vendor: str, names: tuple[str, ...]) -> tuple[str, list[Field]]:
    db = database()
    meta, quote = model._meta, db.ops.quote_name
    fields = [meta.get_field(name) for name in names]
    sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    return f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {quote(meta.pk.column)} = %s", fields  # noqa: S608


def update_row(instance: Model, fields: list[str] | set[str], *, defer: bool = False) -> None:
    """`instance.save(update_fields=fields)` for a row known to exist: one UPDATE by pk, no signals.

    `auto_now` fields among `fields` get the current time, as with save(). `defer`: as `insert_row()`'s
    (the values are taken now).
    """
    db = database()
    sql, model_fields = _update(type(instance), db.vendor, tuple(sorted(fields)))
    params = _values(instance, model_fields, db, adding=False)
    params.append(instance._meta.pk.get_db_prep_value(instance.pk, db))
    execute(sql, params, defer=defer)


def execute(sql: str, params: list, *, defer: bool = False) -> None:
    """Run a statement whose result the caller doesn't need; `defer`: as `insert_row()`'s."""
    db = database()
    if defer and _defer(db, sql, params):
        return
    with db.cursor() as cursor:
        run(cursor, prepared(sql, db), params)


@functools.cache
def _converters(model: type[Model], vendor: str) -> list[tuple]:
    """Per column, what the ORM applies to a fetched value (SQLite's datetimes are text, JSON is text...)."""
    db = database()
    out = []
    for f in model._meta.concrete_fields:
        col = f.get_col(model._meta.db_table)
        out.append((col, [*db.ops.get_db_converters(col), *f.get_db_converters(db)]))
    return out


@functools.cache
def _select_for_update(model: type[Model], vendor: str, keys: tuple[str, ...]) -> str:
    db = database()
    meta, quote = model._meta, db.ops.quote_name
    where = " AND ".join(f"{quote(meta.get_field(k).column)} = %s" for k in keys)
    sql = (f"SELECT {', '.join(quote(f.column) for f in meta.concrete_fields)} "  # noqa: S608
           f"FROM {quote(meta.db_table)} WHERE {where}")
    if db.features.has_select_for_update:
        sql += " FOR UPDATE"
    return sql


def locked_row(model: type[M], **keys) -> M | None:
    """The row with these exact field values, locked until the transaction ends (SQLite: the write lock
    the transaction holds already), or None. For a unique key: at most one row is expected."""
    db = database()
    sql, params = _locking(model, keys, db)
    with db.cursor() as cursor:
        run(cursor, prepared(sql, db), params)
        row = cursor.fetchone()
    return _from_row(model, row, db)


def _locking(model: type[Model], keys: dict, db: BaseDatabaseWrapper) -> tuple[str, list]:
    sql = _select_for_update(model, db.vendor, tuple(keys))
    return sql, [model._meta.get_field(name).get_db_prep_value(value, db) for name, value in keys.items()]


@functools.cache
def _insert_under(model: type[Model], vendor: str, parent: str, keys: tuple[str, ...],
                  conflict_on: tuple[str, ...]) -> tuple[str, list[Field]]:
    """`INSERT ... SELECT <values>, p.pk FROM <parent's table> p WHERE <keys> ON CONFLICT DO NOTHING
    RETURNING pk`: a child row whose parent is found by the same keys `locked_row()` locks it by."""
    db = database()
    meta, quote = model._meta, db.ops.quote_name
    fk = meta.get_field(parent)
    parent_meta = fk.related_model._meta
    fields = [f for f in meta.concrete_fields if f is not meta.pk and f is not fk]
    where = " AND ".join(f"p.{quote(parent_meta.get_field(k).column)} = %s" for k in keys)
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in [*fields, fk])}) "  # noqa: S608
        f"SELECT {', '.join(['%s'] * len(fields))}, p.{quote(parent_meta.pk.column)} "
        f"FROM {quote(parent_meta.db_table)} p WHERE {where} "
        f"ON CONFLICT ({', '.join(quote(meta.get_field(f).column) for f in conflict_on)}) DO NOTHING "
        f"RETURNING {quote(meta.pk.column)}"
    )
    return sql, fields


def locked_row_and_insert(
    model: type[M], keys: dict, child: Model, *, parent: str, unless_conflict_on: tuple[str, ...],
) -> tuple[M | None, bool]:
    """`locked_row(model, **keys)`, then `insert_row(child, unless_conflict_on=...)` under it, in one
    round trip on PostgreSQL: (the locked row or None, whether the child was inserted).

    `child.<parent>` is set to the locked row (the statement finds it by the same keys). No row:
    nothing was inserted, for the caller to create the parent and insert the child itself. A
    conflict (a replay): (row, False). For a child model with a database-assigned pk (and a parent
    that is never deleted while its children are being added).
    """
    db = database()
    if not _simple_query(db.vendor):
        row = locked_row(model, **keys)
        if row is None:
            return None, False
        setattr(child, parent, row)
        return row, insert_row(child, unless_conflict_on=unless_conflict_on)
    lock_sql, lock_params = _locking(model, keys, db)
    insert_sql, fields = _insert_under(type(child), db.vendor, parent, tuple(keys), unless_conflict_on)
    values = _values(child, fields, db, adding=True)
    with db.cursor() as cursor:
        # The insert's WHERE takes the lock's keys again.
        run(cursor, f"{prepared(lock_sql, db)}; {prepared(insert_sql, db)}", [*lock_params, *values, *lock_params])
        row = _from_row(model, cursor.fetchone(), db)
        cursor.nextset()
        inserted = cursor.fetchone()
    if row is None:
        if inserted is None:
            return None, False
        # Each statement reads the rows committed when it starts (READ COMMITTED): the parent was
        # committed by another transaction between the two, so the child went in under it. Lock
        # the parent now and report the insert: a caller creating the parent would find it there,
        # then see the child as a conflict and take the new row for a replay.
        row = locked_row(model, **keys)
    setattr(child, parent, row)
    if inserted is None:
        return row, False
    _inserted(child, inserted[0])
    return row, True


def _from_row(model: type[M], row: tuple | None, db: BaseDatabaseWrapper) -> M | None:
    """A model instance from a row of `_select_for_update()`'s columns, converted as the ORM does."""
    if row is None:
        return None
    values = []
    for value, (col, converters) in zip(row, _converters(model, db.vendor), strict=True):
        for convert in converters:
            value = convert(value, col, db)
        values.append(value)
    return model.from_db("default", _attnames(model), values)


@functools.cache
def _attnames(model: type[Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


def has_save_hooks(model: type[Model]) -> bool:
    """Whether saving `model` runs code `insert_row()` and `update_row()` would skip (for the tests that
    guard their use)."""
    from django.db.models.signals import post_save, pre_save

    return model.save is not Model.save or pre_save.has_listeners(model) or post_save.has_listeners(model)


# --- Prepared statements ---------------------------------------------------------------------

# Per psycopg connection: statement text -> its EXECUTE. Keyed by the connection itself, not by
# Django's wrapper: a prepared statement lives as long as the server session.
_prepared: "weakref.WeakKeyDictionary[psycopg.Connection, dict[str, str]]" = weakref.WeakKeyDictionary()
_MAX_PREPARED = 100
# Names are never reused in a process: after the server lost some statements (below), a new PREPARE
# can't meet one it kept under the same name.
_names = itertools.count()


def prepared(sql: str, db: BaseDatabaseWrapper | None = None) -> str:
    """`sql` (a statement with `%s` placeholders whose text never changes) as `EXECUTE name(%s, ...)`
    of a statement prepared on this connection, preparing it the first time (a round trip of its
    own, once per connection); `sql` itself on SQLite, with server-side binding (whose `$n` values
    can't be an EXECUTE's arguments) or with prepared statements off.

    Call it with the connection open (inside `connection.cursor()`). The PREPARE goes straight to
    psycopg, so it is never the statement that carries a pending BEGIN, and it needs no
    transaction: a prepared statement outlives a rollback. PostgreSQL infers the parameters'
    types from where they stand, as it does for a statement sent with its values. `db`: the
    default database's wrapper, when the caller holds it already.
    """
    db = db or database()
    if not (_simple_query(db.vendor) and conf.get("WEBHOOKS_PREPARED_STATEMENTS")):
        return sql
    raw = db.connection
    statements = _prepared.get(raw)
    if statements is None:
        statements = _prepared[raw] = {}
    execute = statements.get(sql)
    if execute is None:
        if "%%" in sql:  # refused whatever the connection holds, not only while it has room
            raise ValueError("prepared(): a statement with a literal % is not supported")
        if len(statements) >= _MAX_PREPARED:  # update_row()'s field sets vary: keep the session's memory bounded
            return sql
        name = f"streamhook_{next(_names)}"
        parts = sql.split("%s")
        numbered = parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], 1))
        with db.wrap_database_errors:
            raw.execute(f"PREPARE {name} AS {numbered}")
        args = ", ".join(["%s"] * (len(parts) - 1))
        execute = statements[sql] = f"EXECUTE {name}({args})" if args else f"EXECUTE {name}"
    return execute


def run(cursor, sql: str, params: list) -> None:
    """`cursor.execute(sql, params)` for statements made with `prepared()`.

    If the server doesn't know a prepared statement (something ran `DEALLOCATE` or `DISCARD ALL`
    behind our back: a pooler resetting the session), this connection's statements are forgotten
    and prepared again from the next request on; this one fails as a database error (503 on the
    ingest path, and the sender retries).
    """
    try:
        cursor.execute(sql, params)
    except DatabaseError as exc:
        if isinstance(exc.__cause__, psycopg.errors.InvalidSqlStatementName):
            _prepared.pop(cursor.db.connection, None)
        raise


# --- Deferred writes -------------------------------------------------------------------------

_local = threading.local()  # Django's connections are per thread, so are the batches


def _defer(db: BaseDatabaseWrapper, sql: str, params: list, instance: Model | None = None,
           returns_pk: bool = False) -> bool:
    """Add the statement to the open batch, if it may join it here (not under a savepoint opened
    since the batch began); False: the caller runs it now."""
    batch = getattr(_local, "batch", None)
    if batch is None or not db.in_atomic_block:
        return False
    writes, savepoints = batch
    if any(sid is not None for sid in db.savepoint_ids[savepoints:]):
        return False
    writes.append((instance, sql, params, returns_pk))
    return True


def _commits_here(db: BaseDatabaseWrapper) -> bool:
    """Whether the innermost atomic block is the outermost one and will commit when it ends (not a
    test's wrapping transaction, not a block marked for rollback)."""
    return (len(db.atomic_blocks) == 1 and not db.savepoint_ids and db.commit_on_exit
            and not db.needs_rollback)


@functools.cache
def _simple_query(vendor: str) -> bool:
    """PostgreSQL through psycopg's client-side binding cursor (Django's default, unless the
    `server_side_binding` option is set): the values go inside the SQL text, as one simple query,
    so one `execute()` can carry several statements, and `EXECUTE name(values)` of a prepared one."""
    db = database()
    options = db.settings_dict.get("OPTIONS") or {}
    return vendor == "postgresql" and not options.get("server_side_binding")


@contextmanager
def atomic_deferring_writes() -> Iterator[None]:
    """`transaction.atomic()` at whose end the writes made with `defer=True` are sent, in order.

    On PostgreSQL they are one round trip, and when this is the outermost block that round trip
    also commits (`UPDATE ...; INSERT ...; COMMIT`; Django's commit then has nothing left to do
    and runs the on_commit hooks as usual), while its BEGIN goes with the block's first statement
    (`BEGIN; SELECT ... FOR UPDATE`). An exception in the block sends none of the deferred writes
    and rolls back as `atomic()` does. What they write must not be read back before the block ends.
    """
    db = database()
    with transaction.atomic(), ExitStack() as stack:
        if _begin_can_wait(db):
            # psycopg would send BEGIN in a round trip of its own before the first statement:
            # leave it in autocommit and let the wrapper put BEGIN in front of that statement.
            db.connection.autocommit = True
            stack.enter_context(db.execute_wrapper(_BeginWithFirstStatement(db)))
        previous = getattr(_local, "batch", None)
        writes: list = []
        _local.batch = (writes, len(db.savepoint_ids))
        try:
            yield
        finally:
            _local.batch = previous
        _send_deferred(writes, db)  # the first statement, if nothing was sent yet: it carries BEGIN too


def _begin_can_wait(db: BaseDatabaseWrapper) -> bool:
    """An outermost block on PostgreSQL that hasn't sent anything yet."""
    if not (_simple_query(db.vendor) and _commits_here(db)):
        return False
    raw = db.connection
    return not raw.autocommit and raw.pgconn.transaction_status == psycopg.pq.TransactionStatus.IDLE


class _BeginWithFirstStatement:
    """A Django execute wrapper sending the transaction's BEGIN in the round trip of its first statement.

    Later statements pass through. psycopg stays in autocommit until the block ends (it refuses to
    leave it inside a transaction); the server's transaction is what counts, and Django's commit
    or rollback at the block's end ends it. A first statement that can't carry it (`executemany`,
    a server-side cursor) gets BEGIN on its own just before.
    """

    def __init__(self, db: BaseDatabaseWrapper):
        self.db, self.pending = db, True

    def __call__(self, execute, sql, params, many, context):
        db = self.db
        if not self.pending:
            return execute(sql, params, many, context)
        raw = context["cursor"].cursor
        if many or not isinstance(raw, psycopg.ClientCursor):
            db.connection.execute("BEGIN")
            self.pending = False
            return execute(sql, params, many, context)
        try:
            result = execute(f"BEGIN; {sql}", params, many, context)
        finally:
            # Failed before the server ran BEGIN (a value psycopg couldn't adapt): the next one carries it.
            self.pending = db.connection.pgconn.transaction_status == psycopg.pq.TransactionStatus.IDLE
        raw.nextset()  # to the statement's own result
        return result


def _send_deferred(writes: list, db: BaseDatabaseWrapper) -> None:
    if not writes:
        return
    if not _simple_query(db.vendor):
        for instance, sql, params, returns_pk in writes:
            with db.cursor() as cursor:
                run(cursor, prepared(sql, db), params)
                if instance is not None:
                    _inserted(instance, cursor.fetchone()[0] if returns_pk else None)
        return
    with db.cursor() as cursor:
        statements = [prepared(sql, db) for _, sql, _, _ in writes]
        if _commits_here(db):
            statements.append("COMMIT")
        run(cursor, "; ".join(statements), [p for _, _, params, _ in writes for p in params])
        for instance, _, _, returns_pk in writes:  # one result per statement, in order
            if instance is not None:
                _inserted(instance, cursor.fetchone()[0] if returns_pk else None)
            cursor.nextset()


def _inserted(instance: Model, pk) -> None:
    if pk is not None:
        instance.pk = pk
    instance._state.adding, instance._state.db = False, "default"
