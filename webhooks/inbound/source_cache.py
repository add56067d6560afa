"""Authenticated sources remembered in the shared cache, so a busy sender costs no lookup query.

Every inbound request starts by finding its source: by the credential it presents (API key, URL
secret) or by the id in RealCast's URL. Sources change rarely, and every change made through
Streamhook (a save or delete, a key or URL rotated, a tenant switched off) forgets the source's
entries (core/remembered.py). Entries expire after `WEBHOOKS_INBOUND_SOURCE_CACHE_SECONDS`
(default 5; 0 turns the cache off), which bounds what a change made around Streamhook's code (SQL
by hand) leaves behind.

Credentials are keyed by their hash, which is random and never reused; ids are keyed with the
database they belong to (`database_scope`), since the same id is another source in another database.
"""

from collections.abc import Callable

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import Tenant
from core.remembered import database_scope, forget, remembered
from webhooks.inbound import conf
from webhooks.inbound.models import InboundSource


def _cache_key(credential: str, digest: str) -> str:
    return f"inbound:source:{credential}:{digest}"


def _id_digest(source_id: int) -> str:
    return f"{database_scope()}:{source_id}"


def remembered_source(credential: str, digest: str, load: Callable[[], InboundSource | None]) -> InboundSource | None:
    """The source whose `credential` ("key", "url" or "id") is `digest`: from the cache, else `load()`'s
    answer (then remembered when it is a source). Each caller gets its own instance."""
    return remembered(_cache_key(credential, digest), load, ttl=conf.get("WEBHOOKS_INBOUND_SOURCE_CACHE_SECONDS"))


def remembered_source_by_id(source_id: int, load: Callable[[], InboundSource | None]) -> InboundSource | None:
    return remembered_source("id", _id_digest(source_id), load)


def forget_source(source: InboundSource) -> None:
    """Drop `source`'s entries (call before its key or URL hash changes): now, and when the current
    transaction commits."""
    forget([_cache_key("key", source.key_hash), _cache_key("url", source.url_secret_hash),
            _cache_key("id", _id_digest(source.pk))])


@receiver(post_save, sender=InboundSource, dispatch_uid="inbound-source-cache-save")
@receiver(post_delete, sender=InboundSource, dispatch_uid="inbound-source-cache-delete")
def _source_changed(instance: InboundSource, **kwargs) -> None:
    forget_source(instance)


@receiver(post_save, sender=Tenant, dispatch_uid="inbound-source-cache-tenant")
def _tenant_changed(instance: Tenant, **kwargs) -> None:
    """A tenant switched off takes its sources with it (deleting one deletes, and so forgets, them)."""
    for source in InboundSource.objects.filter(tenant=instance).only("pk", "key_hash", "url_secret_hash"):
        forget_source(source)
