from django.contrib.auth import views as auth_views
from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="portal/login.html", next_page="portal:home",
                                                redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="portal:login"), name="logout"),
    path("", views.home, name="home"),
    path("endpoints/", views.endpoint_list, name="endpoints"),
    path("endpoints/new/", views.endpoint_create, name="endpoint-create"),
    path("endpoints/<int:endpoint_id>/", views.endpoint_detail, name="endpoint"),
    path("endpoints/<int:endpoint_id>/edit/", views.endpoint_edit, name="endpoint-edit"),
    path("endpoints/<int:endpoint_id>/secret/", views.endpoint_secret, name="endpoint-secret"),
    path("endpoints/<int:endpoint_id>/rotate/", views.endpoint_rotate, name="endpoint-rotate"),
    path("endpoints/<int:endpoint_id>/test/", views.endpoint_test, name="endpoint-test"),
    path("endpoints/<int:endpoint_id>/recover/", views.endpoint_recover, name="endpoint-recover"),
    path("deliveries/", views.delivery_list, name="deliveries"),
    path("deliveries/<int:delivery_id>/", views.delivery_detail, name="delivery"),
    path("deliveries/<int:delivery_id>/attempts/", views.delivery_attempts, name="delivery-attempts"),
    path("deliveries/<int:delivery_id>/resend/", views.delivery_resend, name="delivery-resend"),
    path("tail/", views.tail, name="tail"),
    path("tail/rows/", views.tail_rows, name="tail-rows"),
    path("events/", views.event_catalogue, name="events"),
    path("sources/", views.source_list, name="sources"),
    path("sources/<int:source_id>/", views.source_detail, name="source"),
    path("messages/<int:message_id>/", views.message_detail, name="message"),
    path("messages/<int:message_id>/replay/", views.message_replay, name="message-replay"),
    path("members/", views.member_list, name="members"),
    path("members/invite/", views.member_invite, name="member-invite"),
    path("members/<int:member_id>/role/", views.member_role, name="member-role"),
    path("members/<int:member_id>/remove/", views.member_remove, name="member-remove"),
]
