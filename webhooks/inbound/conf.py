"""Inbound webhook settings with their defaults, read at call time so tests can override them."""

from django.conf import settings

DEFAULTS = {
    # Bodies above this are refused with 413, from Content-Length before reading, or while reading chunked ones.
    "WEBHOOKS_INBOUND_MAX_BODY": 1024 * 1024,
    # Two-sided window (seconds) for schemes that sign a timestamp (Standard Webhooks).
    "WEBHOOKS_INBOUND_TIMESTAMP_TOLERANCE": 300,
    # Requests a source may post per window when the source sets no `rate_limit` of its own.
    "WEBHOOKS_INBOUND_RATE_LIMIT": 200,
    "WEBHOOKS_INBOUND_RATE_WINDOW": 1,
    # Async messages still `received` after this many seconds are re-enqueued by the beat sweep.
    "WEBHOOKS_INBOUND_STALE_AFTER": 120,
    # Async messages a processing task takes at once; a full batch wakes another worker to share the rest.
    "WEBHOOKS_INBOUND_BATCH_SIZE": 100,
    # How long the "a processing task is queued" flag stands if its task is lost (webhooks/wake.py).
    "WEBHOOKS_INBOUND_WAKE_SECONDS": 2,
    # Seconds the shared cache remembers a source found by its key or URL secret (0: ask the database
    # every request). Changes made through Streamhook forget it at once; this bounds any other change.
    "WEBHOOKS_INBOUND_SOURCE_CACHE_SECONDS": 5,
}


def get(name: str):
    return getattr(settings, name, DEFAULTS[name])
