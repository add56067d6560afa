"""The portal's members page: who may invite, change roles and remove, and what bad input gets."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from accounts.models import Membership


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _join(tenant, email: str, role: str) -> Membership:
    user = get_user_model().objects.create_user(username=email, email=email, password="pw-12345678")
    return Membership.objects.create(tenant=tenant, user=user, role=role)


@pytest.fixture
def owner_client(tenant_ctx) -> Client:
    return _client_for(tenant_ctx.owner)


@pytest.fixture
def owner_membership(tenant_ctx) -> Membership:
    return Membership.objects.get(tenant=tenant_ctx.tenant, user=tenant_ctx.owner)


@pytest.fixture
def member(tenant) -> Membership:
    return _join(tenant, "member@acme.test", Membership.Role.MEMBER)


@pytest.fixture
def admin(tenant) -> Membership:
    return _join(tenant, "admin@acme.test", Membership.Role.ADMIN)


def test_everyone_sees_the_members_and_their_roles(member, owner_membership):
    page = _client_for(member.user).get("/portal/members/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "owner@acme.test" in html and "member@acme.test" in html
    assert re.search(rf'id="member-{owner_membership.pk}".*?badge role-owner', html, re.S)
    assert 'href="/portal/members/"' in html  # linked from the navigation
    assert "member@acme.test (member)" in html  # the header names the role the page is shown for


def test_a_member_gets_no_controls_and_posting_them_anyway_is_refused(member, owner_membership):
    client = _client_for(member.user)
    page = client.get("/portal/members/").content.decode()
    assert 'id="invite-form"' not in page and "/remove/" not in page and "/role/" not in page
    assert client.post("/portal/members/invite/", {"email": "new@acme.test", "role": "member"}).status_code == 403
    assert client.post(f"/portal/members/{member.pk}/role/", {"role": "admin"}).status_code == 403
    assert client.post(f"/portal/members/{owner_membership.pk}/remove/").status_code == 403
    assert not get_user_model().objects.filter(email="new@acme.test").exists()
    assert Membership.objects.get(pk=member.pk).role == "member"
    assert Membership.objects.filter(pk=owner_membership.pk).exists()
    assert mail.outbox == []


def test_owner_invites_by_e_mail_and_the_new_person_gets_a_link(owner_client, tenant):
    response = owner_client.post("/portal/members/invite/", {"email": "New@Acme.test", "role": "admin"}, follow=True)
    assert response.redirect_chain == [("/portal/members/", 302)]
    assert b"Invited new@acme.test as admin" in response.content
    membership = Membership.objects.get(tenant=tenant, user__email="new@acme.test")
    assert membership.role == "admin" and not membership.user.has_usable_password()
    [message] = mail.outbox
    assert message.to == ["new@acme.test"]
    assert re.search(r"https?://testserver/accounts/reset/\S+/\S+/", message.body)


def test_an_invitation_whose_mail_cannot_go_out_still_adds_the_member_and_says_so(owner_client, tenant, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens there
    response = owner_client.post("/portal/members/invite/", {"email": "late@acme.test", "role": "member"}, follow=True)
    assert response.status_code == 200
    assert b"the invitation e-mail could not be sent" in response.content
    assert Membership.objects.filter(tenant=tenant, user__email="late@acme.test").exists()


def test_someone_with_an_account_is_added_without_mail(owner_client, other_tenant_ctx, tenant):
    response = owner_client.post("/portal/members/invite/", {"email": "owner@globex.test", "role": "admin"},
                                 follow=True)
    assert b"Added owner@globex.test as admin; they sign in with the password they have." in response.content
    assert Membership.objects.get(tenant=tenant, user=other_tenant_ctx.owner).role == "admin"
    assert mail.outbox == []


@pytest.mark.parametrize(("data", "field"), [
    ({"email": "not-an-address", "role": "member"}, "email"),
    ({"email": "", "role": "member"}, "email"),
    ({"email": "x@acme.test", "role": "boss"}, "role"),
    ({"email": "x@acme.test"}, "role"),
    ({"email": "owner@acme.test", "role": "member"}, "email"),  # already a member
])
def test_a_bad_invitation_is_a_400_naming_the_field(owner_client, tenant, data, field):
    response = owner_client.post("/portal/members/invite/", data)
    assert response.status_code == 400
    assert f'<div class="error">{field}: ' in response.content.decode()
    assert Membership.objects.filter(tenant=tenant).count() == 1
    assert mail.outbox == []


def test_owner_changes_a_role_and_removes_a_member(owner_client, member):
    response = owner_client.post(f"/portal/members/{member.pk}/role/", {"role": "admin"})
    assert response.status_code == 302
    assert Membership.objects.get(pk=member.pk).role == "admin"
    assert owner_client.post(f"/portal/members/{member.pk}/remove/").status_code == 302
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert get_user_model().objects.filter(pk=member.user_id).exists()  # the account stays; only access goes


def test_a_bad_role_change_is_a_400_naming_the_field(owner_client, member):
    response = owner_client.post(f"/portal/members/{member.pk}/role/", {"role": "boss"})
    assert response.status_code == 400
    assert re.search(rf'id="member-{member.pk}".*?class="error">role: ', response.content.decode(), re.S)
    assert Membership.objects.get(pk=member.pk).role == "member"


def test_the_last_owner_can_neither_step_down_nor_be_removed(owner_client, owner_membership):
    for path, data in ((f"/portal/members/{owner_membership.pk}/role/", {"role": "admin"}),
                       (f"/portal/members/{owner_membership.pk}/remove/", {})):
        response = owner_client.post(path, data)
        assert response.status_code == 400
        assert "role: A tenant keeps at least one owner" in response.content.decode()
    assert Membership.objects.get(pk=owner_membership.pk).role == "owner"


def test_an_admin_manages_members_but_not_owners(admin, member, owner_membership):
    client = _client_for(admin.user)
    page = client.get("/portal/members/").content.decode()
    assert f'action="/portal/members/{member.pk}/role/"' in page
    assert f'action="/portal/members/{owner_membership.pk}/role/"' not in page
    assert '<option value="owner"' not in page  # not offered: only owners make owners

    invite = client.post("/portal/members/invite/", {"email": "boss@acme.test", "role": "owner"})
    assert invite.status_code == 403 and "role: Only an owner" in invite.content.decode()
    assert client.post(f"/portal/members/{owner_membership.pk}/role/", {"role": "member"}).status_code == 403
    assert client.post(f"/portal/members/{owner_membership.pk}/remove/").status_code == 403
    assert client.post(f"/portal/members/{member.pk}/role/", {"role": "owner"}).status_code == 403
    assert Membership.objects.get(pk=owner_membership.pk).role == "owner"
    assert Membership.objects.get(pk=member.pk).role == "member"
    assert not get_user_model().objects.filter(email="boss@acme.test").exists()

    assert client.post(f"/portal/members/{member.pk}/role/", {"role": "admin"}).status_code == 302
    assert Membership.objects.get(pk=member.pk).role == "admin"


def test_another_tenants_member_ids_are_not_found(other_tenant_ctx, member):
    client = _client_for(other_tenant_ctx.owner)
    assert client.post(f"/portal/members/{member.pk}/role/", {"role": "admin"}).status_code == 404
    assert client.post(f"/portal/members/{member.pk}/remove/").status_code == 404
    assert b"member@acme.test" not in client.get("/portal/members/").content
    assert Membership.objects.get(pk=member.pk).role == "member"


def test_the_members_page_takes_no_get_on_its_forms(owner_client, member):
    assert owner_client.get("/portal/members/invite/").status_code == 405
    assert owner_client.get(f"/portal/members/{member.pk}/remove/").status_code == 405
