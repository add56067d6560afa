"""The one-line messages every entry point (manage.py, wsgi/asgi, Celery) prints before it stops."""

import sys
from typing import NoReturn

# Gunicorn reads a worker's exit code 3 as "failed to boot" and stops the master too.
EXIT_CODE = 3


def configuration_error(exc: Exception) -> str:
    return f"configuration error: {exc}"


def database_unreachable(exc: Exception) -> str:
    """The driver's first line (e.g. psycopg's 'connection ... failed: Connection refused'), not its wall."""
    text = str(exc).strip()
    return f"database unreachable: {text.splitlines()[0] if text else exc.__class__.__name__}"


def stop(line: str, code: int = EXIT_CODE) -> NoReturn:
    sys.stderr.write(line + "\n")
    raise SystemExit(code)
