"""Per-endpoint delivery rate limit, shared by every worker process through the Django cache.

A fixed window of `max(1 s, 1/rate)` holds `rate * window` sends; the counter is a cache key
per (endpoint, window). On Redis (production, CI) INCR is atomic across hosts. Django's other
backends increment with a read and a write, so two processes would overwrite each other's counts
(docs/benchmarks.md, "The delivery engine"); there the increment runs under an exclusive
file lock, which makes it exact across the processes of one machine, the embedded mode's reach.
"""

import fcntl
import logging
import math
import os
import tempfile
import threading
import time
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.filebased import FileBasedCache

from webhooks.shared_cache import on_redis

logger = logging.getLogger(__name__)

# How long a spent window's counter outlives it: a worker whose clock runs behind the others' still
# finds the window spent instead of recreating it with a fresh allowance.
WINDOW_KEPT_SECONDS = 60

_thread_lock = threading.Lock()  # flock is per open file; threads of one process take this first


@contextmanager
def _exclusive():
    """Serialise read-modify-write increments for caches without an atomic INCR."""
    if on_redis():  # INCR is atomic there, across hosts
        yield
        return
    # Beside the file cache's entries, so every process sharing the cache shares the lock.
    file_cache = isinstance(caches["default"], FileBasedCache)
    directory = settings.CACHES["default"]["LOCATION"] if file_cache else tempfile.gettempdir()
    os.makedirs(directory, exist_ok=True)  # the file cache creates its folder only on its first write
    with _thread_lock, open(os.path.join(directory, ".webhooks-ratelimit.lock"), "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def acquire(endpoint_id: int, rate: float, *, now: float | None = None) -> float:
    """Take one send from `endpoint_id`'s allowance: 0 when it may go now, else seconds to wait."""
    if not rate or rate <= 0:
        return 0.0
    now = time.time() if now is None else now
    window = max(1.0, 1.0 / rate)
    allowance = max(1, math.floor(rate * window))
    slot = int(now // window)
    key = f"webhooks:rl:{endpoint_id}:{slot}"
    try:
        with _exclusive():
            cache.add(key, 0, timeout=int(window) + WINDOW_KEPT_SECONDS)
            used = cache.incr(key)
    except Exception:
        # The cache is down (Redis restarting): sending beats stalling every endpoint.
        logger.warning("rate limiter unavailable; endpoint %s not limited", endpoint_id, exc_info=True)
        return 0.0
    if used <= allowance:
        return 0.0
    # Queue behind the ones already over the limit, so they don't all return at once.
    excess = used - allowance - 1
    return (slot + 1) * window - now + excess / rate
