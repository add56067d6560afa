"""Message ids: URL-safe, unique and sortable by creation time (a ULID behind a `msg_` prefix).

Receivers de-duplicate on the id, and operators sort by it, so it must never repeat and
must order like time without a separate column.
"""

import os
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_CROCKFORD[rem])
    return "".join(reversed(chars))


def new_message_id(prefix: str = "msg_", now_ms: int | None = None) -> str:
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
    return prefix + _encode(value, 26)


def first_message_id_at(ms: int, prefix: str = "msg_") -> str:
    """The smallest id `new_message_id` can make at this millisecond: ids below it are older."""
    return prefix + _encode(ms << 80, 26)
