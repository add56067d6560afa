"""A superuser for local development, so `make run` can say exactly how to sign in to /admin/.

Tenant owners made by `create_tenant` are not staff on purpose: the admin is the operators'
console and shows every tenant's rows. On a development machine the operator is the developer,
so `make run` makes (once) an `admin` account with a random password kept in `var/`, readable
only by its owner, and prints it while it still works.
"""

import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured

DEV_ADMIN_USERNAME = "admin"


@dataclass(frozen=True)
class DevAdmin:
    username: str
    password: str | None  # None when the kept password no longer works (changed by hand)
    created: bool


def dev_admin_ensure(*, password_file: Path | None = None) -> DevAdmin:
    """The first active superuser, created as `admin` when there is none. Development only."""
    if not settings.DEBUG:
        raise ImproperlyConfigured("a development admin is made only with DEBUG on (config.settings.local)")
    password_file = password_file or Path(settings.VAR_DIR) / "dev-admin-password"
    User = get_user_model()
    user = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
    if user is None:
        password = secrets.token_urlsafe(12)
        user = User.objects.filter(username=DEV_ADMIN_USERNAME).first()
        if user is None:
            user = User.objects.create_superuser(DEV_ADMIN_USERNAME, "admin@localhost", password)
        else:  # an ordinary `admin` user exists: promote it rather than fail on the unique name
            user.is_staff = user.is_superuser = user.is_active = True
            user.set_password(password)
            user.save(update_fields=["is_staff", "is_superuser", "is_active", "password"])
        password_file.write_text(password + "\n")
        password_file.chmod(0o600)
        return DevAdmin(username=user.get_username(), password=password, created=True)
    kept = password_file.read_text().strip() if password_file.exists() else ""
    return DevAdmin(username=user.get_username(), password=kept if kept and user.check_password(kept) else None,
                    created=False)
