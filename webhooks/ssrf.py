"""The SSRF guard: subscriber URLs may not point into our own network.

A URL is vetted when an endpoint is created or updated (`validate_target_url`) and again at
send time (`vet_target`). The sender then connects to the vetted address itself (see
`webhooks.http`), so a hostname that resolved to a public address during the check and to
127.0.0.1 a millisecond later (DNS rebinding) never gets a connection.

Every lookup goes through `resolve()`, the one function tests replace to make a hostname
"resolve" to a refused range without any traffic leaving the machine.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from webhooks import conf

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeTargetURL(ValueError):
    """The URL may not be called: wrong scheme, no host, or a host inside a refused range."""


@dataclass(frozen=True)
class VettedTarget:
    scheme: str
    host: str  # as written in the URL (Host header, TLS server name)
    port: int
    address: str  # the IP the connection must go to
    path: str  # path and query, what goes on the request line


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to (IP literals resolve to themselves)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeTargetURL(f"host {host!r} does not resolve: {exc}") from None
    return list(dict.fromkeys(info[4][0] for info in infos))


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries and routes to: mapped (::ffff:a.b.c.d), 6to4 (2002:ab:cd::)
    or Teredo. `is_global` judges those by the IPv6 block alone, so 2002:7f00:1:: would pass as public."""
    if address.version != 6:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # (server, client): the client is where the packets end up
    return None


def refusal_reason(address: IPAddress) -> str | None:
    """Why connecting to `address` is refused, or None when it is a public address."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        address = embedded
    if address.version == 6 and address.is_site_local:  # fec0::/10: deprecated, still routed inside sites
        return "site-local"
    for attribute, label in (
        # Most specific first: `is_private` also covers the link-local and reserved blocks.
        ("is_loopback", "loopback"),
        ("is_unspecified", "unspecified"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_reserved", "reserved"),
        ("is_private", "private"),
    ):
        if getattr(address, attribute):
            return label
    if not address.is_global:  # shared address space (100.64/10) and the like
        return "non-public"
    return None


DEFAULT_PORTS = {"http": 80, "https": 443}


def _allowed_entry(entry: str) -> tuple[str, int | None]:
    """`host:port`, `[v6]:port`, or a bare host (None: the scheme's default port only)."""
    entry = entry.strip().lower()
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else None
        if rest and port is None:
            raise ImproperlyConfigured(f"WEBHOOKS_ALLOWED_HOSTS: {entry!r} is not host:port")
    elif entry.count(":") == 1:
        host, port = entry.split(":")
    else:  # a bare name, IPv4 or unbracketed IPv6 address
        host, port = entry, None
    if port is not None and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise ImproperlyConfigured(f"WEBHOOKS_ALLOWED_HOSTS: {entry!r} has no valid port (1-65535)")
    return host.rstrip("."), None if port is None else int(port)


def _private_allowed(scheme: str, host: str, port: int) -> bool:
    """Whether the allow-list names this host on this port. An internal receiver allowed on one port must
    not open the host's other services (Redis on 6379, PostgreSQL on 5432) to subscriber URLs."""
    if conf.get("WEBHOOKS_ALLOW_PRIVATE_TARGETS"):
        return True
    host = host.lower().rstrip(".")
    for allowed_host, allowed_port in map(_allowed_entry, conf.get("WEBHOOKS_ALLOWED_HOSTS")):
        if allowed_host == host and (allowed_port or DEFAULT_PORTS[scheme]) == port:
            return True
    return False


def _split(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeTargetURL(f"invalid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeTargetURL(f"scheme must be http or https, not {parts.scheme or 'none'!r}")
    host = parts.hostname
    if not host:
        raise UnsafeTargetURL("URL has no host")
    if parts.username or parts.password:
        raise UnsafeTargetURL("credentials in the URL are not allowed")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, host, port or (443 if scheme == "https" else 80), path


def vet_target(url: str) -> VettedTarget:
    """Check `url` and return the address to connect to; raise UnsafeTargetURL when refused."""
    scheme, host, port, path = _split(url)
    addresses = resolve(host, port)
    if not addresses:
        raise UnsafeTargetURL(f"host {host!r} does not resolve")
    if not _private_allowed(scheme, host, port):
        # Every address must be public: a client is free to pick any of them.
        for raw in addresses:
            reason = refusal_reason(ipaddress.ip_address(raw.split("%", 1)[0]))
            if reason:
                raise UnsafeTargetURL(f"host {host!r} resolves to a {reason} address {raw}; webhooks are sent only "
                                      "to public addresses")
    return VettedTarget(scheme=scheme, host=host, port=port, address=addresses[0], path=path)


def validate_target_url(url: str) -> None:
    """Raise UnsafeTargetURL (a ValueError, with the reason) unless `url` is a permitted target."""
    vet_target(url)
