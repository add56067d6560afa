"""Whether the Django cache is Redis, for code whose correctness or cost depends on it."""

from django.core.cache import caches
from django_redis.cache import RedisCache


def on_redis() -> bool:
    """Whether the default cache is Redis: INCR and SET NX are atomic across hosts there, and
    `django_redis.get_redis_connection()` gives a client for what Django's cache API can't say.

    `django.core.cache.cache` is a proxy, so `isinstance(cache, RedisCache)` is always False: ask the
    backend behind it, here, rather than in each caller.
    """
    return isinstance(caches["default"], RedisCache)
