"""The admin, driven as an operator would: a superuser's session, list pages, change pages, actions."""

import pytest
from django.utils import timezone

from core.crypto import reveal
from webhooks import services
from webhooks.models import Attempt, Delivery, Endpoint, Event

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/hook"


@pytest.fixture
def endpoint(tenant):
    return services.endpoint_create(tenant=tenant, url=URL, description="main")


def delivery_for(endpoint, *, status="failed", attempts=1, type="stream.live"):
    now = timezone.now()
    event = Event.objects.create(tenant=endpoint.tenant, type=type, data={"stream_id": "s1"}, created_at=now,
                                 fanned_out_at=now)
    delivery = Delivery.objects.create(tenant=endpoint.tenant, event=event, endpoint=endpoint, status=status,
                                       attempt_count=attempts)
    for number in range(1, attempts + 1):
        Attempt.objects.create(
            delivery=delivery, number=number, started_at=now, duration_ms=123, url=endpoint.url,
            request_headers={"webhook-id": event.pk, "webhook-signature": "v1,abcdefgh…"},
            status_code=503, response_body="upstream busy", error="", succeeded=False,
        )
    return delivery


def act(client, model, action, ids):
    return client.post(f"/admin/webhooks/{model}/", {"action": action, "_selected_action": ids}, follow=True)


def test_endpoint_list_shows_badges_success_rate_and_hides_secrets(admin_client, endpoint, tenant):
    delivery_for(endpoint, status="succeeded")
    delivery_for(endpoint, status="succeeded")
    delivery_for(endpoint, status="failed")
    gone = services.endpoint_create(tenant=tenant, url=URL + "/gone")
    services.endpoint_delete(endpoint=gone)
    off = services.endpoint_create(tenant=tenant, url=URL + "/off")
    services.endpoint_disable(endpoint=off)
    page = admin_client.get("/admin/webhooks/endpoint/").content.decode()
    assert ">active<" in page and ">deleted<" in page and ">disabled<" in page
    assert "66.7% of 3" in page
    assert reveal(endpoint.secret) not in page


def test_endpoint_list_filters_and_search(admin_client, endpoint, tenant):
    gone = services.endpoint_create(tenant=tenant, url="http://127.0.0.1:9/other")
    services.endpoint_delete(endpoint=gone)
    page = admin_client.get("/admin/webhooks/endpoint/?status=deleted").content.decode()
    assert "/other" in page and "127.0.0.1:9/hook<" not in page
    assert "/other" not in admin_client.get("/admin/webhooks/endpoint/?status=active").content.decode()
    assert admin_client.get("/admin/webhooks/endpoint/?q=other").context["cl"].result_count == 1


def test_endpoint_change_page_masks_secrets_and_has_no_editable_secret(admin_client, endpoint):
    services.endpoint_rotate_secret(endpoint=endpoint)
    response = admin_client.get(f"/admin/webhooks/endpoint/{endpoint.pk}/change/")
    page = response.content.decode()
    assert response.status_code == 200
    assert reveal(endpoint.secret) not in page and reveal(endpoint.previous_secret) not in page
    assert reveal(endpoint.secret)[:10] not in page  # not even a prefix: the mask reads no plaintext
    assert "(encrypted " in page
    assert 'name="secret"' not in page


def test_rotate_secret_action_calls_the_service(admin_client, endpoint):
    old = reveal(endpoint.secret)
    response = act(admin_client, "endpoint", "rotate_secret", [endpoint.pk])
    endpoint.refresh_from_db()
    assert "Secrets rotated" in response.content.decode() and reveal(endpoint.secret) in response.content.decode()
    assert reveal(endpoint.secret) != old and reveal(endpoint.previous_secret) == old
    assert endpoint.previous_secret_expires_at


def test_disable_and_enable_actions(admin_client, endpoint):
    act(admin_client, "endpoint", "disable", [endpoint.pk])
    endpoint.refresh_from_db()
    assert not endpoint.is_active and "admin" in endpoint.disabled_reason and endpoint.disabled_at
    act(admin_client, "endpoint", "enable", [endpoint.pk])
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.disabled_reason == "" and endpoint.disabled_at is None


def test_enable_refuses_a_deleted_endpoint_with_a_message(admin_client, endpoint):
    services.endpoint_delete(endpoint=endpoint)
    response = act(admin_client, "endpoint", "enable", [endpoint.pk])
    assert "Not done for" in response.content.decode()
    endpoint.refresh_from_db()
    assert not endpoint.is_active


