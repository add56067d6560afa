from django.urls import path

from accounts.api import ApiTokenViewSet, TenantView
from accounts.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("tokens", ApiTokenViewSet, basename="token")

urlpatterns = [path("tenant", TenantView.as_view(), name="tenant"), *router.urls]
