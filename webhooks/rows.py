"""`insert_row()`: `Model.save(force_insert=True)` for the ingest hot path, at a third of the cost.

Every inbound request writes an `InboundMessage` and an `Event`. The ORM compiles the INSERT
anew each time (query, compiler, `as_sql`), which cost more CPU than the database spent on the
row: `bench/ingest.py` is CPU-bound, so that was requests/s lost. Here the statement is built
once per model from its metadata and only the values change.

Use it only for models without save() overrides or pre/post_save receivers that matter:
it sends no signals (tests check that `Event` and `InboundMessage` have none).
"""

import functools

from django.db import connection
from django.db.models import Field, Model


@functools.cache
def _insert(model: type[Model], vendor: str) -> tuple[str, list[Field], bool]:
    meta = model._meta
    auto_pk = meta.pk if meta.pk.db_returning else None  # an AutoField: the database picks it
    fields = [f for f in meta.concrete_fields if f is not auto_pk]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if auto_pk is not None:
        sql += f" RETURNING {quote(auto_pk.column)}"
    return sql, fields, auto_pk is not None


def insert_row(instance: Model) -> Model:
    """INSERT `instance` (on the default database), setting its pk when the database assigns it."""
    sql, fields, returns_pk = _insert(type(instance), connection.vendor)
    params = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returns_pk:
            instance.pk = cursor.fetchone()[0]
    instance._state.adding, instance._state.db = False, "default"
    return instance


def has_save_hooks(model: type[Model]) -> bool:
    """Whether saving `model` runs code `insert_row()` would skip (for the tests that guard its use)."""
    from django.db.models.signals import post_save, pre_save

    return model.save is not Model.save or pre_save.has_listeners(model) or post_save.has_listeners(model)
