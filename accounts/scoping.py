"""The one place that decides which tenant a request acts for, and scopes querysets by it.

Every API view that lists or touches tenant data inherits `TenantScopedMixin` (or calls
`request_tenant`), so no view can forget the filter.
"""

from django.http import Http404

from accounts.models import ApiToken, Membership, Tenant

_CACHE_ATTR = "_streamhook_tenant"


def request_tenant(request) -> Tenant | None:
    """The tenant of the API token (or source URL), or of the signed-in user's first membership."""
    raw = getattr(request, "_request", request)  # DRF Request wraps Django's
    if hasattr(raw, _CACHE_ATTR):
        return getattr(raw, _CACHE_ATTR)
    auth = getattr(request, "auth", None)
    tenant = None
    if isinstance(auth, ApiToken):
        tenant = auth.tenant
    elif isinstance(getattr(auth, "tenant", None), Tenant):
        # A credential that stands for a tenant without a user: an inbound source's URL.
        tenant = auth.tenant
    elif request.user.is_authenticated:
        membership = (
            Membership.objects.filter(user=request.user, tenant__is_active=True)
            .select_related("tenant")
            .first()
        )
        tenant = membership.tenant if membership else None
    setattr(raw, _CACHE_ATTR, tenant)
    return tenant


def request_is_tenant_admin(request) -> bool:
    """Whether the caller is an owner or admin of the tenant it acts for (members manage only their own)."""
    tenant = request_tenant(request)
    return tenant is not None and Membership.objects.filter(
        tenant=tenant, user=request.user, role__in=[Membership.Role.OWNER, Membership.Role.ADMIN]
    ).exists()


def require_tenant(request) -> Tenant:
    tenant = request_tenant(request)
    if tenant is None:
        raise Http404("No tenant for this account.")
    return tenant


class TenantScopedMixin:
    """Filters `get_queryset()` by the caller's tenant and stamps it on created rows."""

    tenant_lookup = "tenant"

    @property
    def tenant(self) -> Tenant:
        return require_tenant(self.request)

    def get_queryset(self):
        return super().get_queryset().filter(**{self.tenant_lookup: self.tenant})

    def perform_create(self, serializer):
        serializer.save(tenant=self.tenant)
