"""API token keys: generated with `secrets`, stored as SHA-256, compared by hash lookup."""

import hashlib
import secrets
from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from accounts.models import ApiToken, Tenant

TOKEN_PREFIX = "shk_"
# Writing last_used_at on every request would turn reads into writes; once a minute is plenty.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_create(*, tenant: Tenant, user, name: str = "default") -> tuple[ApiToken, str]:
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        tenant=tenant, user=user, name=name, prefix=key[:12], key_hash=hash_key(key)
    )
    return token, key


def token_authenticate(key: str) -> ApiToken | None:
    """The live token for `key`: not revoked, its tenant active, its user active and still a member
    (removing someone from a tenant must cut off the tokens they made there)."""
    token = (
        ApiToken.objects.select_related("tenant", "user")
        .filter(key_hash=hash_key(key), revoked_at__isnull=True, tenant__is_active=True,
                tenant__memberships__user_id=F("user_id"))
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
