import os

from django.core.asgi import get_asgi_application
from django.core.exceptions import ImproperlyConfigured

from config.startup import configuration_error, stop

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

try:
    application = get_asgi_application()
except ImproperlyConfigured as exc:  # one clear line instead of a traceback wall
    stop(configuration_error(exc))
