"""A row lock held from another connection, as another process's open transaction would hold it (PostgreSQL)."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection, connections, transaction

# What PostgreSQL takes on a row: a foreign key's check of a row being inserted elsewhere, and an UPDATE
# that changes no key column.
LOCKS = ("FOR KEY SHARE", "FOR NO KEY UPDATE")


@contextmanager
def row_locked(model, pk, *, lock: str) -> Iterator[Callable[[], None]]:
    """Hold `lock` on the row until the block ends, or until the `release()` it yields is called."""
    assert lock in LOCKS, lock
    locked, released = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                table = connection.ops.quote_name(model._meta.db_table)
                cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s {lock}", [pk])  # noqa: S608
                locked.set()
                released.wait(10)
        except BaseException as exc:  # surfaced below: the test must not pass on a lock never taken
            errors.append(exc)
        finally:
            locked.set()
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10)
    try:
        yield released.set
    finally:
        released.set()
        holder.join(10)
    assert not errors, errors
