"""Creating tenants and their users."""

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils.text import slugify

from accounts.models import ApiToken, Membership, Tenant
from accounts.signals import user_created
from accounts.tokens import token_create


class SlugTaken(ValidationError):
    """Another tenant has the slug: callers that can suggest a way out (a new token instead) catch this."""


@dataclass(frozen=True)
class TenantCreated:
    tenant: Tenant
    owner: object
    password: str | None  # None when an existing user became the owner
    token: ApiToken
    token_key: str


def tenant_create(
    *, slug: str, owner_email: str, name: str = "", password: str | None = None
) -> TenantCreated:
    if slugify(slug) != slug or not slug:
        raise ValidationError({"slug": f"{slug!r} is not a valid slug (lower-case letters, digits, hyphens)"})
    validate_email(owner_email)
    if Tenant.objects.filter(slug=slug).exists():
        raise SlugTaken({"slug": f"tenant {slug!r} already exists"})

    User = get_user_model()
    with transaction.atomic():
        tenant = Tenant.objects.create(slug=slug, name=name or slug)
        # The e-mail is also the username of users made here; either match is the same person.
        owner = User.objects.filter(Q(email__iexact=owner_email) | Q(username__iexact=owner_email)).first()
        created_password = None
        if owner is None:
            created_password = password or secrets.token_urlsafe(12)
            owner = User.objects.create_user(
                username=owner_email.lower(), email=owner_email.lower(), password=created_password
            )
        elif password:
            owner.set_password(password)
            owner.save(update_fields=["password"])
        Membership.objects.create(tenant=tenant, user=owner, role=Membership.Role.OWNER)
        token, key = token_create(tenant=tenant, user=owner, name="owner")
        if created_password is not None:
            user_created.send(sender=tenant_create, user=owner, tenant=tenant)
    return TenantCreated(tenant=tenant, owner=owner, password=created_password, token=token, token_key=key)


def user_tenants(user) -> list[Tenant]:
    return [m.tenant for m in Membership.objects.filter(user=user).select_related("tenant")]
