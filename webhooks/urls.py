from django.urls import include, path

from accounts.routers import OptionalSlashRouter
from webhooks.api import DeliveryViewSet, EndpointViewSet

router = OptionalSlashRouter()
router.register("webhooks", EndpointViewSet, basename="webhook")
router.register("deliveries", DeliveryViewSet, basename="delivery")

urlpatterns = [path("api/v1/", include(router.urls))]
