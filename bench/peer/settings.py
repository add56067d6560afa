"""Streamhook's development settings plus django-webhook and the model it watches (no migrations:
`migrate --run-syncdb` creates the table), for the peer's worker and emitter processes."""

from config.settings.local import *  # noqa: F403
from config.settings.local import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "django_webhook", "bench.peer"]
DJANGO_WEBHOOK = {"MODELS": ["peer.Ping"]}
