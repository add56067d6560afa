from django.urls import path

from audio import api, views
from webhooks.inbound.source_url import source_url_view

urlpatterns = [
    path("api/listen/start", api.ListenStartView.as_view(), name="listen-start"),
    path("api/listen/stop", api.ListenStopView.as_view(), name="listen-stop"),
    path("api/listen/status", api.ListenStatusView.as_view(), name="listen-status"),
    path("api/listen/level", api.ListenLevelView.as_view(), name="listen-level"),
    path("audio/meter/", views.meter, name="audio-meter"),
]

# The audio frontend's calls under a source URL (`/s/<secret>/`, config/urls.py), which replaces the token.
_FRONTEND = {"audio-frontend"}
source_urlpatterns = [
    path("api/listen/start", source_url_view(api.ListenStartView, kinds=_FRONTEND)),
    path("api/listen/stop", source_url_view(api.ListenStopView, kinds=_FRONTEND)),
    path("api/listen/status", source_url_view(api.ListenStatusView, kinds=_FRONTEND)),
]
