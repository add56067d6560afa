"""Failed credential attempts counted per client address, refused with 429 past a limit.

API tokens and inbound source keys are 256-bit random strings: no rate of guessing finds one, so
this limit is not what keeps them safe. It stops a client that keeps presenting wrong credentials
(an attacker sweeping keys, or a sender left with a revoked one) from costing a lookup and a 401
forever: after `STREAMHOOK_BAD_CREDENTIALS_LIMIT` failures in a window its further failures get 429
with `Retry-After`. Only failures are counted and refused, so a correct credential still works
from the same address: a guesser behind a shared NAT or proxy can't lock its neighbours out, and
the requests that succeed (nearly all of them) never wait on the cache.

Counters are fixed windows in Django's cache (Redis in production, shared by every process); one
IPv6 client usually holds a whole /64, so IPv6 addresses are counted per /64.
"""

import ipaddress
import logging
import math
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


def _client_key(address: str) -> str:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if parsed.version == 6:
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def credential_failure_record(*, scope: str, address: str, now: float | None = None) -> int | None:
    """Count one failed attempt at `scope` ("api-token", "inbound-key") from `address`.

    Returns the seconds to wait (for `Retry-After`) when the address is over the limit, else None.
    """
    limit = settings.STREAMHOOK_BAD_CREDENTIALS_LIMIT
    window = max(1, settings.STREAMHOOK_BAD_CREDENTIALS_WINDOW)
    now = time.time() if now is None else now
    window_start = int(now // window) * window
    key = f"badcred:{scope}:{_client_key(address)}:{window_start}"
    try:
        if cache.add(key, 1, timeout=window + 5):
            count = 1
        else:
            count = cache.incr(key)
    except ValueError:  # expired between add() and incr(): this is the window's first failure again
        count = 1
    except Exception:  # the cache is down: answer 401 rather than refuse everyone
        logger.warning("credential failure counter unavailable for %s", scope, exc_info=True)
        return None
    if count <= limit:
        return None
    return max(1, math.ceil(window_start + window - now))
