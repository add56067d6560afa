"""Every API view of ours goes through accounts/scoping.py; none can forget the tenant filter."""

import inspect

import pytest
from django.urls import get_resolver
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from accounts.permissions import HasTenant
from accounts.scoping import TenantScopedMixin
from webhooks.inbound.views import is_inbound


def _our_api_views() -> dict[type, str]:
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif not is_inbound(pattern.callback):  # a sender's endpoint: its source's key names the tenant
                yield prefix + str(pattern.pattern), getattr(pattern.callback, "cls", None)

    views = {}
    for route, cls in walk(get_resolver().url_patterns):
        if cls and issubclass(cls, APIView) and not cls.__module__.startswith(("rest_framework", "drf_spectacular")):
            views.setdefault(cls, route)
    return views


def test_the_project_has_api_views_to_check():
    names = {cls.__name__ for cls in _our_api_views()}
    assert {"EndpointViewSet", "ApiTokenViewSet", "TenantView"} <= names


@pytest.mark.parametrize("view", sorted(_our_api_views(), key=lambda c: c.__qualname__), ids=lambda c: c.__name__)
def test_every_api_view_is_tenant_scoped_and_needs_a_tenant_credential(view):
    assert IsAuthenticated in view.permission_classes and HasTenant in view.permission_classes
    if issubclass(view, TenantScopedMixin):
        # A get_queryset of the view itself would bypass the mixin's filter unless it builds on it.
        before = view.__mro__[: view.__mro__.index(TenantScopedMixin)]
        for cls in before:
            if "get_queryset" in vars(cls):
                assert "super().get_queryset()" in inspect.getsource(vars(cls)["get_queryset"]), cls
    else:
        source = inspect.getsource(view)
        assert "require_tenant(request)" in source, f"{view.__name__} reads data without accounts.scoping"
