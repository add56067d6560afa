from django.urls import include, path

from accounts.routers import OptionalSlashRouter
from webhooks.inbound.api import InboundSourceViewSet

router = OptionalSlashRouter()
router.register("inbound-sources", InboundSourceViewSet, basename="inbound-source")

urlpatterns = [path("api/v1/", include(router.urls))]
