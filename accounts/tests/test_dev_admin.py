import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from accounts.dev_admin import dev_admin_ensure


@pytest.fixture
def debug_on(settings, tmp_path):
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.mark.django_db
def test_make_run_prints_a_working_admin_login_and_keeps_it(debug_on, capsys, client, django_user_model):
    call_command("create_dev_admin", "--url", "http://127.0.0.1:8123/admin/")
    first = capsys.readouterr().out
    password = (debug_on / "dev-admin-password").read_text().strip()
    assert "http://127.0.0.1:8123/admin/" in first and f"password {password!r} (created now)" in first
    assert oct((debug_on / "dev-admin-password").stat().st_mode & 0o777) == "0o600"
    assert client.login(username="admin", password=password)
    assert client.get("/admin/").status_code == 200

    call_command("create_dev_admin")  # the next `make run`: same account, same password, nothing new
    assert f"password {password!r}" in capsys.readouterr().out
    assert django_user_model.objects.filter(is_superuser=True).count() == 1


@pytest.mark.django_db
def test_a_changed_password_is_not_printed_but_the_way_to_reset_it_is(debug_on, capsys, django_user_model):
    dev_admin_ensure()
    user = django_user_model.objects.get(username="admin")
    user.set_password("chosen-by-hand-123")
    user.save()
    call_command("create_dev_admin")
    out = capsys.readouterr().out
    assert "changepassword admin" in out and "password '" not in out


@pytest.mark.django_db
def test_an_existing_superuser_is_reused(debug_on, django_user_model):
    django_user_model.objects.create_superuser("ops", "ops@example.test", "pw-ops-12345")
    admin = dev_admin_ensure()
    assert (admin.username, admin.created, admin.password) == ("ops", False, None)
    assert not django_user_model.objects.filter(username="admin").exists()


@pytest.mark.django_db
def test_an_ordinary_admin_named_user_is_promoted_not_a_crash(debug_on, django_user_model):
    django_user_model.objects.create_user("admin", password="x-ordinary-123")
    admin = dev_admin_ensure()
    user = django_user_model.objects.get(username="admin")
    assert admin.created and user.is_superuser and user.is_staff and user.check_password(admin.password)


@pytest.mark.django_db
def test_without_debug_no_account_is_made_and_make_run_goes_on(settings, django_user_model, capsys):
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured, match="only with DEBUG on"):
        dev_admin_ensure()
    call_command("create_dev_admin")  # no exception: `make run` under other settings still starts
    assert "manage.py createsuperuser" in capsys.readouterr().out
    assert not django_user_model.objects.exists()
