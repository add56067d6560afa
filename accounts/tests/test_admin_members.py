"""Inviting a member from the admin: the same service as the API, e-mail included."""

import pytest
from django.core import mail

from accounts.models import Membership

pytestmark = pytest.mark.django_db


def test_the_admin_invites_by_email_and_the_new_account_gets_the_link(admin_client, tenant, django_user_model):
    response = admin_client.post("/admin/accounts/membership/add/",
                                 {"tenant": tenant.pk, "email": "new@acme.test", "role": "admin"}, follow=True)
    assert "Invited new@acme.test" in response.content.decode()
    membership = Membership.objects.get(user__email="new@acme.test")
    assert membership.tenant == tenant and membership.role == "admin"
    assert not membership.user.has_usable_password()
    [message] = mail.outbox
    assert "/accounts/reset/" in message.body


def test_the_admin_refuses_a_second_membership_naming_the_email(admin_client, tenant_ctx):
    response = admin_client.post("/admin/accounts/membership/add/",
                                 {"tenant": tenant_ctx.tenant.pk, "email": "OWNER@acme.test", "role": "member"})
    assert "already a member" in response.content.decode()
    assert Membership.objects.count() == 1 and mail.outbox == []


def test_the_admin_keeps_the_last_owner(admin_client, tenant_ctx):
    owner = Membership.objects.get(user=tenant_ctx.owner)
    response = admin_client.post(f"/admin/accounts/membership/{owner.pk}/change/", {"role": "member"})
    assert "at least one owner" in response.content.decode()
    assert Membership.objects.get(pk=owner.pk).role == "owner"
