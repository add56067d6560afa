"""Which backend the Django cache is, for code whose correctness or cost depends on it."""

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache


def redis_backend() -> RedisCache | None:
    """The default cache's backend if it is Redis (atomic INCR, SET NX across hosts), else None.

    `django.core.cache.cache` is a proxy, so `isinstance(cache, RedisCache)` is always False: ask the
    backend behind it, here, rather than in each caller.
    """
    backend = caches["default"]
    return backend if isinstance(backend, RedisCache) else None


_CLIENTS: dict[int, object] = {}


def redis_client(backend: RedisCache):
    """A redis-py client on the cache's own connection pool, kept per process.

    Django builds a new client object on every cache call, and redis-py's constructor fills a
    table of ~170 response callbacks each time: on the ingest hot path that was a tenth of a
    millisecond per call. Callers use `backend.make_and_validate_key()` for keys Django also reads.
    """
    pool = backend._cache._get_connection_pool(write=True)
    client = _CLIENTS.get(id(pool))
    if client is None:
        client = _CLIENTS[id(pool)] = backend._cache._client(connection_pool=pool)
    return client
