"""Production settings: no default for secrets, HTTPS assumed, private targets refused."""

from config.env import env_bool, env_required

from .base import *  # noqa: F403
from .base import DATABASES, env

SECRET_KEY = env_required("DJANGO_SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and not env_bool(
    "STREAMHOOK_ALLOW_SQLITE", False
):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("production needs DATABASE_URL pointing at PostgreSQL")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
# Load balancers probe over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SILENCED_SYSTEM_CHECKS: list[str] = []

WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
