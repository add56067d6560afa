"""Wrong passwords lock one username out from one address for a while (django-axes)."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

LOGINS = ["/admin/login/", "/api-auth/login/"]
ATTACKER = "203.0.113.66"


@pytest.fixture
def ops(django_user_model):
    return django_user_model.objects.create_superuser("ops", "ops@example.test", "pw-ops-12345")


def _login(path: str, password: str, address: str, **extra):
    client = Client()
    return client.post(path, {"username": "ops", "password": password, "next": "/admin/"}, REMOTE_ADDR=address,
                       **extra)


@pytest.mark.parametrize("path", LOGINS)
def test_five_wrong_passwords_lock_the_user_out_from_that_address(ops, path, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert _login(path, "wrong", ATTACKER).status_code == 200  # the form again, with its error
    locked = _login(path, "wrong", ATTACKER)
    assert locked.status_code == 429
    # Locked out: even the right password is refused from there, for the cool-off.
    assert _login(path, "pw-ops-12345", ATTACKER).status_code == 429
    # The owner logging in from elsewhere is not locked out.
    assert _login(path, "pw-ops-12345", "198.51.100.20").status_code == 302


def test_a_lockout_on_one_login_page_holds_on_the_other(ops):
    for _ in range(5):
        _login("/api-auth/login/", "wrong", ATTACKER)
    assert _login("/admin/login/", "pw-ops-12345", ATTACKER).status_code == 429


def test_behind_the_proxy_the_forwarded_address_is_locked_out_not_the_proxy(ops):
    """From gunicorn's Unix socket (REMOTE_ADDR empty) the address nginx forwarded counts."""
    for _ in range(5):
        _login("/admin/login/", "wrong", "", HTTP_X_FORWARDED_FOR=ATTACKER)
    assert _login("/admin/login/", "pw-ops-12345", "", HTTP_X_FORWARDED_FOR=ATTACKER).status_code == 429
    assert _login("/admin/login/", "pw-ops-12345", "", HTTP_X_FORWARDED_FOR="198.51.100.20").status_code == 302


def test_a_right_password_before_the_limit_resets_the_count(ops):
    for _ in range(4):
        _login("/admin/login/", "wrong", ATTACKER)
    assert _login("/admin/login/", "pw-ops-12345", ATTACKER).status_code == 302
    for _ in range(4):
        assert _login("/admin/login/", "wrong", ATTACKER).status_code == 200
