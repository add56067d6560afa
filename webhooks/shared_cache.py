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
