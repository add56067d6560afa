from django.urls import path

from accounts.api import ApiTokenViewSet, MemberViewSet, TenantView
from core.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("tokens", ApiTokenViewSet, basename="token")
router.register("members", MemberViewSet, basename="member")

urlpatterns = [path("tenant", TenantView.as_view(), name="tenant"), *router.urls]
