"""Who may open a portal page: a signed-in member of an active tenant; owners and admins for secrets,
adding and editing endpoints, and managing members (the API's rule, docs/tenancy.md).

Tenant and role come from `accounts.scoping`, the one place the API decides them too.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from accounts.roles import request_is_tenant_admin, request_role
from accounts.scoping import request_tenant


def tenant_member(view: Callable) -> Callable:
    """Signed in and a member of a tenant; the view gets `request.tenant`. Without a tenant: a 403 page."""

    @login_required(login_url="portal:login")
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        tenant = request_tenant(request)
        if tenant is None:
            return render(request, "portal/no_tenant.html", status=403)
        request.tenant = tenant
        request.tenant_role = request_role(request)
        request.is_tenant_admin = request_is_tenant_admin(request)
        return view(request, *args, **kwargs)

    return wrapped


def tenant_admin(view: Callable) -> Callable:
    """Like `tenant_member`, for owners and admins only (secrets, endpoint writes, members): a member gets 403."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.is_tenant_admin:
            raise PermissionDenied("Only the tenant's owners and admins can do this.")
        return view(request, *args, **kwargs)

    return tenant_member(wrapped)
