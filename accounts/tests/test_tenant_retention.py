"""A tenant's own retention: shown by the API, set by operators in the admin, at least a day."""

import pytest

from accounts.models import Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-123"))
    return client


def test_the_tenant_api_shows_its_retention(api_client, tenant):
    assert api_client.get("/api/v1/tenant").json()["retention_days"] is None
    Tenant.objects.filter(pk=tenant.pk).update(retention_days=90)
    assert api_client.get("/api/v1/tenant").json()["retention_days"] == 90


@pytest.mark.parametrize(("value", "saved"), [("7", 7), ("", None), ("0", "refused")])
def test_operators_set_a_tenants_retention_in_the_admin(admin_client, tenant, value, saved):
    response = admin_client.post(f"/admin/accounts/tenant/{tenant.pk}/change/", {
        "slug": tenant.slug, "name": tenant.name, "is_active": "on", "retention_days": value,
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
    })
    tenant.refresh_from_db()
    if saved == "refused":
        assert response.status_code == 200 and "retention_days" in response.context["adminform"].form.errors
        assert tenant.retention_days is None
    else:
        assert response.status_code == 302, response.context["adminform"].form.errors
        assert tenant.retention_days == saved
    assert "retention" in admin_client.get("/admin/accounts/tenant/").content.decode()
