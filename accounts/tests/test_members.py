"""Inviting members by e-mail, changing roles, removing members: `/api/v1/members`."""

import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from accounts.members import member_invite
from accounts.models import Membership
from accounts.tokens import token_create


def _client_for(tenant, user) -> APIClient:
    _, key = token_create(tenant=tenant, user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def admin_api(tenant, django_user_model):
    user = django_user_model.objects.create_user("admin@acme.test", "admin@acme.test", "pw-12345678")
    Membership.objects.create(tenant=tenant, user=user, role="admin")
    return _client_for(tenant, user)


def test_invite_creates_the_account_and_mails_a_link_to_choose_a_password(api_client, tenant, client,
                                                                          django_user_model):
    response = api_client.post("/api/v1/members", {"email": "New@Acme.test", "role": "member"}, format="json")
    assert response.status_code == 201
    assert response.json()["email"] == "new@acme.test" and response.json()["invitation_sent"] is True
    user = django_user_model.objects.get(email="new@acme.test")
    assert not user.has_usable_password()
    assert Membership.objects.get(user=user).role == "member"
    [message] = mail.outbox
    assert message.to == ["new@acme.test"] and "acme" in message.subject
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+)", message.body).group(1)

    choose = client.get(link, follow=True)  # Django swaps the token for a session and redirects
    assert choose.status_code == 200 and b"new_password1" in choose.content
    done = client.post(choose.redirect_chain[-1][0], {"new_password1": "a-Long-pass-4321",
                                                      "new_password2": "a-Long-pass-4321"})
    assert done.status_code == 302
    assert client.login(username="new@acme.test", password="a-Long-pass-4321")
    assert client.get("/api/v1/tenant", HTTP_ACCEPT="application/json").json()["slug"] == "acme"


def test_inviting_someone_with_a_password_adds_them_without_mail(api_client, other_tenant_ctx):
    response = api_client.post("/api/v1/members", {"email": "owner@globex.test", "role": "admin"}, format="json")
    assert response.status_code == 201 and response.json()["invitation_sent"] is False
    assert mail.outbox == []
    assert Membership.objects.filter(user=other_tenant_ctx.owner).count() == 2


def test_an_address_longer_than_a_username_is_refused_naming_the_email(api_client, tenant):
    """Found by schemathesis: the address becomes the username (150 characters), and a longer one was a 500."""
    email = f"{'a' * 60}@{'b' * 63}.{'c' * 40}.test"  # 170 characters, a valid address
    response = api_client.post("/api/v1/members", {"email": email, "role": "member"}, format="json")
    assert response.status_code == 400 and set(response.json()) == {"email"}
    with pytest.raises(ValidationError) as refused:  # the portal's and the admin's forms call the service
        member_invite(tenant=tenant, email=email, role="member", acting_role="owner", request=None)
    assert set(refused.value.message_dict) == {"email"}


def test_inviting_a_member_again_is_a_409_naming_the_email(api_client):
    response = api_client.post("/api/v1/members", {"email": "owner@acme.test", "role": "member"}, format="json")
    assert response.status_code == 409 and set(response.json()) == {"email"}


@pytest.mark.parametrize(("body", "field"), [
    ({"email": "not-an-address", "role": "member"}, "email"),
    ({"email": "x@acme.test", "role": "boss"}, "role"),
    ({"role": "member"}, "email"),
])
def test_bad_invitations_get_400_naming_the_field(api_client, body, field):
    response = api_client.post("/api/v1/members", body, format="json")
    assert response.status_code == 400 and field in response.json(), response.content


def test_only_owners_grant_or_touch_the_owner_role(admin_api, tenant_ctx):
    assert admin_api.post("/api/v1/members", {"email": "o2@acme.test", "role": "owner"},
                          format="json").status_code == 403
    owner = Membership.objects.get(user=tenant_ctx.owner)
    assert admin_api.patch(f"/api/v1/members/{owner.pk}", {"role": "member"}, format="json").status_code == 403
    assert admin_api.delete(f"/api/v1/members/{owner.pk}").status_code == 403
    assert Membership.objects.get(pk=owner.pk).role == "owner"


def test_an_owner_promotes_an_admin_to_owner_and_may_then_step_down(api_client, admin_api, tenant_ctx):
    admin = Membership.objects.get(user__email="admin@acme.test")
    owner = Membership.objects.get(user=tenant_ctx.owner)
    last_owner = api_client.patch(f"/api/v1/members/{owner.pk}", {"role": "admin"}, format="json")
    assert last_owner.status_code == 400 and "role" in last_owner.json()  # a tenant keeps an owner
    assert api_client.patch(f"/api/v1/members/{admin.pk}", {"role": "owner"}, format="json").json()["role"] == "owner"
    assert api_client.patch(f"/api/v1/members/{owner.pk}", {"role": "admin"}, format="json").status_code == 200


def test_a_patch_that_names_no_role_changes_nothing(api_client, admin_api):
    """PATCH semantics (and the schema's): every field is optional, and an empty change is no change."""
    admin = Membership.objects.get(user__email="admin@acme.test")
    response = api_client.patch(f"/api/v1/members/{admin.pk}", {}, format="json")
    assert response.status_code == 200 and response.json()["role"] == "admin"
    assert Membership.objects.get(pk=admin.pk).role == "admin"
    refused = admin_api.patch(f"/api/v1/members/{admin.pk}", {"role": "nobody"}, format="json")
    assert refused.status_code == 400 and "role" in refused.json()


def test_removing_a_member_cuts_off_their_token_at_once(api_client, tenant, django_user_model):
    user = django_user_model.objects.create_user("gone@acme.test", "gone@acme.test", "pw-12345678")
    membership = Membership.objects.create(tenant=tenant, user=user, role="member")
    theirs = _client_for(tenant, user)
    assert theirs.get("/api/v1/tenant").status_code == 200
    assert api_client.delete(f"/api/v1/members/{membership.pk}").status_code == 204
    assert theirs.get("/api/v1/tenant").status_code == 401


def test_the_last_owner_cannot_be_removed(api_client, tenant_ctx):
    owner = Membership.objects.get(user=tenant_ctx.owner)
    response = api_client.delete(f"/api/v1/members/{owner.pk}")
    assert response.status_code == 400 and "owner" in response.json()["role"][0]
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_members_list_shows_roles(api_client, admin_api):
    rows = api_client.get("/api/v1/members").json()["results"]
    assert {(r["email"], r["role"]) for r in rows} == {("owner@acme.test", "owner"), ("admin@acme.test", "admin")}
    assert api_client.get("/api/v1/members", {"role": "admin"}).json()["count"] == 1


def test_an_unreachable_mail_server_still_adds_the_member_and_says_no_mail_went(api_client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2  # nothing listens
    response = api_client.post("/api/v1/members", {"email": "late@acme.test"}, format="json")
    assert response.status_code == 201 and response.json()["invitation_sent"] is False
    assert Membership.objects.filter(user__email="late@acme.test", role="member").exists()
