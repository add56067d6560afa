import re

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.tokens import hash_key


@pytest.fixture
def admin_client(client, django_user_model):
    django_user_model.objects.create_superuser("ops", "ops@example.test", "pw-ops-12345")
    client.login(username="ops", password="pw-ops-12345")
    return client


@pytest.mark.parametrize("query", ["", "?q=acme", "?is_active__exact=1"])
def test_tenant_changelist_searches_and_filters(admin_client, tenant, other_tenant, query):
    response = admin_client.get(f"/admin/accounts/tenant/{query}")
    assert response.status_code == 200
    assert b"acme" in response.content
    if query == "?q=acme":
        assert b"globex" not in response.content


def test_membership_changelist_filters_by_role_and_searches_email(admin_client, tenant_ctx, other_tenant_ctx):
    response = admin_client.get("/admin/accounts/membership/?role__exact=owner&q=owner@acme.test")
    assert response.status_code == 200
    assert b"owner@acme.test" in response.content and b"owner@globex.test" not in response.content


def test_token_changelist_filters_revoked_and_never_shows_the_hash(admin_client, tenant_ctx):
    live = admin_client.get("/admin/accounts/apitoken/?revoked_at__isempty=1")
    revoked = admin_client.get("/admin/accounts/apitoken/?revoked_at__isempty=0")
    assert tenant_ctx.token.prefix.encode() in live.content
    assert tenant_ctx.token.prefix.encode() not in revoked.content
    change = admin_client.get(f"/admin/accounts/apitoken/{tenant_ctx.token.pk}/change/")
    assert change.status_code == 200
    assert tenant_ctx.token.key_hash.encode() not in change.content
    assert tenant_ctx.token_key.encode() not in change.content


def test_token_made_in_the_admin_is_shown_once_stored_hashed_and_works(admin_client, tenant_ctx):
    response = admin_client.post("/admin/accounts/apitoken/add/", {
        "tenant": tenant_ctx.tenant.pk, "user": tenant_ctx.owner.pk, "name": "from-admin",
    }, follow=True)
    key = re.search(r"Token created: (shk_[\w-]+)", response.content.decode()).group(1)
    token = ApiToken.objects.get(name="from-admin")
    assert token.key_hash == hash_key(key) and key not in (token.prefix, token.key_hash)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/tenant").json()["slug"] == "acme"
    assert key.encode() not in admin_client.get(f"/admin/accounts/apitoken/{token.pk}/change/").content


def test_admin_refuses_a_token_for_someone_outside_the_tenant(admin_client, tenant_ctx, other_tenant_ctx):
    response = admin_client.post("/admin/accounts/apitoken/add/", {
        "tenant": tenant_ctx.tenant.pk, "user": other_tenant_ctx.owner.pk, "name": "stray",
    })
    assert response.status_code == 200
    assert b"is not a member of acme" in response.content
    assert not ApiToken.objects.filter(name="stray").exists()


def test_revoke_action_stops_the_token(admin_client, tenant_ctx, api_client):
    admin_client.post("/admin/accounts/apitoken/", {
        "action": "revoke", "_selected_action": [tenant_ctx.token.pk],
    })
    assert ApiToken.objects.get(pk=tenant_ctx.token.pk).revoked_at is not None
    assert api_client.get("/api/v1/tenant").status_code == 401
