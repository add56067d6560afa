"""Reading settings from the environment, strictly.

django-environ's ``Env.bool`` treats any unknown word as False, so a typo such as
``DEBUG=ture`` would silently turn a feature off; its ``int``/``float`` and ``db`` let a
bare ``ValueError``/``KeyError`` escape, a traceback wall that never names the variable.
Every malformed value here becomes one ``ImproperlyConfigured`` naming the variable, which
the entry points (manage.py, wsgi, Celery) print as one line.
"""

import os
import warnings
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_DATABASE_SCHEMES = ("postgres://", "postgresql://", "pgsql://", "sqlite://")


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean; use one of {sorted(_TRUE | _FALSE)}"
    )


def env_required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"{name} must be set in the environment")
    return value


class StrictEnv(environ.Env):
    """``environ.Env`` whose casts fail with the variable's name instead of a bare ValueError."""

    def bool(self, var: str, default=environ.Env.NOTSET) -> bool:  # type: ignore[override]
        if default is self.NOTSET and var not in os.environ:
            raise ImproperlyConfigured(f"{var} must be set in the environment")
        return env_bool(var, bool(default) if default is not self.NOTSET else False)

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except (ValueError, TypeError):
            kind = getattr(cast, "__name__", "value")
            raise ImproperlyConfigured(f"{var}={os.environ.get(var)!r} is not a valid {kind}") from None

    def db_url(self, var="DATABASE_URL", default=environ.Env.NOTSET, engine=None) -> dict:
        url = self.str(var, default=default)
        # Never echo the URL itself: it usually carries a password.
        example = "postgres://user:password@host:5432/name or sqlite:////path/to/db.sqlite3"
        if not url.startswith(_DATABASE_SCHEMES):
            scheme = urlsplit(url).scheme or "(none)"
            raise ImproperlyConfigured(f"{var} has an unsupported scheme {scheme!r}; expected {example}")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # environ warns before it fails; the error says it all
                config = self.db_url_config(url, engine=engine)
        except (ValueError, KeyError, TypeError) as exc:
            raise ImproperlyConfigured(f"{var} is not a valid database URL ({exc}); expected {example}") from None
        if not config.get("ENGINE") or not config.get("NAME"):
            raise ImproperlyConfigured(f"{var} names no database; expected {example}")
        return config

    db = db_url


env = StrictEnv()
