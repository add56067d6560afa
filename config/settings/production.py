"""Production settings: no default for secrets, HTTPS assumed, private targets refused."""

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_required

from .base import *  # noqa: F403
from .base import DATABASES, REDIS_URL, env

SECRET_KEY = env_required("DJANGO_SECRET_KEY")
STREAMHOOK_ENCRYPTION_KEYS = env.list("STREAMHOOK_ENCRYPTION_KEYS", default=[])
if not STREAMHOOK_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "STREAMHOOK_ENCRYPTION_KEYS must be set in the environment (comma-separated Fernet keys; make one with "
        "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
    )
for _key in STREAMHOOK_ENCRYPTION_KEYS:
    try:
        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured(
            "STREAMHOOK_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe base64-encoded bytes)"
        ) from None
DEBUG = False
ALLOWED_HOSTS = [host.strip() for host in env.list("DJANGO_ALLOWED_HOSTS") if host.strip()]
if not ALLOWED_HOSTS:  # an empty list would answer every request with 400
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must name at least one host (comma-separated)")

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and not env_bool(
    "STREAMHOOK_ALLOW_SQLITE", False
):
    raise ImproperlyConfigured("production needs DATABASE_URL pointing at PostgreSQL")
# The embedded broker is a folder: web, worker and beat on separate hosts (or containers) would each
# queue into their own, and no delivery would ever leave. Only a deliberate single host may use it.
if not REDIS_URL and not env_bool("STREAMHOOK_ALLOW_EMBEDDED_BROKER", False):
    raise ImproperlyConfigured("production needs REDIS_URL (the broker every web, worker and beat process shares)")

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
