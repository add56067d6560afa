from django.urls import path

from audio import api, views

urlpatterns = [
    path("api/listen/start", api.ListenStartView.as_view(), name="listen-start"),
    path("api/listen/stop", api.ListenStopView.as_view(), name="listen-stop"),
    path("api/listen/status", api.ListenStatusView.as_view(), name="listen-status"),
    path("api/listen/level", api.ListenLevelView.as_view(), name="listen-level"),
    path("audio/meter/", views.meter, name="audio-meter"),
]
