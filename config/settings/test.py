"""Test settings: the same stack as production wiring, fast hashing, isolated queue.

With DATABASE_URL/REDIS_URL set (as `.ci/run` does) the suite runs on PostgreSQL and
Redis; otherwise on SQLite and the filesystem broker. The SQLite test database is a
file, not memory, so a real Celery worker process started by a test can open it.
"""

import os

from .base import *  # noqa: F403
from .base import DATABASES, DEVELOPMENT_ENCRYPTION_KEY, REDIS_URL, VAR_DIR, env

SECRET_KEY = "test-only-secret-key-not-for-production-0123456789"
STREAMHOOK_ENCRYPTION_KEYS = env.list("STREAMHOOK_ENCRYPTION_KEYS", default=[DEVELOPMENT_ENCRYPTION_KEY])
DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# One queue per test run, so concurrent runs sharing a Redis never steal each other's tasks.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default=f"streamhook-test-{os.getpid()}")

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"{CELERY_TASK_DEFAULT_QUEUE}.sqlite3")}

if not REDIS_URL:
    # A broker folder per run as well; the worker a test starts gets the same CELERY_QUEUE.
    _broker_dir = VAR_DIR / "test-broker" / CELERY_TASK_DEFAULT_QUEUE
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }

# emit() raises on an unknown event type or data its schema refuses: a test finds the programming error.
WEBHOOKS_STRICT_EVENT_TYPES = True

# Tests post to pytest-httpserver on 127.0.0.1.
WEBHOOKS_ALLOW_PRIVATE_TARGETS = True

# Tests present wrong keys and tokens from 127.0.0.1 all run long; the limit's own tests lower it.
STREAMHOOK_BAD_CREDENTIALS_LIMIT = 1_000_000

# The suite posts the source systems' own example payloads, dated 2025 (DJ stream assistant,
# recorder, RealCast documents): ten years back keeps them acceptable and still refuses year 1
# and the epoch. The window's own tests (`core/tests/test_eventtime.py`, the senders' tests) set it.
STREAMHOOK_EVENT_TIME_WINDOW = env("STREAMHOOK_EVENT_TIME_WINDOW", default="3650d,1d")
