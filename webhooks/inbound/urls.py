from django.urls import include, path

from core.routers import OptionalSlashRouter
from webhooks.inbound.api import InboundMessageViewSet, InboundSourceViewSet

router = OptionalSlashRouter()
router.register("inbound-sources", InboundSourceViewSet, basename="inbound-source")
router.register("inbound-messages", InboundMessageViewSet, basename="inbound-message")

urlpatterns = [path("api/v1/", include(router.urls))]
