from django.urls import include, path

from accounts.routers import OptionalSlashRouter
from streams.api import ChatInteractionViewSet, ChatMessageViewSet, StreamSessionViewSet, TrackPlayViewSet

router = OptionalSlashRouter()
router.register("streams", StreamSessionViewSet, basename="stream")
router.register("tracks", TrackPlayViewSet, basename="track")
router.register("chat-messages", ChatMessageViewSet, basename="chat-message")
router.register("chat-interactions", ChatInteractionViewSet, basename="chat-interaction")

urlpatterns = [
    path("api/v1/", include(router.urls)),
]
