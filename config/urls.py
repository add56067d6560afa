from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.views import PasswordChosenView, tenant_pick
from analytics.urls import source_urlpatterns as analytics_source_urls
from audio.urls import source_urlpatterns as audio_source_urls
from config.api_root import ApiRootView
from config.health import healthz
from core.views import home
from recordings.urls import source_urlpatterns as recordings_source_urls
from streams.urls import source_urlpatterns as streams_source_urls
from webhooks.inbound.source_url import source_root

admin.site.site_header = "Streamhook"
admin.site.site_title = "Streamhook"
admin.site.index_title = "Operations"

urlpatterns = [
    # The senders' endpoints first: every inbound webhook resolves its URL down this list, and a
    # pattern tried in vain costs a regex match (the API's router patterns are many).
    path("", include("streams.urls")),
    path("", include("recordings.urls")),
    # Source URLs: a sender's own paths behind a secret prefix (webhooks/inbound/source_url.py).
    path("s/<str:source_secret>", source_root, name="source-url"),
    path("s/<str:source_secret>/", include(
        [*streams_source_urls, *recordings_source_urls, *audio_source_urls, *analytics_source_urls])),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("portal/", include("portal.urls")),
    path("api-auth/", include("rest_framework.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's set-up script as a file (`?script`): no inline script, so the
    # Content-Security-Policy's `script-src 'self'` holds on this page too.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("", home, name="home"),
    path("tenant/", tenant_pick, name="tenant-pick"),
    # Where an invited member chooses a password (the link in the invitation e-mail).
    path("accounts/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("accounts/reset/done/", PasswordChosenView.as_view(), name="password_reset_complete"),
    path("api/v1/", ApiRootView.as_view(), name="api-root"),
    path("api/v1/", include("accounts.urls")),
    path("", include("webhooks.urls")),
    path("", include("webhooks.inbound.urls")),
    path("", include("analytics.urls")),
    path("", include("audio.urls")),
]

handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
