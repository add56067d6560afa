"""Webhook settings with their defaults, read from Django settings at call time (tests override them)."""

from django.conf import settings

DEFAULTS = {
    # Seconds after the first try; each one gets +-20 % jitter.
    "WEBHOOKS_RETRY_SCHEDULE": [5, 300, 1800, 7200, 18000, 36000, 36000],
    "WEBHOOKS_CONNECT_TIMEOUT": 5.0,
    "WEBHOOKS_TIMEOUT": 15.0,
    "WEBHOOKS_RETRY_AFTER_CAP": 3600,
    # Waits up to this long are Celery countdowns; longer ones wait as rows for the beat sweep.
    "WEBHOOKS_COUNTDOWN_MAX": 60,
    "WEBHOOKS_DISABLE_AFTER": 5 * 24 * 3600,
    "WEBHOOKS_SECRET_ROTATION_OVERLAP": 24 * 3600,
    "WEBHOOKS_ALLOW_PRIVATE_TARGETS": False,
    "WEBHOOKS_ALLOWED_HOSTS": [],
    "WEBHOOKS_EPHEMERAL_TTL": 2.0,
    "WEBHOOKS_STRICT_EVENT_TYPES": None,  # None: strict when DEBUG or under tests
    # Delivery engine (webhooks/delivery.py).
    "WEBHOOKS_SEND_THREADS": 32,  # concurrent HTTP requests per worker process
    "WEBHOOKS_BATCH_SIZE": 100,  # deliveries claimed and sent together
    "WEBHOOKS_LEASE_SECONDS": 90,  # a claimed delivery is another worker's to retry after this
    "WEBHOOKS_SWEEP_GRACE": 3.0,  # the sweep leaves fresh rows this long to their own task
    "WEBHOOKS_SWEEP_BUDGET": 20.0,  # seconds one sweep keeps claiming due deliveries
    # Seconds the "a fan-out task is queued" flag outlives a lost task (fanout.py, Redis only).
    "WEBHOOKS_FAN_OUT_WAKE_SECONDS": 2,
    # The ingest path's statements are prepared once per PostgreSQL connection (webhooks/rows.py);
    # off for a pooler in transaction mode that can't keep them (PgBouncer before 1.21).
    "WEBHOOKS_PREPARED_STATEMENTS": True,
}


def get(name: str):
    return getattr(settings, name, DEFAULTS[name])
