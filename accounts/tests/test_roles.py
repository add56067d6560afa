"""Roles on the API: a member's token reads but gets 403 on secrets, rotation, configuration changes,
other people's tokens and membership; an admin's and an owner's get through."""

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiToken, Membership
from accounts.tokens import token_create
from core.crypto import reveal
from webhooks import services
from webhooks.inbound.services import source_create


@pytest.fixture
def people(tenant_ctx, django_user_model):
    """{role: (user, client with that user's token)} in the `acme` tenant."""
    people = {"owner": (tenant_ctx.owner, _client(tenant_ctx.token_key))}
    for role in ("admin", "member"):
        user = django_user_model.objects.create_user(f"{role}@acme.test", f"{role}@acme.test", "pw-12345678")
        Membership.objects.create(tenant=tenant_ctx.tenant, user=user, role=role)
        _, key = token_create(tenant=tenant_ctx.tenant, user=user, name=role)
        people[role] = (user, _client(key))
    return people


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def endpoint(tenant):
    return services.endpoint_create(tenant=tenant, url="http://127.0.0.1:9/hook", events=["stream.live"])


@pytest.fixture
def source(tenant):
    return source_create(tenant=tenant, name="recorder", kind="recorder")[0]


def _operations(endpoint, source, people):
    """(method, path, body, status for owner/admin) of every operation a member may not perform."""
    member_user = people["member"][0]
    others_token = ApiToken.objects.get(user=people["owner"][0])
    member_membership = Membership.objects.get(user=member_user)
    admin_membership = Membership.objects.get(user=people["admin"][0])
    return {
        "read the secret": ("get", f"/api/v1/webhooks/{endpoint.pk}/secret", None, 200),
        "rotate the secret": ("post", f"/api/v1/webhooks/{endpoint.pk}/rotate-secret", None, 200),
        "create an endpoint": ("post", "/api/v1/webhooks", {"url": "http://127.0.0.1:9/new"}, 201),
        "change an endpoint": ("patch", f"/api/v1/webhooks/{endpoint.pk}", {"description": "x"}, 200),
        "delete an endpoint": ("delete", f"/api/v1/webhooks/{endpoint.pk}", None, 204),
        "create an inbound source": ("post", "/api/v1/inbound-sources", {"name": "r2", "kind": "recorder"}, 201),
        "rotate a source key": ("post", f"/api/v1/inbound-sources/{source.pk}/rotate-key", None, 200),
        "change a source": ("patch", f"/api/v1/inbound-sources/{source.pk}", {"name": "renamed"}, 200),
        "delete a source": ("delete", f"/api/v1/inbound-sources/{source.pk}", None, 204),
        "see another's token": ("get", f"/api/v1/tokens/{others_token.pk}", None, 200),
        "revoke another's token": ("delete", f"/api/v1/tokens/{others_token.pk}", None, 204),
        "invite a member": ("post", "/api/v1/members", {"email": "new@acme.test", "role": "member"}, 201),
        "change a role": ("patch", f"/api/v1/members/{admin_membership.pk}", {"role": "admin"}, 200),
        "remove a member": ("delete", f"/api/v1/members/{member_membership.pk}", None, 204),
    }


OPERATIONS = ["read the secret", "rotate the secret", "create an endpoint", "change an endpoint",
              "delete an endpoint", "create an inbound source", "rotate a source key", "change a source",
              "delete a source", "see another's token", "revoke another's token", "invite a member",
              "change a role", "remove a member"]


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_member_token_gets_403(operation, people, endpoint, source):
    method, path, body, _ = _operations(endpoint, source, people)[operation]
    response = getattr(people["member"][1], method)(path, body, format="json")
    assert response.status_code == 403, response.content
    assert "secret" not in response.json()


@pytest.mark.parametrize("role", ["admin", "owner"])
@pytest.mark.parametrize("operation", OPERATIONS)
def test_an_admin_or_owner_token_gets_through(operation, role, people, endpoint, source):
    method, path, body, expected = _operations(endpoint, source, people)[operation]
    if operation == "revoke another's token" and role == "owner":  # the owner's own token is not "another's"
        path = f"/api/v1/tokens/{ApiToken.objects.get(user=people['admin'][0]).pk}"
    response = getattr(people[role][1], method)(path, body, format="json")
    assert response.status_code == expected, response.content