def test_send_test_event_action_creates_one_delivery_per_endpoint(admin_client, endpoint, tenant):
    other = services.endpoint_create(tenant=tenant, url=URL + "/2")
    response = act(admin_client, "endpoint", "send_test_event", [endpoint.pk, other.pk])
    assert "Sent a test event to 2 endpoint(s)." in response.content.decode()
    assert Delivery.objects.filter(event__type="webhook.test").count() == 2
    assert Delivery.objects.get(endpoint=endpoint).event.data["endpoint_id"] == endpoint.pk


def test_event_admin_is_read_only_with_filters_and_date_hierarchy(admin_client, endpoint):
    delivery = delivery_for(endpoint)
    response = admin_client.get("/admin/webhooks/event/?type=stream.live")
    assert response.status_code == 200 and response.context["cl"].result_count == 1
    assert admin_client.get(f"/admin/webhooks/event/?tenant__id__exact={endpoint.tenant_id}").status_code == 200
    assert admin_client.get("/admin/webhooks/event/add/").status_code == 403
    page = admin_client.get(f"/admin/webhooks/event/{delivery.event_id}/change/").content.decode()
    assert "stream_id" in page and 'name="_save"' not in page


def test_delivery_list_and_change_page_show_attempts(admin_client, endpoint, django_assert_max_num_queries):
    for _ in range(5):
        delivery = delivery_for(endpoint, attempts=2)
    with django_assert_max_num_queries(12):  # list_select_related: no query per row
        response = admin_client.get("/admin/webhooks/delivery/?status=failed")
    assert response.context["cl"].result_count == 5
    assert "stream.live" in response.content.decode()
    page = admin_client.get(f"/admin/webhooks/delivery/{delivery.pk}/change/").content.decode()
    assert "upstream busy" in page and "503" in page and "v1,abcdefgh…" in page and "123" in page


def test_deliveries_of_a_deleted_endpoint_stay_visible(admin_client, endpoint):
    delivery = delivery_for(endpoint)
    services.endpoint_delete(endpoint=endpoint)
    assert admin_client.get("/admin/webhooks/delivery/").context["cl"].result_count == 1
    assert admin_client.get(f"/admin/webhooks/delivery/{delivery.pk}/change/").status_code == 200


def test_redeliver_action(admin_client, endpoint):
    deliveries = [delivery_for(endpoint) for _ in range(2)]
    response = act(admin_client, "delivery", "redeliver", [d.pk for d in deliveries])
    assert "Queued 2 delivery(ies) again." in response.content.decode()
    assert set(Delivery.objects.values_list("status", flat=True)) == {"pending"}


def test_recover_action_resends_failures_of_the_selected_deliveries_endpoints(admin_client, endpoint, tenant):
    selected = delivery_for(endpoint)
    sibling = delivery_for(endpoint)  # same endpoint, not selected: recovered too
    elsewhere = delivery_for(services.endpoint_create(tenant=tenant, url=URL + "/x"))
    response = act(admin_client, "delivery", "recover_since_24h", [selected.pk])
    assert "Queued 2 failed delivery(ies) again on 1 endpoint(s)." in response.content.decode()
    assert Delivery.objects.get(pk=sibling.pk).status == "pending"
    assert Delivery.objects.get(pk=elsewhere.pk).status == "failed"


def test_a_non_staff_user_cannot_use_the_admin(client, tenant_ctx):
    client.force_login(tenant_ctx.owner)
    assert client.get("/admin/webhooks/endpoint/").status_code == 302
    assert Endpoint.objects.count() == 0


@pytest.mark.parametrize("page", ["/admin/webhooks/endpoint/", "/admin/webhooks/delivery/", "/admin/webhooks/event/"])
def test_list_pages_take_the_same_number_of_queries_for_3_rows_and_for_30(admin_client, tenant, page):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(page).status_code == 200
        return len(captured)

    def add(count):
        for n in range(count):
            endpoint = services.endpoint_create(tenant=tenant, url=f"{URL}/{n}")
            delivery_for(endpoint, status="succeeded" if n % 2 else "failed", attempts=2)

    add(3)
    few = queries()
    add(27)
    assert queries() == few  # nothing is loaded per row: badges, rates, event types come with the page


def test_redeliver_and_recover_actions_skip_disabled_endpoints_with_a_warning(admin_client, endpoint):
    delivery = delivery_for(endpoint)
    services.endpoint_disable(endpoint=endpoint)
    page = act(admin_client, "delivery", "redeliver", [delivery.pk]).content.decode()
    assert "1 skipped: their endpoint is disabled or deleted." in page
    page = act(admin_client, "delivery", "recover_since_24h", [delivery.pk]).content.decode()
    assert "1 endpoint(s) skipped: disabled or deleted" in page
    assert Delivery.objects.get(pk=delivery.pk).status == "failed"
