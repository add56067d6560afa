import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

from config.startup import configuration_error, stop

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

try:
    from config.senders import dispatching

    application = dispatching(get_wsgi_application())
except ImproperlyConfigured as exc:  # one clear line instead of a traceback wall
    stop(configuration_error(exc))
