from django.urls import include, path

from core.routers import OptionalSlashRouter
from streams.api import ChatInteractionViewSet, ChatMessageViewSet, StreamSessionViewSet, TrackPlayViewSet
from streams.views import ChatInteractionView, RealCastView, StreamStatsView, TrackClassifiedView

router = OptionalSlashRouter()
router.register("streams", StreamSessionViewSet, basename="stream")
router.register("tracks", TrackPlayViewSet, basename="track")
router.register("chat-messages", ChatMessageViewSet, basename="chat-message")
router.register("chat-interactions", ChatInteractionViewSet, basename="chat-interaction")

urlpatterns = [
    # The DJ stream assistant's paths, exactly (no trailing slash).
    path("api/webhook/track-classified", TrackClassifiedView.as_view(), name="streams-track-classified"),
    path("api/webhook/chat-interaction", ChatInteractionView.as_view(), name="streams-chat-interaction"),
    path("api/webhook/stream-stats", StreamStatsView.as_view(), name="streams-stream-stats"),
    # The URL pasted into RealCast's dashboard; the signature alone authenticates.
    path("webhooks/realcast/<str:source_id>", RealCastView.as_view(), name="streams-realcast"),
    path("api/v1/", include(router.urls)),
]

# The same views under a source URL (`/s/<secret>/`, config/urls.py), which replaces key and source id;
# the schema documents them once, at the paths above.
source_urlpatterns = [
    path("api/webhook/track-classified", TrackClassifiedView.as_view(schema=None)),
    path("api/webhook/chat-interaction", ChatInteractionView.as_view(schema=None)),
    path("api/webhook/stream-stats", StreamStatsView.as_view(schema=None)),
    path("webhooks/realcast", RealCastView.as_view(schema=None)),
    path("webhooks/realcast/<str:source_id>", RealCastView.as_view(schema=None)),
]
