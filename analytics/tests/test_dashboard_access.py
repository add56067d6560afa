"""Who reaches the dashboard: a superuser through the tenant picker, members their own tenants only; the
"Admin" link only for staff."""

import pytest

from accounts.models import Membership


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-123")


def test_a_superuser_picks_any_tenant_and_reaches_its_dashboard(client, superuser, tenant, other_tenant):
    client.force_login(superuser)
    refused = client.get("/dashboard/")
    html = refused.content.decode()
    assert refused.status_code == 403
    assert 'value="acme"' in html and 'value="globex"' in html  # the picker, not a create_tenant hint
    assert "create_tenant" not in html
    picked = client.post("/tenant/", {"tenant": "globex", "next": "/dashboard/"})
    assert picked.status_code == 302 and picked["Location"] == "/dashboard/"
    dashboard = client.get("/dashboard/")
    assert dashboard.status_code == 200 and "Streamhook · globex" in dashboard.content.decode()
    client.post("/tenant/", {"tenant": "acme"})
    assert "Streamhook · acme" in client.get("/dashboard/").content.decode()


def test_a_member_cannot_pick_someone_elses_tenant(client, tenant_ctx, other_tenant):
    client.force_login(tenant_ctx.owner)
    assert client.post("/tenant/", {"tenant": "globex"}).status_code == 400
    assert "Streamhook · acme" in client.get("/dashboard/").content.decode()


def test_a_member_of_two_tenants_switches_between_them(client, tenant_ctx, other_tenant):
    Membership.objects.create(tenant=other_tenant, user=tenant_ctx.owner, role="member")
    client.force_login(tenant_ctx.owner)
    html = client.get("/dashboard/").content.decode()
    assert 'name="tenant"' in html and 'value="globex"' in html
    client.post("/tenant/", {"tenant": "globex"})
    assert "Streamhook · globex" in client.get("/dashboard/").content.decode()


def test_the_picker_never_redirects_off_site(client, tenant_ctx):
    client.force_login(tenant_ctx.owner)
    response = client.post("/tenant/", {"tenant": "acme", "next": "https://evil.example/"})
    assert response["Location"] == "/dashboard/"


def test_a_user_without_tenant_is_told_to_ask_for_an_invitation(client, django_user_model):
    user = django_user_model.objects.create_user("loner", "loner@example.com", "pw-12345678")
    client.force_login(user)
    html = client.get("/dashboard/").content.decode()
    assert "invite you" in html and "create_tenant" not in html and 'href="/admin/"' not in html


def test_the_admin_link_shows_only_for_staff(client, tenant_ctx, superuser):
    client.force_login(tenant_ctx.owner)
    assert 'href="/admin/"' not in client.get("/dashboard/").content.decode()
    Membership.objects.create(tenant=tenant_ctx.tenant, user=superuser, role="owner")
    client.force_login(superuser)
    assert 'href="/admin/"' in client.get("/dashboard/").content.decode()
