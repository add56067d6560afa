"""`/api/v1/`: where the browsable API lands after sign-in — who you act for, and every collection."""

from django.urls import get_resolver, reverse
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import require_tenant
from accounts.serializers import TenantSerializer


def _v1_collections() -> dict[str, str]:
    """`{name: path}` of every router list route under /api/v1/, found in the URLconf (no list to forget)."""
    names = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif prefix.startswith("api/v1/") and pattern.name and pattern.name.endswith("-list"):
                names.append(pattern.name)

    walk(get_resolver().url_patterns, "")
    return {name.removesuffix("-list"): reverse(name).rstrip("/") for name in sorted(set(names))}


class ApiRootView(APIView):
    @extend_schema(exclude=True)
    def get(self, request):
        links = {name: request.build_absolute_uri(path) for name, path in _v1_collections().items()}
        return Response({
            "tenant": TenantSerializer(require_tenant(request)).data,
            "links": {"tenant": request.build_absolute_uri(reverse("tenant")), **links},
            "docs": request.build_absolute_uri(reverse("api-docs")),
        })
