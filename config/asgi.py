import os
import sys

from django.core.asgi import get_asgi_application
from django.core.exceptions import ImproperlyConfigured

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

try:
    application = get_asgi_application()
except ImproperlyConfigured as exc:  # one clear line instead of a traceback wall
    sys.stderr.write(f"configuration error: {exc}\n")
    raise SystemExit(3) from None
