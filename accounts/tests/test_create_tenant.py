import json

import pytest
from django.core.management import CommandError, call_command

from accounts.models import ApiToken, Membership, Tenant


@pytest.mark.django_db
def test_create_tenant_json_prints_tenant_owner_and_working_token(capsys):
    call_command("create_tenant", "acme", "--owner", "Boss@Acme.test", "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["tenant"] == "acme"
    assert out["owner"] == "boss@acme.test"
    assert out["token"].startswith("shk_")
    assert len(out["password"]) >= 12
    tenant = Tenant.objects.get(slug="acme")
    assert Membership.objects.get(tenant=tenant).role == "owner"
    # Only the hash is stored, never the key itself.
    token = ApiToken.objects.get(tenant=tenant)
    assert out["token"] not in (token.key_hash, token.prefix)


@pytest.mark.django_db
def test_create_tenant_uses_given_password(client):
    call_command("create_tenant", "acme", "--owner", "boss@acme.test", "--password", "s3cret-pass-word")
    assert client.login(username="boss@acme.test", password="s3cret-pass-word")


@pytest.mark.django_db
def test_create_tenant_refuses_duplicate_slug_and_bad_email():
    call_command("create_tenant", "acme", "--owner", "boss@acme.test")
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_tenant", "acme", "--owner", "other@acme.test")
    with pytest.raises(CommandError, match="email"):
        call_command("create_tenant", "beta", "--owner", "not-an-email")
    with pytest.raises(CommandError, match="slug"):
        call_command("create_tenant", "Bad Slug", "--owner", "x@y.test")
    assert Tenant.objects.count() == 1


@pytest.mark.django_db
def test_existing_user_becomes_owner_of_second_tenant(capsys):
    call_command("create_tenant", "acme", "--owner", "boss@acme.test", "--json")
    capsys.readouterr()
    call_command("create_tenant", "beta", "--owner", "BOSS@acme.test", "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["password"] is None
    assert Membership.objects.filter(user__email="boss@acme.test").count() == 2
