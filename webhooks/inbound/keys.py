"""Source API keys (random, shown once, stored as SHA-256) and source URL secrets (found by their SHA-256)."""

import hashlib
import secrets

KEY_PREFIX = "shin_"


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_url_secret() -> str:
    """The secret part of a source URL: 256 bits, URL-safe, so it can sit in a path segment as is."""
    return secrets.token_urlsafe(32)


def hash_url_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
