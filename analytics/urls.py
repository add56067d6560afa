from django.urls import path

from analytics import api, views

urlpatterns = [
    path("api/analytics/genre-trends", api.GenreTrendsView.as_view(), name="analytics-genre-trends"),
    path("api/analytics/session-summary/<str:session_id>", api.SessionSummaryView.as_view(),
         name="analytics-session-summary"),
    path("api/analytics/engagement", api.EngagementView.as_view(), name="analytics-engagement"),
    path("api/analytics/deliveries", api.DeliveryHealthView.as_view(), name="analytics-deliveries"),
    path("dashboard/", views.dashboard, name="analytics-dashboard"),
]
