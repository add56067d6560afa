"""The outbound HTTP client: POSTs to vetted addresses, no redirects.

Requests go out on aiohttp, so one process holds thousands of them open while it waits for slow
receivers. The SSRF guarantee is kept by the resolver: aiohttp asks `VettedResolver` where a host
is, and it answers only with the address `ssrf.vet_target` approved for that host and port (vetted
in the caller's thread, before the request is queued). The Host header and the TLS server name stay
the URL's host, so a DNS answer that changes after the check is never used.

`VettedConnection` keeps the same promise for a thread that sends to one receiver only, many times a
second (the ephemeral streams' subscribers): a blocking, kept-alive `http.client` connection, where an
event loop and its hand-overs would cost more than the request.
"""

import http.client
import os
import socket
import ssl
import threading
import time
from dataclasses import dataclass

import aiohttp
import certifi
from aiohttp.abc import AbstractResolver, ResolveResult

from webhooks import conf
from webhooks.ssrf import VettedTarget, vet_target

USER_AGENT = "Streamhook-Webhooks/1.0"
BODY_LIMIT = 4096
# Bodies longer than this are not drained: the connection is dropped instead of reused.
DRAIN_LIMIT = 64 * 1024
# A host's vetted address is reused this long, so a busy endpoint isn't resolved per request.
VET_TTL = 30.0

_vetted: dict[tuple, tuple[float, VettedTarget]] = {}
_lock = threading.Lock()
_generation = 0  # bumped by reset(): senders then open a new session (new CA bundle, no old connections)


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
    """`ssrf.vet_target(url)`, cached briefly per process. Blocking (DNS): never call it on the loop."""
    now = time.monotonic()
    # The permissions are part of the key: a changed allow-list takes effect at once.
    key = (url, conf.get("WEBHOOKS_ALLOW_PRIVATE_TARGETS"), tuple(conf.get("WEBHOOKS_ALLOWED_HOSTS")))
    hit = _vetted.get(key)
    if hit and hit[0] > now:
        return hit[1]
    target = vet_target(url)
    _vetted[key] = (now + VET_TTL, target)
    return target


class VettedResolver(AbstractResolver):
    """Answers aiohttp's lookups with the addresses the SSRF guard approved, and nothing else."""

    def __init__(self) -> None:
        self._addresses: dict[tuple[str, int], str] = {}

    def remember(self, target: VettedTarget) -> None:
        self._addresses[(target.host, target.port)] = target.address

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[ResolveResult]:
        address = self._addresses.get((host, port))
        if address is None:
            raise OSError(f"{host}:{port} was not vetted")
        return [ResolveResult(
            hostname=host, host=address, port=port, proto=0, flags=socket.AI_NUMERICHOST,
            family=socket.AF_INET6 if ":" in address else socket.AF_INET,
        )]

    async def close(self) -> None:
        return None


def generation() -> int:
    return _generation


def new_session(resolver: VettedResolver) -> aiohttp.ClientSession:
    """A session for one event loop: no limit of its own (endpoints have theirs), no proxies from the
    environment, certifi's CA bundle, a connection kept alive per host for the next delivery."""
    context = ssl.create_default_context(cafile=certifi.where())
    connector = aiohttp.TCPConnector(limit=0, resolver=resolver, ssl=context, ttl_dns_cache=int(VET_TTL),
                                     keepalive_timeout=30)
    return aiohttp.ClientSession(connector=connector, trust_env=False, auto_decompress=False,
                                 headers={"User-Agent": USER_AGENT}, skip_auto_headers=("Accept-Encoding",))


def netloc_of(target: VettedTarget) -> str:
    """The URL's host and, unless it is the scheme's default, port: the Host header."""
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


def url_of(target: VettedTarget) -> str:
    return f"{target.scheme}://{netloc_of(target)}{target.path}"


