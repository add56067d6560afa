"""Rows the ingest path reads on every request, remembered for a few seconds in the shared cache.

A lookup through the ORM costs far more Python than a cache read (docs/benchmarks.md, "Ingest path
layers"), and what a sender's request looks up (its source, the member a recording names) changes
rarely. Each caller forgets its entries on every change made through Streamhook, for every process
at once (the cache is Django's, Redis in production); the time to live bounds any other change.

Only hits are kept, so a stream of unknown keys can't fill the cache. Entries are forgotten both at
once and when the changing transaction commits: a request that read the old row between the two
would otherwise put it back.

`REMEMBERED_NAMESPACE` (default empty) is put in front of every key. The test suite gives each test
its own: SQLite hands a rolled-back test's ids out again, and a rollback sends no signal to forget
what the test remembered.
"""

import hashlib
import logging
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

logger = logging.getLogger(__name__)

T = TypeVar("T")


def database_scope() -> str:
    """A short name for the database the default connection uses, to put in a key built from ids.

    Ids repeat across databases (a re-created one, another test run's on the same cache); a random
    credential's hash doesn't need this.
    """
    database = connection.settings_dict
    where = f"{database.get('HOST', '')}:{database.get('PORT', '')}/{database.get('NAME', '')}"
    return hashlib.sha256(where.encode()).hexdigest()[:12]


def _namespaced(key: str) -> str:
    namespace = getattr(settings, "REMEMBERED_NAMESPACE", "")
    return f"{namespace}:{key}" if namespace else key


def remembered(key: str, load: Callable[[], T | None], *, ttl: int | None) -> T | None:
    """The cached value of `key`, else `load()`'s answer, remembered for `ttl` seconds when it isn't None.

    A `ttl` of 0 or None turns remembering off. A cache that is down costs the lookup, never the request.
    """
    if not ttl or ttl <= 0:
        return load()
    key = _namespaced(key)
    try:
        value = cache.get(key)
    except Exception:
        logger.warning("cache unavailable; asking the database", exc_info=True)
        return load()
    if value is not None:
        return value
    value = load()
    if value is not None:
        try:
            cache.set(key, value, ttl)
        except Exception:
            logger.warning("cache unavailable; not remembering %s", key.split(":", 2)[:2], exc_info=True)
    return value


def forget(keys: list[str]) -> None:
    """Drop `keys` now and when the current transaction commits (at once outside a transaction)."""
    keys = [_namespaced(key) for key in keys]
    _delete(keys)
    transaction.on_commit(lambda: _delete(keys))


def _delete(keys: list[str]) -> None:
    try:
        cache.delete_many(keys)
    except Exception:  # the entries expire on their own
        logger.warning("could not forget cached entries", exc_info=True)
