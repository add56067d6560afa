from django.urls import include, path

from core.routers import OptionalSlashRouter
from webhooks.api import DeliveryViewSet, EndpointViewSet
from webhooks.event_types_api import EventTypeViewSet

router = OptionalSlashRouter()
router.register("webhooks", EndpointViewSet, basename="webhook")
router.register("deliveries", DeliveryViewSet, basename="delivery")
router.register("event-types", EventTypeViewSet, basename="event-type")

urlpatterns = [path("api/v1/", include(router.urls))]
