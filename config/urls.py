from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.api_root import ApiRootView
from config.health import healthz

admin.site.site_header = "Streamhook"
admin.site.site_title = "Streamhook"
admin.site.index_title = "Operations"

urlpatterns = [
    # The senders' endpoints first: every inbound webhook resolves its URL down this list, and a
    # pattern tried in vain costs a regex match (the API's router patterns are many).
    path("", include("streams.urls")),
    path("", include("recordings.urls")),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api-auth/", include("rest_framework.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("", RedirectView.as_view(pattern_name="api-docs"), name="home"),
    path("api/v1/", ApiRootView.as_view(), name="api-root"),
    path("api/v1/", include("accounts.urls")),
    path("", include("webhooks.urls")),
    path("", include("webhooks.inbound.urls")),
    path("", include("analytics.urls")),
    path("", include("audio.urls")),
]

handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
