"""Source API keys: random, shown once, stored as SHA-256 and found by that hash."""

import hashlib
import secrets

KEY_PREFIX = "shin_"


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
