"""The outbound HTTP client: POSTs to vetted addresses, no redirects.

Requests go out on aiohttp, so one process holds thousands of them open while it waits for slow
receivers. The SSRF guarantee is kept by the resolver: aiohttp asks `VettedResolver` where a host
is, and it answers only with the address `ssrf.vet_target` approved for that host and port (vetted
in the caller's thread, before the request is queued). The Host header and the TLS server name stay
the URL's host, so a DNS answer that changes after the check is never used.

`VettedConnection` keeps the same promise for a thread that sends to one receiver only, many times a
second (the ephemeral streams' subscribers): a blocking, kept-alive connection, where an event loop
and its hand-overs would cost more than the request.
"""

import os
import re
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


class ProtocolError(Exception):
    """The receiver's answer is not HTTP/1.x we can read."""


class StaleConnection(Exception):
    """A kept-alive connection turned out closed before any answer: the request was not taken."""


# Header names are tokens and values visible text (webhooks/custom_headers.py checks them on save);
# checked again here, where they become bytes on the wire, so no CR or LF can start a header of its own.
_UNSAFE_HEADER = re.compile(r"[\r\n\0]")
HEAD_LIMIT = 64 * 1024  # a response head longer than this is not HTTP we want to read


class VettedConnection:
    """A blocking HTTP/1.1 connection to `target.address`, kept alive from one POST to the next.

    For a thread that sends small bodies to one receiver many times a second (the ephemeral streams'
    subscribers), where `http.client` cost three times the CPU of the exchange itself (its header
    parsing goes through the `email` package, and it writes head and body in two packets). It writes a
    request in one `sendall` and reads only what it needs of the answer: the status, and a body framed
    by Content-Length up to DRAIN_LIMIT; any other framing (chunked, until close, too long) ends the
    connection instead of being read, and the next POST opens a new one.

    As with aiohttp, the Host header, the TLS server name and the certificate check are the URL's
    host: a DNS answer that changes after vetting is never used. `connect_timeout` bounds connecting
    (and the TLS handshake), `timeout` each read and write after it. Not thread-safe: one thread uses it.
    """

    def __init__(self, target: VettedTarget, *, connect_timeout: float, timeout: float) -> None:
        self.target = target
        self.connect_timeout = connect_timeout
        self.timeout = timeout
        self.generation = _generation
        self.sock: socket.socket | None = None
        self._tls = ssl.create_default_context(cafile=certifi.where()) if target.scheme == "https" else None
        self._request_line = f"POST {target.path} HTTP/1.1\r\nHost: {netloc_of(target)}\r\n"
        self._buffer = bytearray(8192)

    def connect(self) -> None:
        sock = socket.create_connection((self.target.address, self.target.port), timeout=self.connect_timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_hostname=self.target.host)
            sock.settimeout(self.timeout)
        except BaseException:
            sock.close()
            raise
        self.sock = sock

    def close(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            sock.close()

    def post(self, body: bytes, headers: dict[str, str]) -> Response:
        """POST `body` once (twice when the kept-alive connection turned out closed). Never raises for
        network trouble; never follows a redirect."""
        started = time.monotonic()
        try:
            request = self._request(body, headers)
            if self.sock is not None:
                try:
                    return self._exchange(request, started)
                except StaleConnection:
                    self.close()
            self.connect()
            return self._exchange(request, started)
        except TimeoutError as exc:
            error, timed_out = f"timeout: {exc}", True
        except ssl.SSLCertVerificationError as exc:
            error, timed_out = f"TLS certificate refused: {exc.verify_message}", False
        except ConnectionRefusedError as exc:
            error, timed_out = f"connection failed: {self.target.host}:{self.target.port}: {exc.strerror}", False
        except StaleConnection as exc:
            error, timed_out = f"connection closed before an answer: {exc}", False
        except (OSError, ProtocolError) as exc:
            error, timed_out = f"{type(exc).__name__}: {exc}", False
        self.close()
        return Response(None, {}, "", _ms(started), error=error, timed_out=timed_out)

    def _request(self, body: bytes, headers: dict[str, str]) -> bytes:
        lines = [self._request_line]
        agent = False
        for name, value in headers.items():
            if _UNSAFE_HEADER.search(name) or _UNSAFE_HEADER.search(value):
                raise ProtocolError(f"header {name!r} holds a line break or NUL")
            lines.append(f"{name}: {value}\r\n")
            agent = agent or name.lower() == "user-agent"
        if not agent:  # ours unless the caller's (a delivery's headers carry it: not twice)
            lines.append(f"User-Agent: {USER_AGENT}\r\n")
        lines.append(f"Content-Length: {len(body)}\r\n\r\n")
        return "".join(lines).encode("latin-1") + body

    def _exchange(self, request: bytes, started: float) -> Response:
        sock = self.sock
        try:
            sock.sendall(request)
            data = self._receive(b"")
        except (ConnectionResetError, BrokenPipeError) as exc:
            raise StaleConnection(str(exc)) from None
        if not data:
            raise StaleConnection("closed by the receiver")
        while True:  # interim answers (1xx) come before the real one
            while b"\r\n\r\n" not in data:
                if len(data) > HEAD_LIMIT:
                    raise ProtocolError("response head too long")
                more = self._receive(data)
                if len(more) == len(data):
                    raise ProtocolError("connection closed in the response head")
                data = more
            head, _, data = data.partition(b"\r\n\r\n")
            version, status, headers = _parse_head(head)
            if status >= 200:
                break
        length = "0" if status in (204, 304) else headers.get("content-length")
        keep = version == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
        if length is None or "transfer-encoding" in headers or not length.isdigit() or int(length) > DRAIN_LIMIT:
            keep = False  # its body is not worth reading: a new connection next time
            body = data
        else:
            while len(data) < int(length):
                more = self._receive(data)
                if len(more) == len(data):
                    raise ProtocolError("connection closed in the response body")
                data = more
            body = data[: int(length)]
        if not keep:
            self.close()
        return Response(status, headers, body[:BODY_LIMIT].decode("utf-8", "replace"), _ms(started))

    def _receive(self, data: bytes) -> bytes:
        """`data` and what came next (`data` unchanged once the receiver closed the connection)."""
        n = self.sock.recv_into(self._buffer)
        return data + self._buffer[:n] if n else data


def _parse_head(head: bytes) -> tuple[str, int, dict[str, str]]:
    """(version, status, headers with lower-case names) of a response head."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not (parts[1].isdigit() and len(parts[1]) == 3):
        raise ProtocolError(f"not an HTTP/1.x status line: {lines[0][:100]!r}")
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise ProtocolError(f"malformed header line: {line[:100]!r}")
        headers[name.strip().lower()] = value.strip()
    return parts[0], int(parts[1]), headers


def reset() -> None:
    """Forget vetted addresses and open new sessions (tests, settings changes)."""
    global _generation
    with _lock:
        _vetted.clear()
        _generation += 1
