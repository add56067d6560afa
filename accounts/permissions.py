"""DRF permissions: a caller needs a tenant, and the role each operation asks for.

Every API view gets both from the defaults in settings. A view names the operations a member may
perform beyond reading (`member_actions`) and the reads that need more (`admin_actions`); every other
write needs an owner or admin. Action names are a viewset's (`create`, `rotate_secret`) or, for a plain
APIView, the HTTP method in lower case.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.roles import ADMIN, MEMBER, request_role, role_at_least
from accounts.scoping import request_tenant


class HasTenant(BasePermission):
    message = "This account does not belong to any tenant; ask its owner to add you."

    def has_permission(self, request, view) -> bool:
        return request_tenant(request) is not None


def required_role(request, view) -> str:
    # The route's action for this method, not view.action: the browsable API asks about a POST form
    # (create) while rendering a GET (list).
    method = request.method.lower()
    action = getattr(view, "action_map", {}).get(method) or getattr(view, "action", None) or method
    if action in getattr(view, "admin_actions", ()):
        return ADMIN
    if request.method in SAFE_METHODS or action in getattr(view, "member_actions", ()):
        return MEMBER
    return ADMIN


class HasTenantRole(BasePermission):
    """403 naming the role needed, so a member knows whom to ask."""

    def has_permission(self, request, view) -> bool:
        if request_tenant(request) is None:
            return True  # HasTenant answers for that
        needed = required_role(request, view)
        if role_at_least(request_role(request), needed):
            return True
        self.message = f"This needs the {needed} role in this tenant or higher; your role is {request_role(request)}."
        return False
