import json
import os
import re
import subprocess
import sys
from pathlib import Path

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


@pytest.mark.django_db
def test_user_whose_username_is_the_email_is_reused_not_a_crash(django_user_model, capsys):
    django_user_model.objects.create_user(username="boss@acme.test", password="pw-boss-123")  # no email set
    call_command("create_tenant", "acme", "--owner", "boss@acme.test", "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["password"] is None
    assert django_user_model.objects.count() == 1


@pytest.mark.django_db
def test_human_output_says_where_the_owner_signs_in(capsys):
    call_command("create_tenant", "acme", "--owner", "boss@acme.test")
    out = capsys.readouterr().out
    token = ApiToken.objects.get()
    assert "/api-auth/login/" in out and "createsuperuser" in out
    assert re.search(r"password: \S{12,}", out)
    assert f"Authorization: Bearer {token.prefix}" in out


def test_duplicate_slug_from_the_command_line_is_one_line_and_non_zero(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "STREAMHOOK_"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.local", STREAMHOOK_VAR_DIR=str(tmp_path))
    root = Path(__file__).resolve().parents[2]

    def manage(*args):
        return subprocess.run([sys.executable, "manage.py", *args], cwd=root, env=env, capture_output=True,
                              text=True, timeout=120)

    assert manage("migrate", "-v0").returncode == 0
    assert manage("create_tenant", "demo", "--owner", "a@example.test", "--json").returncode == 0
    again = manage("create_tenant", "demo", "--owner", "b@example.test", "--json")
    assert again.returncode == 1
    assert again.stderr.strip().startswith("CommandError: tenant 'demo' already exists; choose another slug")
    assert again.stdout == ""


@pytest.mark.django_db
@pytest.mark.parametrize(("password", "says"), [("123", "too short"), ("password", "too common"),
                                                ("boss@acme.test", "too similar")])
def test_weak_password_is_refused_before_anything_is_made(password, says):
    with pytest.raises(CommandError, match=says):
        call_command("create_tenant", "acme", "--owner", "boss@acme.test", "--password", password)
    assert not Tenant.objects.exists()


@pytest.mark.django_db
def test_create_tenant_prints_the_example_for_the_given_url(capsys):
    call_command("create_tenant", "acme", "--owner", "boss@acme.test", "--url", "http://127.0.0.1:8123/")
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8123/api/v1/webhooks" in out and ":8000" not in out
