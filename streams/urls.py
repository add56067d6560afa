from django.urls import include, path

from accounts.routers import OptionalSlashRouter
from streams.api import ChatInteractionViewSet, ChatMessageViewSet, StreamSessionViewSet, TrackPlayViewSet
from webhooks.inbound.views import inbound_view

router = OptionalSlashRouter()
router.register("streams", StreamSessionViewSet, basename="stream")
router.register("tracks", TrackPlayViewSet, basename="track")
router.register("chat-messages", ChatMessageViewSet, basename="chat-message")
router.register("chat-interactions", ChatInteractionViewSet, basename="chat-interaction")

_ASSISTANT = {"kinds": {"stream-assistant"}}

urlpatterns = [
    # Seed 000's paths, exactly (no trailing slash).
    path("api/webhook/track-classified", inbound_view(handler="streams.track_classified", **_ASSISTANT),
         name="streams-track-classified"),
    path("api/webhook/chat-interaction", inbound_view(handler="streams.chat_interaction", **_ASSISTANT),
         name="streams-chat-interaction"),
    path("api/webhook/stream-stats", inbound_view(handler="streams.stream_stats", **_ASSISTANT),
         name="streams-stream-stats"),
    # Seed 004: the URL pasted into RealCast's dashboard; the signature alone authenticates.
    path("webhooks/realcast/<str:source_id>",
         inbound_view(handler="streams.realcast", kinds={"realcast"}, auth="signature", asynchronous=True,
                      source_from_url=True),
         name="streams-realcast"),
    path("api/v1/", include(router.urls)),
]
