from django.urls import include, path, re_path

from core.routers import OptionalSlashRouter
from recordings.api import RecordingViewSet
from recordings.views import RecorderWebhookView

router = OptionalSlashRouter()
router.register("recordings", RecordingViewSet, basename="recording")

urlpatterns = [
    # The recorder's path, with or without the slash: a redirect would make the sender lose its POST body.
    re_path(r"^recordings/webhook/?$", RecorderWebhookView.as_view(), name="recordings-webhook"),
    path("api/v1/", include(router.urls)),
]

# Under a source URL (`/s/<secret>/`, config/urls.py), which replaces the key; documented once, above.
source_urlpatterns = [re_path(r"^recordings/webhook/?$", RecorderWebhookView.as_view(schema=None))]
