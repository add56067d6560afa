"""The address a request came from, believed from X-Forwarded-For only when a trusted proxy sent it.

Throttles and lockouts count per client address. Behind nginx every request arrives from the proxy,
so the address must come from the header nginx sets (deploy/nginx/streamhook.conf replaces it with
the address it saw); anyone else can write any X-Forwarded-For they like, so from a peer that isn't
in `STREAMHOOK_TRUSTED_PROXIES` the header is ignored and the peer's own address counts. `unix` in
that list is a Unix-socket peer (gunicorn reports it as an empty address): only processes that may
open the socket file reach it, i.e. the proxy.

`TrustedProxyMiddleware` rewrites `REMOTE_ADDR` once, first thing, and drops the header, so Django,
DRF's throttles (which would otherwise believe any X-Forwarded-For) and django-axes all read the
same address.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

UNIX_PEER = "unix"


@lru_cache(maxsize=8)
def _trusted(entries: tuple[str, ...]) -> tuple[bool, tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]]:
    unix = UNIX_PEER in entries
    networks = tuple(ipaddress.ip_network(entry, strict=False) for entry in entries if entry != UNIX_PEER)
    return unix, networks


def _parse(raw: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(raw.strip().split("%", 1)[0])
    except ValueError:
        return None


def is_trusted_proxy(peer: str) -> bool:
    unix, networks = _trusted(tuple(settings.STREAMHOOK_TRUSTED_PROXIES))
    if not peer:
        return unix
    address = _parse(peer)
    return address is not None and any(address in network for network in networks)


def client_address(meta: dict) -> str:
    """The client's address for a WSGI environ / `request.META`."""
    peer = meta.get("REMOTE_ADDR", "") or ""
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and is_trusted_proxy(peer):
        # The proxy's own entry is the last one: whatever precedes it came from the client.
        address = _parse(forwarded.split(",")[-1])
        if address is not None:
            return str(address)
    return peer


def request_client_address(request: HttpRequest) -> str:
    """For django-axes' AXES_CLIENT_IP_CALLABLE (after the middleware, REMOTE_ADDR already is it)."""
    return client_address(request.META)


class TrustedProxyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        request.META["REMOTE_ADDR"] = client_address(request.META)
        request.META.pop("HTTP_X_FORWARDED_FOR", None)
        return self.get_response(request)