async def post(session: aiohttp.ClientSession, target: VettedTarget, body: bytes, headers: dict[str, str], *,
               connect_timeout: float | None = None, timeout: float | None = None) -> Response:
    """POST `body` to `target` once. Never raises for network trouble; never follows a redirect."""
    connect_timeout = conf.get("WEBHOOKS_CONNECT_TIMEOUT") if connect_timeout is None else connect_timeout
    total = conf.get("WEBHOOKS_TIMEOUT") if timeout is None else timeout
    started = time.monotonic()
    status, response_headers = None, {}
    try:
        async with session.post(
            url_of(target), data=body, headers=headers, allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=total, sock_connect=connect_timeout),
        ) as resp:
            status, response_headers = resp.status, dict(resp.headers)
            head = await _read_head(resp)
    except TimeoutError as exc:
        where = "reading body" if status is not None else f"after {total:g} s"
        return Response(status, response_headers, "", _ms(started), error=f"timeout {where}: {exc}".rstrip(": "),
                        timed_out=True)
    except aiohttp.ClientConnectorCertificateError as exc:
        return Response(None, {}, "", _ms(started), error=f"TLS certificate refused: {exc.certificate_error}")
    except aiohttp.ClientSSLError as exc:
        return Response(None, {}, "", _ms(started), error=f"TLS failed: {exc.os_error or exc}")
    except aiohttp.ClientConnectorError as exc:
        cause = exc.os_error
        reason = os.strerror(cause.errno) if cause is not None and cause.errno else str(cause or exc)
        return Response(None, {}, "", _ms(started), error=f"connection failed: {target.host}:{target.port}: {reason}")
    except (aiohttp.ClientError, OSError) as exc:
        return Response(status, response_headers, "", _ms(started), error=f"{type(exc).__name__}: {exc}")
    return Response(status, response_headers, head.decode("utf-8", "replace"), _ms(started))


async def _read_head(resp: aiohttp.ClientResponse) -> bytes:
    """The first BODY_LIMIT bytes; a body past DRAIN_LIMIT closes the connection instead of draining it."""
    head = b""
    total = 0
    while True:
        chunk = await resp.content.readany()
        if not chunk:
            return head
        if len(head) < BODY_LIMIT:
            head += chunk[: BODY_LIMIT - len(head)]
        total += len(chunk)
        if total > DRAIN_LIMIT:
            resp.close()
            return head


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


# A kept-alive connection the receiver closed while it idled fails like this before any answer: such a
# request was not taken, and goes once more on a new connection.
_STALE_CONNECTION = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class VettedConnection(http.client.HTTPConnection):
    """A blocking connection to `target.address`, kept alive from one request to the next.

    The Host header and the TLS server name (and the certificate check) are the URL's host, as with
    aiohttp. `connect_timeout` bounds the connection (and the TLS handshake), `timeout` each read after
    it. Not thread-safe: one thread uses it.
    """

    def __init__(self, target: VettedTarget, *, connect_timeout: float, timeout: float) -> None:
        super().__init__(target.address, target.port, timeout=connect_timeout)
        self.target = target
        self.read_timeout = timeout
        self.tls = ssl.create_default_context(cafile=certifi.where()) if target.scheme == "https" else None
        self.generation = _generation

    def connect(self) -> None:
        super().connect()
        if self.tls is not None:
            self.sock = self.tls.wrap_socket(self.sock, server_hostname=self.target.host)
        self.sock.settimeout(self.read_timeout)

    def post(self, body: bytes, headers: dict[str, str]) -> Response:
        """POST `body` once (twice when the kept-alive connection turned out closed). Never raises for
        network trouble; never follows a redirect."""
        started = time.monotonic()
        headers = {"Host": netloc_of(self.target), "User-Agent": USER_AGENT, **headers}
        try:
            if self.sock is not None:
                try:
                    return self._exchange(body, headers, started)
                except _STALE_CONNECTION:
                    self.close()
            return self._exchange(body, headers, started)
        except TimeoutError as exc:
            error, timed_out = f"timeout: {exc}", True
        except ssl.SSLCertVerificationError as exc:
            error, timed_out = f"TLS certificate refused: {exc.verify_message}", False
        except ConnectionRefusedError as exc:
            error, timed_out = f"connection failed: {self.target.host}:{self.target.port}: {exc.strerror}", False
        except (OSError, http.client.HTTPException) as exc:
            error, timed_out = f"{type(exc).__name__}: {exc}", False
        self.close()
        return Response(None, {}, "", _ms(started), error=error, timed_out=timed_out)

    def _exchange(self, body: bytes, headers: dict[str, str], started: float) -> Response:
        # As aiohttp sends it: no `Accept-Encoding: identity` of http.client's own.
        self.putrequest("POST", self.target.path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            self.putheader(name, value)
        self.putheader("Content-Length", str(len(body)))
        self.endheaders(body)  # one write: headers and body in the same packet
        with self.getresponse() as resp:
            head = resp.read(DRAIN_LIMIT + 1)
            if len(head) > DRAIN_LIMIT:  # not worth draining: a new connection next time
                self.close()
            return Response(resp.status, dict(resp.headers), head[:BODY_LIMIT].decode("utf-8", "replace"),
                            _ms(started))


def reset() -> None:
    """Forget vetted addresses and open new sessions (tests, settings changes)."""
    global _generation
    with _lock:
        _vetted.clear()
        _generation += 1
