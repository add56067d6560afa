"""`insert_row()`, `update_row()`, `locked_row()`: the ingest hot path's statements, cheaper.

Every inbound request writes an `InboundMessage` and an `Event`, most lock a session row. The ORM
compiles each statement anew (query, compiler, `as_sql`), which cost more CPU than the database
spent on the row: `bench/ingest.py` is CPU-bound, so that was requests/s lost. Here a statement
is built once per model (and key) from its metadata and only the values change.

Use `insert_row()` and `update_row()` only for models without save() overrides or pre/post_save
receivers: they send no signals (tests check that the models they write have none).
"""

import functools
from typing import TypeVar

from django.db import connection
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)


@functools.cache
def _insert(model: type[Model], vendor: str, conflict_on: tuple[str, ...]) -> tuple[str, list[Field], bool]:
    meta = model._meta
    auto_pk = meta.pk if meta.pk.db_returning else None  # an AutoField: the database picks it
    fields = [f for f in meta.concrete_fields if f is not auto_pk]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if conflict_on:
        sql += f" ON CONFLICT ({', '.join(quote(meta.get_field(f).column) for f in conflict_on)}) DO NOTHING"
    if auto_pk is not None:
        sql += f" RETURNING {quote(auto_pk.column)}"
    return sql, fields, auto_pk is not None


def insert_row(instance: Model, *, unless_conflict_on: tuple[str, ...] = ()) -> bool:
    """INSERT `instance` (on the default database), setting its pk when the database assigns it.

    `unless_conflict_on` names a unique constraint's fields: a row already holding those values
    makes this insert nothing and return False (PostgreSQL and SQLite's `ON CONFLICT DO NOTHING`).
    """
    sql, fields, returns_pk = _insert(type(instance), connection.vendor, unless_conflict_on)
    params = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returns_pk:
            row = cursor.fetchone()
            if row is None:
                return False
            instance.pk = row[0]
        elif unless_conflict_on and cursor.rowcount == 0:
            return False
    instance._state.adding, instance._state.db = False, "default"
    return True


@functools.cache
def _update(model: type[Model], vendor: str, names: tuple[str, ...]) -> tuple[str, list[Field]]:
    meta, quote = model._meta, connection.ops.quote_name
    fields = [meta.get_field(name) for name in names]
    sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    return f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {quote(meta.pk.column)} = %s", fields  # noqa: S608


def update_row(instance: Model, fields: list[str] | set[str]) -> None:
    """`instance.save(update_fields=fields)` for a row known to exist: one UPDATE by pk, no signals.

    `auto_now` fields among `fields` get the current time, as with save().
    """
    sql, model_fields = _update(type(instance), connection.vendor, tuple(sorted(fields)))
    params = [f.get_db_prep_save(f.pre_save(instance, False), connection) for f in model_fields]
    params.append(instance._meta.pk.get_db_prep_value(instance.pk, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@functools.cache
def _converters(model: type[Model], vendor: str) -> list[tuple]:
    """Per column, what the ORM applies to a fetched value (SQLite's datetimes are text, JSON is text...)."""
    out = []
    for f in model._meta.concrete_fields:
        col = f.get_col(model._meta.db_table)
        out.append((col, [*connection.ops.get_db_converters(col), *f.get_db_converters(connection)]))
    return out


@functools.cache
def _select_for_update(model: type[Model], vendor: str, keys: tuple[str, ...]) -> tuple[str, list[str]]:
    meta, quote = model._meta, connection.ops.quote_name
    fields = [f.attname for f in meta.concrete_fields]
    where = " AND ".join(f"{quote(meta.get_field(k).column)} = %s" for k in keys)
    sql = (f"SELECT {', '.join(quote(f.column) for f in meta.concrete_fields)} "  # noqa: S608
           f"FROM {quote(meta.db_table)} WHERE {where}")
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    return sql, fields


def locked_row(model: type[M], **keys) -> M | None:
    """The row with these exact field values, locked until the transaction ends (SQLite: the write lock
    the transaction holds already), or None. For a unique key: at most one row is expected."""
    names = tuple(keys)
    sql, attnames = _select_for_update(model, connection.vendor, names)
    params = [model._meta.get_field(name).get_db_prep_value(value, connection) for name, value in keys.items()]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for value, (col, converters) in zip(row, _converters(model, connection.vendor), strict=True):
        for convert in converters:
            value = convert(value, col, connection)
        values.append(value)
    return model.from_db("default", attnames, values)


def has_save_hooks(model: type[Model]) -> bool:
    """Whether saving `model` runs code `insert_row()` and `update_row()` would skip (for the tests that
    guard their use)."""
    from django.db.models.signals import post_save, pre_save

    return model.save is not Model.save or pre_save.has_listeners(model) or post_save.has_listeners(model)
