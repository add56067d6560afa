from django.urls import include, path

from accounts.routers import OptionalSlashRouter
from streams.api import ChatInteractionViewSet, ChatMessageViewSet, StreamSessionViewSet, TrackPlayViewSet
from streams.handlers import realcast_check_on_receipt
from webhooks.inbound.views import inbound_view

router = OptionalSlashRouter()
router.register("streams", StreamSessionViewSet, basename="stream")
router.register("tracks", TrackPlayViewSet, basename="track")
router.register("chat-messages", ChatMessageViewSet, basename="chat-message")
router.register("chat-interactions", ChatInteractionViewSet, basename="chat-interaction")

_ASSISTANT = {"kinds": {"stream-assistant"}}
track_classified = inbound_view(handler="streams.track_classified", **_ASSISTANT)
chat_interaction = inbound_view(handler="streams.chat_interaction", **_ASSISTANT)
stream_stats = inbound_view(handler="streams.stream_stats", **_ASSISTANT)
realcast = inbound_view(handler="streams.realcast", kinds={"realcast"}, auth="signature", asynchronous=True,
                        source_from_url=True, check_on_receipt=realcast_check_on_receipt)

urlpatterns = [
    # The DJ stream assistant's paths, exactly (no trailing slash).
    path("api/webhook/track-classified", track_classified, name="streams-track-classified"),
    path("api/webhook/chat-interaction", chat_interaction, name="streams-chat-interaction"),
    path("api/webhook/stream-stats", stream_stats, name="streams-stream-stats"),
    # The URL pasted into RealCast's dashboard; the signature alone authenticates.
    path("webhooks/realcast/<str:source_id>", realcast, name="streams-realcast"),
    path("api/v1/", include(router.urls)),
]

# The same views under a source URL (`/s/<secret>/`, config/urls.py), which replaces key and source id.
source_urlpatterns = [
    path("api/webhook/track-classified", track_classified),
    path("api/webhook/chat-interaction", chat_interaction),
    path("api/webhook/stream-stats", stream_stats),
    path("webhooks/realcast", realcast),
    path("webhooks/realcast/<str:source_id>", realcast),
]
