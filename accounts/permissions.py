from rest_framework.permissions import BasePermission

from accounts.scoping import request_tenant


class HasTenant(BasePermission):
    message = "This account does not belong to any tenant; ask its owner to add you."

    def has_permission(self, request, view) -> bool:
        return request_tenant(request) is not None
