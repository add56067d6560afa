"""What every entry point (manage.py, wsgi/asgi, gunicorn, Celery) shares: the one-line messages it prints
before it stops, and the GIL switch interval of its worker processes."""

import sys
from typing import NoReturn

# How often Python hands the GIL between threads in a worker process (gunicorn's and Celery's pool
# processes): waking threads wait up to this long behind a busy one (docs/design/web-tier.md).
GIL_SWITCH_INTERVAL = 0.0005  # seconds

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
