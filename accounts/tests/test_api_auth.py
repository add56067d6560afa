import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import ApiToken, Membership, Tenant


@pytest.mark.django_db
def test_request_without_token_gets_401_with_bearer_challenge():
    response = APIClient().get("/api/v1/tenant")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("keyword", ["Bearer", "Token", "bearer"])
def test_token_accepted_with_bearer_and_token_keywords(tenant_ctx, keyword):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {tenant_ctx.token_key}")
    response = client.get("/api/v1/tenant")
    assert response.status_code == 200
    assert response.json()["slug"] == "acme"


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer shk_wrong", "Bearer \u00e9t\u00e9"])
def test_malformed_or_unknown_tokens_get_401(tenant_ctx, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.encode("utf-8").decode("latin-1"))
    assert client.get("/api/v1/tenant").status_code == 401


def test_revoked_token_stops_working(api_client, tenant_ctx):
    assert api_client.delete(f"/api/v1/tokens/{tenant_ctx.token.pk}").status_code == 204
    assert ApiToken.objects.get(pk=tenant_ctx.token.pk).revoked_at is not None
    assert api_client.get("/api/v1/tenant").status_code == 401


def test_token_created_through_api_is_shown_once_and_works(api_client):
    response = api_client.post("/api/v1/tokens", {"name": "ci"}, format="json")
    assert response.status_code == 201
    key = response.json()["token"]
    listed = api_client.get("/api/v1/tokens").json()
    assert listed["count"] == 2
    assert all("token" not in row for row in listed["results"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/tenant").json()["slug"] == "acme"


def test_tenant_cannot_see_or_revoke_another_tenants_tokens(api_client, other_tenant_ctx):
    foreign = other_tenant_ctx.token.pk
    assert api_client.get(f"/api/v1/tokens/{foreign}").status_code == 404
    assert api_client.delete(f"/api/v1/tokens/{foreign}").status_code == 404
    assert ApiToken.objects.get(pk=foreign).revoked_at is None
    assert [t["id"] for t in api_client.get("/api/v1/tokens").json()["results"]] != [foreign]


def test_session_login_works_for_browsable_api(client, tenant_ctx):
    assert client.login(username="owner@acme.test", password="pw-acme-123")
    response = client.get("/api/v1/tenant", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json()["slug"] == "acme"


@pytest.mark.django_db
def test_user_without_tenant_is_refused(client, django_user_model):
    django_user_model.objects.create_user(username="lonely", password="pw-lonely-123")
    client.login(username="lonely", password="pw-lonely-123")
    assert client.get("/api/v1/tenant", HTTP_ACCEPT="application/json").status_code == 403


def test_token_stops_working_when_its_user_leaves_the_tenant(api_client, tenant_ctx):
    Membership.objects.filter(tenant=tenant_ctx.tenant, user=tenant_ctx.owner).delete()
    response = api_client.get("/api/v1/tenant")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or revoked API token."}


def test_token_stops_working_when_its_tenant_or_user_is_deactivated(api_client, tenant_ctx):
    Tenant.objects.filter(pk=tenant_ctx.tenant.pk).update(is_active=False)
    assert api_client.get("/api/v1/tenant").status_code == 401
    Tenant.objects.filter(pk=tenant_ctx.tenant.pk).update(is_active=True)
    assert api_client.get("/api/v1/tenant").status_code == 200
    type(tenant_ctx.owner).objects.filter(pk=tenant_ctx.owner.pk).update(is_active=False)
    assert api_client.get("/api/v1/tenant").status_code == 401


def test_bad_token_answer_names_the_problem_and_the_scheme(tenant_ctx):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer shk_not-a-real-token")
    response = client.get("/api/v1/webhooks")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or revoked API token."}
    assert response["WWW-Authenticate"] == 'Bearer realm="streamhook"'


def test_lists_are_paginated_and_filterable(api_client):
    for n in range(3):
        assert api_client.post("/api/v1/tokens", {"name": f"ci-{n}"}, format="json").status_code == 201
    page = api_client.get("/api/v1/tokens", {"page_size": 2}).json()
    assert page["count"] == 4 and len(page["results"]) == 2 and page["next"]
    assert len(api_client.get(page["next"]).json()["results"]) == 2
    assert [t["name"] for t in api_client.get("/api/v1/tokens", {"name": "ci-1"}).json()["results"]] == ["ci-1"]
    assert api_client.get("/api/v1/tokens", {"page": 99}).status_code == 404
    assert api_client.get("/api/v1/tokens", {"page_size": 10_000}).json()["count"] == 4  # capped, not refused


def test_session_user_must_send_csrf_token_to_write(tenant_ctx):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.login(username="owner@acme.test", password="pw-acme-123")
    response = csrf_client.post("/api/v1/tokens", {"name": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_members_manage_only_their_own_tokens_owners_all(api_client, tenant_ctx, django_user_model):
    member = django_user_model.objects.create_user("dev@acme.test", "dev@acme.test", "pw-dev-12345")
    Membership.objects.create(tenant=tenant_ctx.tenant, user=member, role=Membership.Role.MEMBER)
    member_client = APIClient()
    member_client.login(username="dev@acme.test", password="pw-dev-12345")
    mine = member_client.post("/api/v1/tokens", {"name": "dev"}, format="json", HTTP_ACCEPT="application/json")
    assert mine.status_code == 201
    listed = member_client.get("/api/v1/tokens", HTTP_ACCEPT="application/json").json()
    assert [t["name"] for t in listed["results"]] == ["dev"]
    # The owner's token is not the member's to see or revoke.
    assert member_client.get(f"/api/v1/tokens/{tenant_ctx.token.pk}").status_code == 403
    assert member_client.delete(f"/api/v1/tokens/{tenant_ctx.token.pk}").status_code == 403
    assert ApiToken.objects.get(pk=tenant_ctx.token.pk).revoked_at is None
    # The owner sees both and may revoke the member's.
    assert {t["name"] for t in api_client.get("/api/v1/tokens").json()["results"]} == {"owner", "dev"}
    assert api_client.delete(f"/api/v1/tokens/{mine.json()['id']}").status_code == 204


@pytest.mark.parametrize(("body", "content_type"), [("", "application/json"), ("", "application/x-www-form-urlencoded"),
                                                    ("{}", "application/json")])
def test_token_without_a_name_gets_the_default_name_not_a_500(api_client, body, content_type):
    response = api_client.generic("POST", "/api/v1/tokens", body, content_type=content_type)
    assert response.status_code == 201
    assert response.json()["name"] == "default" and response.json()["token"].startswith("shk_")


@pytest.mark.parametrize(("payload", "field"), [({"name": ["a"]}, "name"), ({"name": "x" * 101}, "name"),
                                                ({"name": "a\x00b"}, "name")])
def test_bad_token_names_are_400s_naming_the_field(api_client, payload, field):
    response = api_client.post("/api/v1/tokens", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
