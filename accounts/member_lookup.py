"""A tenant's member found by e-mail, as the recorder names the person a recording belongs to.

Every recorder post asks, and through the ORM the question costs more than the rest of the
recording's upsert (docs/benchmarks.md, "Ingest path layers"), so the answer is remembered for
`ACCOUNTS_MEMBER_CACHE_SECONDS` (default 5; 0 asks every time) in the shared cache
(core/remembered.py). A membership added or removed, or a user saved (deactivated, renamed), forgets
the entries for the user's current address at once; a post naming the address a user had before a
change may still find them until the entry expires.
"""

import hashlib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import Membership, Tenant
from core.remembered import database_scope, forget, remembered

DEFAULT_TTL = 5


def _key(tenant_id: int, email: str) -> str:
    digest = hashlib.sha256(email.casefold().encode()).hexdigest()[:24]
    return f"accounts:member:{database_scope()}:{tenant_id}:{digest}"


def member_by_email(*, tenant: Tenant, email: str):
    """The active member of `tenant` with this e-mail, compared case-insensitively (the oldest account
    wins a tie), or None. Only its id and e-mail are loaded."""
    def load():
        return (get_user_model().objects
                .filter(memberships__tenant=tenant, email__iexact=email, is_active=True)
                .only("pk", "email").order_by("pk").first())

    return remembered(_key(tenant.pk, email), load,
                      ttl=getattr(settings, "ACCOUNTS_MEMBER_CACHE_SECONDS", DEFAULT_TTL))


@receiver(post_save, sender=Membership, dispatch_uid="member-lookup-membership-save")
@receiver(post_delete, sender=Membership, dispatch_uid="member-lookup-membership-delete")
def _membership_changed(instance: Membership, **kwargs) -> None:
    email = get_user_model().objects.filter(pk=instance.user_id).values_list("email", flat=True).first()
    if email:
        forget([_key(instance.tenant_id, email)])


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="member-lookup-user-save")
def _user_changed(instance, update_fields=None, **kwargs) -> None:
    if update_fields is not None and not {"email", "is_active"} & set(update_fields):
        return  # a save that can't change the answer (a login's `last_login`) costs no query
    tenant_ids = list(Membership.objects.filter(user_id=instance.pk).values_list("tenant_id", flat=True))
    if tenant_ids and instance.email:
        forget([_key(tenant_id, instance.email) for tenant_id in tenant_ids])
