from django.urls import include, path, re_path

from accounts.routers import OptionalSlashRouter
from recordings.api import RecordingViewSet
from webhooks.inbound.views import inbound_view

router = OptionalSlashRouter()
router.register("recordings", RecordingViewSet, basename="recording")

recorder_webhook = inbound_view(handler="recordings.webhook", kinds={"recorder"})

urlpatterns = [
    # The recorder's path, with or without the slash: a redirect would make the sender lose its POST body.
    re_path(r"^recordings/webhook/?$", recorder_webhook, name="recordings-webhook"),
    path("api/v1/", include(router.urls)),
]

# Under a source URL (`/s/<secret>/`, config/urls.py), which replaces the key.
source_urlpatterns = [re_path(r"^recordings/webhook/?$", recorder_webhook)]
