"""A short-lived, per-process memory of authenticated sources, so a busy sender costs no lookup query.

Every inbound request starts by finding its source (by key hash or by id); at hundreds of requests
a second from the same few senders, that SELECT is a sixth of the request. Sources change rarely
(rename, rotate, deactivate), so each process keeps what it found for
`WEBHOOKS_INBOUND_SOURCE_CACHE_SECONDS` (default 5). A change made in this process (a save, a
delete, a key rotation, a tenant switched off) empties it at once; other processes see the change
when their entry expires, so a rotated or disabled key stops working everywhere within that many
seconds. 0 turns the cache off.

Only hits are kept: an unknown key always asks the database, so random keys can't fill memory.
Callers get a copy, never the cached instance, because a request may set attributes on its source.
"""

import copy
import threading
import time
from collections.abc import Callable, Hashable

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import Tenant
from webhooks.inbound import conf
from webhooks.inbound.models import InboundSource

MAX_ENTRIES = 10_000

_entries: dict[Hashable, tuple[float, InboundSource]] = {}
_lock = threading.Lock()


def cached_source(key: Hashable, load: Callable[[], InboundSource | None]) -> InboundSource | None:
    """The source remembered under `key`, or `load()`'s answer (remembered when it is a source)."""
    ttl = conf.get("WEBHOOKS_INBOUND_SOURCE_CACHE_SECONDS")
    if not ttl or ttl <= 0:
        return load()
    now = time.monotonic()
    hit = _entries.get(key)
    if hit is not None and hit[0] > now:
        return copy.copy(hit[1])
    source = load()
    if source is not None:
        with _lock:
            if len(_entries) >= MAX_ENTRIES:
                _entries.clear()
            _entries[key] = (now + ttl, source)
        source = copy.copy(source)
    return source


def forget_sources() -> None:
    """Drop everything remembered (a source or tenant changed, or a test starts)."""
    with _lock:
        _entries.clear()


@receiver(post_save, sender=InboundSource, dispatch_uid="inbound-source-cache-save")
@receiver(post_delete, sender=InboundSource, dispatch_uid="inbound-source-cache-delete")
@receiver(post_save, sender=Tenant, dispatch_uid="inbound-source-cache-tenant")
@receiver(post_delete, sender=Tenant, dispatch_uid="inbound-source-cache-tenant-delete")
def _source_changed(**kwargs) -> None:
    forget_sources()
