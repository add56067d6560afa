import json

import pytest
from django.core.management import call_command

from accounts.models import Tenant
from webhooks.models import Event


@pytest.mark.django_db
def test_create_tenant_emits_user_created_for_the_new_owner(capsys):
    call_command("create_tenant", "acme", "--owner", "boss@acme.test", "--json")
    owner_id = json.loads(capsys.readouterr().out)
    event = Event.objects.get(type="user.created")
    assert event.tenant == Tenant.objects.get(slug="acme")
    assert event.data["email"] == owner_id["owner"]


@pytest.mark.django_db
def test_admin_creating_a_user_with_membership_emits_user_created(admin_client, tenant):
    response = admin_client.post(
        "/admin/auth/user/add/",
        {
            "username": "dj@acme.test",
            "password1": "a-Long-password-123",
            "password2": "a-Long-password-123",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-tenant": tenant.pk,
            "memberships-0-role": "member",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert Event.objects.filter(type="user.created", tenant=tenant, data__username="dj@acme.test").count() == 1
