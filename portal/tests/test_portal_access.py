"""Who may open which portal page, and what bad input gets (Django's test client: no browser needed)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import Membership
from core.crypto import reveal
from webhooks import services
from webhooks.models import Endpoint


@pytest.fixture
def owner_client(tenant_ctx) -> Client:
    client = Client()
    client.force_login(tenant_ctx.owner)
    return client


@pytest.fixture
def member_client(tenant) -> Client:
    user = get_user_model().objects.create_user(username="member@acme.test", email="member@acme.test", password="pw")
    Membership.objects.create(tenant=tenant, user=user, role=Membership.Role.MEMBER)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def endpoint(tenant) -> Endpoint:
    return services.endpoint_create(tenant=tenant, url="http://127.0.0.1:9/in", events=["stream.live"])


def test_signed_out_visitor_is_sent_to_the_portal_login(client, db):
    response = client.get("/portal/endpoints/")
    assert response.status_code == 302
    assert response["Location"].startswith("/portal/login/")


def test_user_without_tenant_gets_a_403_page(db):
    client = Client()
    client.force_login(get_user_model().objects.create_user(username="loner", password="pw"))
    response = client.get("/portal/endpoints/")
    assert response.status_code == 403
    assert b"No tenant for this account" in response.content


def test_member_sees_no_secret_buttons_and_is_refused_reveal_and_rotate(member_client, endpoint):
    page = member_client.get(f"/portal/endpoints/{endpoint.pk}/")
    assert page.status_code == 200
    assert b"reveal-secret" not in page.content and b"rotate-secret" not in page.content
    secret_before = reveal(endpoint.secret)
    assert member_client.post(f"/portal/endpoints/{endpoint.pk}/secret/").status_code == 403
    assert member_client.post(f"/portal/endpoints/{endpoint.pk}/rotate/").status_code == 403
    endpoint.refresh_from_db()
    assert reveal(endpoint.secret) == secret_before


def test_member_may_neither_add_nor_edit_an_endpoint(member_client, endpoint):
    """As the API: creating an endpoint answers its secret, and editing one could point it elsewhere."""
    assert b"/portal/endpoints/new/" not in member_client.get("/portal/endpoints/").content
    assert b"edit-endpoint" not in member_client.get(f"/portal/endpoints/{endpoint.pk}/").content
    assert member_client.get("/portal/endpoints/new/").status_code == 403
    assert member_client.post("/portal/endpoints/new/", {"url": "http://127.0.0.1:9/mine"}).status_code == 403
    assert member_client.get(f"/portal/endpoints/{endpoint.pk}/edit/").status_code == 403
    edit = {"url": "http://127.0.0.1:9/mine", "signature_scheme": "standard",
            "signature_header": "X-Webhook-Signature", "payload_style": "standard"}
    assert member_client.post(f"/portal/endpoints/{endpoint.pk}/edit/", edit).status_code == 403
    assert list(Endpoint.objects.values_list("url", flat=True)) == ["http://127.0.0.1:9/in"]


def test_owner_reveals_the_secret_uncached(owner_client, endpoint):
    response = owner_client.post(f"/portal/endpoints/{endpoint.pk}/secret/")
    assert response.status_code == 200
    assert reveal(endpoint.secret).encode() in response.content
    assert "no-store" in response["Cache-Control"]


def test_another_tenants_endpoint_and_delivery_are_not_found(other_tenant_ctx, endpoint):
    client = Client()
    client.force_login(other_tenant_ctx.owner)
    assert client.get(f"/portal/endpoints/{endpoint.pk}/").status_code == 404
    assert client.post(f"/portal/endpoints/{endpoint.pk}/secret/").status_code == 404
    assert client.post(f"/portal/endpoints/{endpoint.pk}/rotate/").status_code == 404
    sent = services.endpoint_send_test(endpoint=endpoint)
    assert client.get(f"/portal/deliveries/{sent.delivery.pk}/").status_code == 404
    assert client.post(f"/portal/deliveries/{sent.delivery.pk}/resend/").status_code == 404
    log = client.get("/portal/deliveries/").content
    assert b"127.0.0.1:9/in" not in log and b"No deliveries." in log


@pytest.mark.parametrize("query, field", [
    ("status=lost", b"status"), ("since=yesterday", b"since"), ("page=two", b"page"), ("endpoint=x", b"endpoint"),
])
def test_a_bad_delivery_filter_is_a_400_naming_it(owner_client, query, field):
    response = owner_client.get(f"/portal/deliveries/?{query}")
    assert response.status_code == 400
    assert field in response.content


@pytest.mark.parametrize("data, field", [
    ({"url": "ftp://example.com/x"}, "url"),
    ({"url": "http://127.0.0.1:9/x", "retry_schedule": "5, soon"}, "retry_schedule"),
    ({"url": "http://127.0.0.1:9/x", "retry_schedule": "90000"}, "retry_schedule"),
    ({"url": "http://127.0.0.1:9/x", "rate_limit": "-1"}, "rate_limit"),
    ({"url": "http://127.0.0.1:9/x", "events": ["no.such.type"]}, "events"),
    ({"url": "http://127.0.0.1:9/x", "signature_header": "webhook-id"}, "signature_header"),
])
def test_create_refuses_bad_fields_with_a_400_naming_them(owner_client, tenant, data, field):
    form = {"signature_scheme": "standard", "signature_header": "X-Webhook-Signature",
            "payload_style": "standard", "is_active": "on", **data}
    response = owner_client.post("/portal/endpoints/new/", form)
    assert response.status_code == 400
    assert f"{field}: ".encode() in response.content
    assert not Endpoint.objects.filter(tenant=tenant).exists()


def test_create_stores_the_apis_shapes(owner_client, tenant):
    response = owner_client.post("/portal/endpoints/new/", {
        "url": "http://127.0.0.1:9/hooks", "events": ["stream.live", "stream.offline"],
        "signature_scheme": "hmac-sha256-hex", "signature_header": "X-RealCast-Signature",
        "payload_style": "event", "retry_schedule": "1, 5, 25", "rate_limit": "2.5", "is_active": "on",
    })
    assert response.status_code == 302
    endpoint = Endpoint.objects.get(tenant=tenant)
    assert endpoint.events == ["stream.live", "stream.offline"]
    assert endpoint.retry_schedule == [1, 5, 25]
    assert endpoint.rate_limit == 2.5
    assert endpoint.is_active


def test_a_bad_test_send_type_and_recover_time_are_400s(owner_client, endpoint):
    response = owner_client.post(f"/portal/endpoints/{endpoint.pk}/test/", {"event_type": "nope"})
    assert response.status_code == 400 and b"event_type" in response.content
    response = owner_client.post(f"/portal/endpoints/{endpoint.pk}/recover/", {"since": "last week"})
    assert response.status_code == 400 and b"since" in response.content


@pytest.mark.parametrize("path", [
    "/portal/endpoints/", "/portal/deliveries/", "/portal/tail/", "/portal/tail/rows/",
    "/portal/events/", "/portal/sources/", "/portal/members/",
])
def test_every_list_page_renders_for_a_member(member_client, endpoint, path):
    assert member_client.get(path).status_code == 200
