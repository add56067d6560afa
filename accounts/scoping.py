"""The one place that decides which tenant a request acts for, and scopes querysets by it.

Every API view that lists or touches tenant data inherits `TenantScopedMixin` (or calls
`request_tenant`), so no view can forget the filter.
"""

from django.http import Http404

from accounts.models import ApiToken, Membership, Tenant

_CACHE_ATTR = "_streamhook_tenant"
# The session key of the tenant a signed-in person chose with the tenant picker.
SESSION_TENANT_KEY = "streamhook_tenant"


def request_tenant(request) -> Tenant | None:
    """The tenant of the API token (or source URL); for a signed-in person, the one picked (any tenant for
    a superuser, one of theirs for others), else their first membership's."""
    # Remembered on the request it was asked of; a DRF Request also reads what was set on the
    # Django request it wraps (by attribute fallthrough), so middleware's answer is reused too.
    if hasattr(request, _CACHE_ATTR):
        return getattr(request, _CACHE_ATTR)
    auth = getattr(request, "auth", None)
    tenant = None
    if isinstance(auth, ApiToken):
        tenant = auth.tenant
    elif isinstance(getattr(auth, "tenant", None), Tenant):
        # A credential that stands for a tenant without a user: an inbound source's URL.
        tenant = auth.tenant
    elif request.user.is_authenticated:
        tenant = _picked_tenant(request)
    if tenant is None and auth is None and request.user.is_authenticated:
        membership = (
            Membership.objects.filter(user=request.user, tenant__is_active=True)
            .select_related("tenant")
            .first()
        )
        tenant = membership.tenant if membership else None
    setattr(request, _CACHE_ATTR, tenant)
    return tenant


def _picked_tenant(raw) -> Tenant | None:
    session = getattr(raw, "session", None)
    slug = session.get(SESSION_TENANT_KEY) if session is not None else None
    if not slug:
        return None
    tenants = Tenant.objects.filter(slug=slug, is_active=True)
    if not raw.user.is_superuser:
        tenants = tenants.filter(memberships__user=raw.user)
    return tenants.first()


def tenants_pickable(user) -> list[Tenant]:
    """The tenants `user` may act for in the browser: every active one for a superuser, else their own."""
    tenants = Tenant.objects.filter(is_active=True)
    if not user.is_superuser:
        tenants = tenants.filter(memberships__user=user)
    return list(tenants.order_by("slug"))




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
