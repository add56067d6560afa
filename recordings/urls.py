from django.urls import include, path, re_path

from accounts.routers import OptionalSlashRouter
from recordings.api import RecordingViewSet
from webhooks.inbound.views import inbound_view

router = OptionalSlashRouter()
router.register("recordings", RecordingViewSet, basename="recording")

urlpatterns = [
    # Seed 003's path, with or without the slash: a redirect would make the sender lose its POST body.
    re_path(r"^recordings/webhook/?$", inbound_view(handler="recordings.webhook", kinds={"recorder"}),
            name="recordings-webhook"),
    path("api/v1/", include(router.urls)),
]
