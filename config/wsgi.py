import os
import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

try:
    application = get_wsgi_application()
except ImproperlyConfigured as exc:  # one clear line instead of a traceback wall
    sys.stderr.write(f"configuration error: {exc}\n")
    raise SystemExit(3) from None
