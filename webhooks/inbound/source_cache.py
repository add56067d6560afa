"""Authenticated sources remembered in the shared cache, so a busy sender costs no lookup query.

Every inbound request starts by finding its source. Asked of PostgreSQL through the ORM, that is a
large share of an ingest request (docs/benchmarks.md, "Ingest path layers"); read back from the
Django cache (Redis in production) it is a small one. Sources change rarely, and every change made
through Streamhook (a save or delete, a key or URL rotated, a tenant switched off) forgets the
source's entries in the shared cache, for every process at once. The entries still expire after
`WEBHOOKS_INBOUND_SOURCE_CACHE_SECONDS` (default 5; 0 turns the cache off), which bounds what a
change made around Streamhook's code (SQL by hand) leaves behind.

Entries are keyed by the credential's hash (API key, URL secret), which is random and never reused,
so two databases sharing one cache (concurrent test runs, a re-created database) can't read each
other's sources. Lookups by id (the RealCast URL's) are not remembered for that reason: the same id
is another source in another database.
Only hits are kept: an unknown key always asks the database, so random keys can't fill the cache.
A changed source is forgotten both at once and when its transaction commits: a request that read
the old row between the two would otherwise put it back.
"""

import logging
from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import Tenant
from webhooks.inbound import conf
from webhooks.inbound.models import InboundSource

logger = logging.getLogger(__name__)


def _cache_key(credential: str, digest: str) -> str:
    return f"inbound:source:{credential}:{digest}"


def remembered_source(credential: str, digest: str, load: Callable[[], InboundSource | None]) -> InboundSource | None:
    """The source whose `credential` ("key" or "url") hashes to `digest`: from the cache, else `load()`'s
    answer (then remembered when it is a source). Each caller gets its own instance."""
    ttl = conf.get("WEBHOOKS_INBOUND_SOURCE_CACHE_SECONDS")
    if not ttl or ttl <= 0:
        return load()
    key = _cache_key(credential, digest)
    try:
        source = cache.get(key)
    except Exception:  # the cache is down: the database still answers
        logger.warning("inbound source cache unavailable", exc_info=True)
        return load()
    if source is not None:
        return source
    source = load()
    if source is not None:
        try:
            cache.set(key, source, ttl)
        except Exception:
            logger.warning("inbound source cache unavailable", exc_info=True)
    return source


def forget_source(source: InboundSource) -> None:
    """Drop `source`'s entries (call before its key or URL hash changes): now, and when the current
    transaction commits."""
    keys = [_cache_key("key", source.key_hash), _cache_key("url", source.url_secret_hash)]
    _delete(keys)
    transaction.on_commit(lambda: _delete(keys))


def _delete(keys: list[str]) -> None:
    try:
        cache.delete_many(keys)
    except Exception:  # the entries expire on their own within WEBHOOKS_INBOUND_SOURCE_CACHE_SECONDS
        logger.warning("could not forget inbound sources in the cache", exc_info=True)


@receiver(post_save, sender=InboundSource, dispatch_uid="inbound-source-cache-save")
@receiver(post_delete, sender=InboundSource, dispatch_uid="inbound-source-cache-delete")
def _source_changed(instance: InboundSource, **kwargs) -> None:
    forget_source(instance)


@receiver(post_save, sender=Tenant, dispatch_uid="inbound-source-cache-tenant")
def _tenant_changed(instance: Tenant, **kwargs) -> None:
    """A tenant switched off takes its sources with it (deleting one deletes, and so forgets, them)."""
    for source in InboundSource.objects.filter(tenant=instance).only("key_hash", "url_secret_hash"):
        forget_source(source)
