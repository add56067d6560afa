"""Development settings used by `make run`: DEBUG on, loopback webhook targets allowed."""

from config.env import env_bool

from .base import *  # noqa: F403
from .base import DEVELOPMENT_ENCRYPTION_KEY, env

DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-only-insecure-key-change-me-0123456789abcdef")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["*"])
STREAMHOOK_ENCRYPTION_KEYS = env.list("STREAMHOOK_ENCRYPTION_KEYS", default=[DEVELOPMENT_ENCRYPTION_KEY])

# Invitation e-mails (with their set-your-password link) are printed by `make run`'s web process.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))

# Local receivers (a script on 127.0.0.1) must work during development.
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", True)
