"""Who may do what inside a tenant: owner > admin > member.

Members read; owners and admins also change the tenant's configuration, see and rotate secrets,
and manage other people's tokens and memberships. Only owners touch owners. A superuser acting for a
tenant it picked (the operator's tenant picker) counts as an admin of it.
"""

from accounts.models import Membership
from accounts.scoping import request_tenant

OWNER, ADMIN, MEMBER = Membership.Role.OWNER, Membership.Role.ADMIN, Membership.Role.MEMBER
_RANK = {MEMBER: 1, ADMIN: 2, OWNER: 3}


def role_at_least(role: str | None, required: str) -> bool:
    return role is not None and _RANK.get(role, 0) >= _RANK[required]


def request_role(request) -> str | None:
    """The caller's role in the tenant the request acts for, or None when it acts for none."""
    tenant = request_tenant(request)
    if tenant is None:
        return None
    cached = getattr(request, "streamhook_role", None)
    if cached is not None:
        return cached
    role = (
        Membership.objects.filter(tenant=tenant, user=request.user).values_list("role", flat=True).first()
    )
    if role is None and request.user.is_superuser:
        role = ADMIN
    request.streamhook_role = role
    return role


def request_is_tenant_admin(request) -> bool:
    """Whether the caller is an owner or admin of the tenant it acts for (members manage only their own)."""
    return role_at_least(request_role(request), ADMIN)
