"""The operator's endpoint flows in the admin: add through the API's validation and service, delete softly,
rotate with the secret shown once, test-send a chosen type, resend a delivery."""

import re

import pytest

from core.crypto import reveal
from webhooks import admin as webhooks_admin
from webhooks import services
from webhooks.models import Attempt, Delivery, Endpoint
from webhooks.tests.test_admin_webhooks import URL, delivery_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(tenant):
    return services.endpoint_create(tenant=tenant, url=URL, description="main")


def _add(admin_client, tenant, **overrides):
    form = {"tenant": tenant.pk, "url": URL, "description": "from the admin", "events": ["stream.live",
            "stream.offline"], "is_active": "on", "signature_scheme": "standard",
            "signature_header": "X-Webhook-Signature", "payload_style": "standard", "retry_schedule": "1, 5, 25",
            "rate_limit": ""}
    form.update(overrides)
    return admin_client.post("/admin/webhooks/endpoint/add/", form)


def test_an_endpoint_added_in_the_admin_is_active_subscribed_and_shows_its_secret_once(admin_client, tenant):
    response = _add(admin_client, tenant)
    assert response.status_code == 200, response.content
    endpoint = Endpoint.objects.get(description="from the admin")
    assert endpoint.is_active and endpoint.events == ["stream.live", "stream.offline"]
    assert endpoint.retry_schedule == [1, 5, 25] and reveal(endpoint.secret).startswith("whsec_")
    assert reveal(endpoint.secret) in response.content.decode()
    change_page = admin_client.get(f"/admin/webhooks/endpoint/{endpoint.pk}/change/").content.decode()
    assert reveal(endpoint.secret) not in change_page


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"url": "ftp://example.com/x"}, "url", "Only http and https"),
    ({"events": ["no.such"]}, "events", "no.such"),
    ({"retry_schedule": "1, soon"}, "retry_schedule", "numbers separated by commas"),
    ({"retry_schedule": "999999"}, "retry_schedule", "seconds from 0"),
    ({"signature_header": "webhook-id"}, "signature_header", "written by the delivery"),
])
def test_the_add_form_refuses_what_the_api_refuses(admin_client, tenant, overrides, field, message):
    response = _add(admin_client, tenant, **overrides)
    assert response.status_code == 200 and not Endpoint.objects.exists()
    errors = response.context["adminform"].form.errors
    assert field in errors and message in " ".join(errors[field]), errors


def test_the_add_form_refuses_a_private_target_when_the_deployment_does(admin_client, tenant, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    response = _add(admin_client, tenant)
    assert "url" in response.context["adminform"].form.errors and not Endpoint.objects.exists()


def test_deleting_in_the_admin_is_the_apis_soft_delete(admin_client, endpoint):
    delivery = delivery_for(endpoint, attempts=2)
    confirm = admin_client.get(f"/admin/webhooks/endpoint/{endpoint.pk}/delete/").content.decode()
    assert "Delivery: " not in confirm  # deliveries are not listed as going away
    admin_client.post(f"/admin/webhooks/endpoint/{endpoint.pk}/delete/", {"post": "yes"})
    endpoint.refresh_from_db()
    assert endpoint.deleted_at is not None and not endpoint.is_active
    assert Delivery.objects.filter(pk=delivery.pk).exists() and Attempt.objects.filter(delivery=delivery).count() == 2


def test_bulk_delete_is_soft_too(admin_client, endpoint):
    delivery_for(endpoint)
    admin_client.post("/admin/webhooks/endpoint/", {"action": "delete_selected", "_selected_action": [endpoint.pk],
                                                     "post": "yes"})
    endpoint.refresh_from_db()
    assert endpoint.deleted_at is not None and Delivery.objects.count() == 1


def test_rotate_asks_then_shows_the_new_secret_only_in_that_response(admin_client, endpoint):
    old = reveal(endpoint.secret)
    confirm = admin_client.get(f"/admin/webhooks/endpoint/{endpoint.pk}/rotate-secret/")
    assert confirm.status_code == 200 and reveal(Endpoint.objects.get(pk=endpoint.pk).secret) == old
    shown = admin_client.post(f"/admin/webhooks/endpoint/{endpoint.pk}/rotate-secret/").content.decode()
    endpoint.refresh_from_db()
    assert reveal(endpoint.secret) != old and reveal(endpoint.secret) in shown
    assert reveal(endpoint.previous_secret) == old
    change_page = admin_client.get(f"/admin/webhooks/endpoint/{endpoint.pk}/change/").content.decode()
    assert reveal(endpoint.secret) not in change_page


def test_send_test_offers_every_type_and_reports_the_outcome(admin_client, endpoint, monkeypatch):
    monkeypatch.setattr(webhooks_admin, "TEST_OUTCOME_WAIT", 0)  # no worker here: the answer is "not sent yet"
    page = admin_client.get(f"/admin/webhooks/endpoint/{endpoint.pk}/send-test/").content.decode()
    assert 'value="stream.live"' in page and 'value="webhook.test" selected' in page
    response = admin_client.post(f"/admin/webhooks/endpoint/{endpoint.pk}/send-test/", {"event_type": "stream.live"},
                                 follow=True)
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.event.type == "stream.live"
    html = response.content.decode()
    assert f"#{delivery.pk}" in html and "pending" in html and "Not sent yet" in html


def test_send_test_names_an_unknown_type(admin_client, endpoint):
    html = admin_client.post(f"/admin/webhooks/endpoint/{endpoint.pk}/send-test/",
                             {"event_type": "no.such"}).content.decode()
    assert "Unknown event type" in html and not Delivery.objects.exists()


def test_resend_button_queues_the_delivery_again(admin_client, endpoint):
    delivery = delivery_for(endpoint, status="failed")
    page = admin_client.get(f"/admin/webhooks/delivery/{delivery.pk}/change/").content.decode()
    assert re.search(rf'action="/admin/webhooks/delivery/{delivery.pk}/resend/"', page)
    assert admin_client.get(f"/admin/webhooks/delivery/{delivery.pk}/resend/").status_code == 405
    response = admin_client.post(f"/admin/webhooks/delivery/{delivery.pk}/resend/", follow=True)
    assert "queued again" in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == "pending"


def test_resend_of_a_deleted_endpoints_delivery_says_why_not(admin_client, endpoint):
    delivery = delivery_for(endpoint, status="failed")
    services.endpoint_delete(endpoint=endpoint)
    response = admin_client.post(f"/admin/webhooks/delivery/{delivery.pk}/resend/", follow=True)
    assert "Not resent" in response.content.decode()
    assert Delivery.objects.get(pk=delivery.pk).status == "failed"


def test_a_delivery_shows_each_attempts_request_body_when_recorded(admin_client, endpoint):
    delivery = delivery_for(endpoint)
    page = admin_client.get(f"/admin/webhooks/delivery/{delivery.pk}/change/").content.decode()
    assert "Request body" in page
    if hasattr(Attempt, "request_body"):  # the engine records it on branches that add the column
        Attempt.objects.filter(delivery=delivery).update(request_body='{"type":"stream.live"}')
        page = admin_client.get(f"/admin/webhooks/delivery/{delivery.pk}/change/").content.decode()
        assert "{&quot;type&quot;:&quot;stream.live&quot;}" in page
