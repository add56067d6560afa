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
    # emit() raises on an unknown type or refused data instead of logging it. None: when DEBUG.
    "WEBHOOKS_STRICT_EVENT_TYPES": None,
    # Delivery engine (webhooks/delivery.py).
    # Requests open at once to one endpoint, per worker process (an endpoint's `max_in_flight` overrides it).
    "WEBHOOKS_MAX_IN_FLIGHT": 50,
    # Requests a worker process holds (in flight or queued behind an endpoint's cap) before the sweep stops
    # claiming more for it.
    "WEBHOOKS_PROCESS_MAX_PENDING": 5000,
    # The circuit breaker (webhooks/circuit.py): consecutive failed tries that open it, and the probe
    # interval's start and cap in seconds (it doubles after every failed probe).
    "WEBHOOKS_CIRCUIT_THRESHOLD": 20,
    "WEBHOOKS_CIRCUIT_PROBE_BASE": 10.0,
    "WEBHOOKS_CIRCUIT_PROBE_MAX": 3600.0,
    "WEBHOOKS_BATCH_SIZE": 100,  # deliveries claimed and sent together
    # A claimed delivery is another worker's to send after this; it must outlast WEBHOOKS_TIMEOUT plus
    # the sender's margin, or a delivery still in flight would be sent again.
    "WEBHOOKS_LEASE_SECONDS": 90,
    "WEBHOOKS_SWEEP_GRACE": 3.0,  # the sweep leaves fresh rows this long to their own task
    "WEBHOOKS_SWEEP_BUDGET": 20.0,  # seconds one sweep keeps claiming due deliveries
    # Seconds the "a fan-out task is queued" flag outlives a lost task (fanout.py, Redis only).
    "WEBHOOKS_FAN_OUT_WAKE_SECONDS": 2,
}


def get(name: str):
    return getattr(settings, name, DEFAULTS[name])
