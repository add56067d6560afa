from django.urls import path

from analytics import api, views
from webhooks.inbound.source_url import source_url_view

urlpatterns = [
    path("api/analytics/genre-trends", api.GenreTrendsView.as_view(), name="analytics-genre-trends"),
    path("api/analytics/session-summary/<str:session_id>", api.SessionSummaryView.as_view(),
         name="analytics-session-summary"),
    path("api/analytics/engagement", api.EngagementView.as_view(), name="analytics-engagement"),
    path("api/analytics/deliveries", api.DeliveryHealthView.as_view(), name="analytics-deliveries"),
    path("dashboard/", views.dashboard, name="analytics-dashboard"),
]

# The DJ stream assistant's analytics calls, read-only under a source URL (`/s/<secret>/`, config/urls.py):
# its own URL serves them (one base URL for its webhooks and its curls), and so does an `analytics`
# source's, for a dashboard that may read but not post.
_READERS = {"stream-assistant", "analytics"}
source_urlpatterns = [
    path("api/analytics/genre-trends", source_url_view(api.GenreTrendsView, kinds=_READERS)),
    path("api/analytics/session-summary/<str:session_id>", source_url_view(api.SessionSummaryView, kinds=_READERS)),
]