def test_member_refusals_change_nothing(people, endpoint, source):
    member = people["member"][1]
    secret = reveal(endpoint.secret)
    member.post(f"/api/v1/webhooks/{endpoint.pk}/rotate-secret")
    member.delete(f"/api/v1/webhooks/{endpoint.pk}")
    endpoint.refresh_from_db()
    assert reveal(endpoint.secret) == secret and endpoint.deleted_at is None
    assert Membership.objects.filter(tenant=endpoint.tenant).count() == 3


@pytest.mark.parametrize(("method", "path", "body", "expected"), [
    ("get", "/api/v1/webhooks", None, 200),
    ("get", "/api/v1/webhooks/events", None, 200),
    ("get", "/api/v1/members", None, 200),
    ("get", "/api/v1/inbound-sources", None, 200),
    ("get", "/api/v1/tenant", None, 200),
    ("post", "/api/v1/tokens", {"name": "mine"}, 201),
    ("get", "/api/listen/status", None, 200),
])
def test_a_member_reads_and_manages_its_own_tokens(people, method, path, body, expected):
    assert getattr(people["member"][1], method)(path, body, format="json").status_code == expected


def test_a_member_reads_an_endpoint_without_its_secret_and_may_test_send_it(people, endpoint):
    member = people["member"][1]
    detail = member.get(f"/api/v1/webhooks/{endpoint.pk}")
    assert detail.status_code == 200 and reveal(endpoint.secret) not in detail.content.decode()
    sent = member.post(f"/api/v1/webhooks/{endpoint.pk}/test", {"event_type": "stream.live"}, format="json")
    assert sent.status_code == 202


def test_a_member_sees_an_endpoints_custom_header_names_but_not_their_values(people, tenant):
    """`{"Authorization": "Bearer ..."}` is the receiver's credential: a secret members don't see."""
    services.endpoint_create(tenant=tenant, url="http://127.0.0.1:9/a", headers={"Authorization": "Bearer s3cret",
                                                                                "X-Api-Key": "k-123"})
    member_view = people["member"][1].get("/api/v1/webhooks").json()["results"][0]
    assert member_view["headers"] == {"Authorization": "[hidden]", "X-Api-Key": "[hidden]"}
    for role in ("admin", "owner"):
        detail = people[role][1].get(f"/api/v1/webhooks/{member_view['id']}").json()
        assert detail["headers"] == {"Authorization": "Bearer s3cret", "X-Api-Key": "k-123"}


def test_the_403_says_which_role_is_needed(people, endpoint):
    body = people["member"][1].get(f"/api/v1/webhooks/{endpoint.pk}/secret").json()
    assert "admin" in body["detail"] and "member" in body["detail"]


def test_a_member_may_revoke_its_own_token(people):
    member_user, member = people["member"]
    own = ApiToken.objects.get(user=member_user)
    assert member.delete(f"/api/v1/tokens/{own.pk}").status_code == 204
    assert member.get("/api/v1/tenant").status_code == 401  # that was the token it called with


def test_another_tenant_cannot_see_or_touch_our_members(people, other_api_client):
    membership = Membership.objects.get(user=people["member"][0])
    assert other_api_client.get(f"/api/v1/members/{membership.pk}").status_code == 404
    assert other_api_client.delete(f"/api/v1/members/{membership.pk}").status_code == 404
    emails = [m["email"] for m in other_api_client.get("/api/v1/members").json()["results"]]
    assert emails == ["owner@globex.test"]


def test_the_browsable_api_offers_forms_by_role(people, client, tenant):
    member_user, _ = people["member"]
    client.force_login(member_user)
    tokens = client.get("/api/v1/tokens", HTTP_ACCEPT="text/html").content.decode()
    webhooks = client.get("/api/v1/webhooks", HTTP_ACCEPT="text/html").content.decode()
    assert 'id="post-generic-content-form"' in tokens  # a member makes its own tokens
    assert 'id="post-generic-content-form"' not in webhooks  # but no endpoints
