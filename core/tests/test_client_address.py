"""X-Forwarded-For counts only when the trusted proxy sent it; nothing after the middleware sees it."""

import pytest
from django.test import RequestFactory, override_settings

from core.client_address import TrustedProxyMiddleware, client_address


@pytest.mark.parametrize(("peer", "forwarded", "expected"), [
    ("", "203.0.113.9", "203.0.113.9"),  # gunicorn's Unix socket: only nginx reaches it
    ("198.51.100.7", "203.0.113.9", "198.51.100.7"),  # anyone else's header is ignored
    ("", "1.1.1.1, 203.0.113.9", "203.0.113.9"),  # the proxy's entry is the last one
    ("", "not-an-address", ""),
    ("198.51.100.7", "", "198.51.100.7"),
])
def test_the_header_is_believed_only_from_the_socket(peer, forwarded, expected):
    meta = {"REMOTE_ADDR": peer, "HTTP_X_FORWARDED_FOR": forwarded}
    assert client_address(meta) == expected


@override_settings(STREAMHOOK_TRUSTED_PROXIES=["10.0.0.0/8", "::1"])
def test_listed_networks_are_trusted_and_the_socket_no_longer_is():
    assert client_address({"REMOTE_ADDR": "10.1.2.3", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}) == "203.0.113.9"
    assert client_address({"REMOTE_ADDR": "::1", "HTTP_X_FORWARDED_FOR": "2001:db8::5"}) == "2001:db8::5"
    assert client_address({"REMOTE_ADDR": "", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}) == ""


def test_the_middleware_rewrites_remote_addr_and_drops_the_header():
    seen = {}

    def view(request):
        seen.update(request.META)

    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.9")
    TrustedProxyMiddleware(view)(request)
    assert seen["REMOTE_ADDR"] == "198.51.100.7"
    assert "HTTP_X_FORWARDED_FOR" not in seen
