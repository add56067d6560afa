"""The outbound HTTP client: kept-alive connections to vetted addresses, no redirects.

One urllib3 pool per (scheme, host, port, vetted address), shared by every thread of a worker
process, so consecutive deliveries to a subscriber reuse their TCP (and TLS) connection. The
pool connects to the address `ssrf.vet_target` approved, while the Host header and the TLS
server name stay the URL's host: a DNS answer that changes after the check is never used.
"""

import threading
import time
from dataclasses import dataclass

import certifi
import urllib3

from webhooks import conf
from webhooks.ssrf import VettedTarget, vet_target

USER_AGENT = "Streamhook-Webhooks/1.0"
BODY_LIMIT = 4096
# Bodies longer than this are not drained: the connection is dropped instead of reused.
DRAIN_LIMIT = 64 * 1024
# A host's vetted address is reused this long, so a busy endpoint isn't resolved per request.
VET_TTL = 30.0

_pools: dict[tuple, urllib3.HTTPConnectionPool] = {}
_vetted: dict[tuple, tuple[float, VettedTarget]] = {}
_lock = threading.Lock()


@dataclass
class Response:
    status: int | None
    headers: dict[str, str]
    body: str  # the first BODY_LIMIT bytes, decoded leniently
    duration_ms: int
    error: str = ""  # set when no HTTP response came back (timeout, refused, TLS, ...)
    timed_out: bool = False

    def __post_init__(self) -> None:
        # Both end up in Attempt rows, and PostgreSQL text can't hold NUL: one receiver answering
        # b"\0" would fail the whole batch's bookkeeping, and every delivery in it would be sent again.
        self.body = self.body.replace("\x00", "\ufffd")
        self.error = self.error.replace("\x00", "\ufffd")


def vetted(url: str) -> VettedTarget:
    """`ssrf.vet_target(url)`, cached briefly per process."""
    now = time.monotonic()
    # The permissions are part of the key: a changed allow-list takes effect at once.
    key = (url, conf.get("WEBHOOKS_ALLOW_PRIVATE_TARGETS"), tuple(conf.get("WEBHOOKS_ALLOWED_HOSTS")))
    hit = _vetted.get(key)
    if hit and hit[0] > now:
        return hit[1]
    target = vet_target(url)
    _vetted[key] = (now + VET_TTL, target)
    return target


def _pool(target: VettedTarget, maxsize: int) -> urllib3.HTTPConnectionPool:
    key = (target.scheme, target.host, target.port, target.address)
    pool = _pools.get(key)
    if pool is not None:
        return pool
    with _lock:
        pool = _pools.get(key)
        if pool is None:
            common = {"port": target.port, "maxsize": maxsize, "block": False, "retries": False}
            if target.scheme == "https":
                pool = urllib3.HTTPSConnectionPool(
                    target.address, server_hostname=target.host, assert_hostname=target.host,
                    cert_reqs="CERT_REQUIRED", ca_certs=certifi.where(), **common,
                )
            else:
                pool = urllib3.HTTPConnectionPool(target.address, **common)
            _pools[key] = pool
    return pool


def _host_header(target: VettedTarget) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


def post(target: VettedTarget, body: bytes, headers: dict[str, str], *, connect_timeout: float | None = None,
         timeout: float | None = None) -> Response:
    """POST `body` to `target` once. Never raises for network trouble; never follows a redirect."""
    connect_timeout = conf.get("WEBHOOKS_CONNECT_TIMEOUT") if connect_timeout is None else connect_timeout
    total = conf.get("WEBHOOKS_TIMEOUT") if timeout is None else timeout
    pool = _pool(target, maxsize=conf.get("WEBHOOKS_SEND_THREADS"))
    started = time.monotonic()
    try:
        resp = pool.urlopen(
            "POST", target.path, body=body, headers={"Host": _host_header(target), **headers},
            redirect=False, retries=False, preload_content=False, assert_same_host=False,
            timeout=urllib3.Timeout(connect=connect_timeout, read=total, total=total),
        )
    except urllib3.exceptions.NewConnectionError as exc:  # refused, unreachable: urllib3 files it under timeouts
        return Response(None, {}, "", _ms(started), error=f"connection failed: {exc}")
    except urllib3.exceptions.TimeoutError as exc:
        return Response(None, {}, "", _ms(started), error=f"timeout: {exc}", timed_out=True)
    except urllib3.exceptions.HTTPError as exc:
        return Response(None, {}, "", _ms(started), error=f"{type(exc).__name__}: {exc}")
    try:
        head, keep = _read_body(resp, started + total)
    except urllib3.exceptions.TimeoutError as exc:
        resp.drain_conn()
        return Response(resp.status, dict(resp.headers), "", _ms(started), error=f"timeout reading body: {exc}",
                        timed_out=True)
    except urllib3.exceptions.HTTPError as exc:
        head, keep = b"", False
        error = f"{type(exc).__name__}: {exc}"
    else:
        error = ""
    if keep:
        resp.release_conn()
    else:
        resp.close()  # unread bytes would poison the next request on this connection
    return Response(resp.status, dict(resp.headers), head.decode("utf-8", "replace"), _ms(started), error=error)


def _read_body(resp, deadline: float) -> tuple[bytes, bool]:
    """The first BODY_LIMIT bytes and whether the connection can be reused."""
    head = b""
    total = 0
    while True:
        chunk = resp.read(8192)
        if not chunk:
            return head, True
        if len(head) < BODY_LIMIT:
            head += chunk[: BODY_LIMIT - len(head)]
        total += len(chunk)
        if total > DRAIN_LIMIT or time.monotonic() > deadline:
            return head, False


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def reset() -> None:
    """Forget pools and vetted addresses (tests, settings changes)."""
    with _lock:
        for pool in _pools.values():
            pool.close()
        _pools.clear()
        _vetted.clear()
