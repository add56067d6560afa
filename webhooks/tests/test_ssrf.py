"""The SSRF guard at create time and at send time. Hostnames "resolve" through a stub:
no traffic ever goes to a private or public address; the only real requests go to loopback."""

import re

import pytest
from django.core.exceptions import ImproperlyConfigured

from webhooks import http, ssrf
from webhooks.models import Delivery
from webhooks.ssrf import UnsafeTargetURL, validate_target_url, vet_target
from webhooks.tests.engine import endpoint_make, publish


@pytest.fixture(autouse=True)
def _guard_on(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    settings.WEBHOOKS_ALLOWED_HOSTS = []
    http.reset()
    yield
    http.reset()


@pytest.fixture
def dns(monkeypatch):
    """A stub resolver: `dns["host"] = ["10.0.0.5"]`; unknown hosts fail to resolve."""
    table: dict[str, list[str]] = {}

    def resolve(host, port):
        if host in table:
            return table[host]
        if host.replace(".", "").isdigit() or ":" in host:
            return [host]
        raise UnsafeTargetURL(f"host {host!r} does not resolve")

    monkeypatch.setattr(ssrf, "resolve", resolve)
    return table


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "javascript:alert(1)", "http:///nohost",
                                 "https://user:pw@example.com/"])
def test_only_http_and_https_urls_with_a_host(url, dns):
    with pytest.raises(UnsafeTargetURL):
        validate_target_url(url)


def test_unsafe_target_url_is_a_value_error():
    assert issubclass(UnsafeTargetURL, ValueError)


@pytest.mark.parametrize(("address", "label"), [
    ("127.0.0.1", "loopback"), ("10.0.0.5", "private"), ("192.168.1.20", "private"), ("172.16.3.4", "private"),
    ("169.254.169.254", "link-local"), ("224.0.0.1", "multicast"), ("0.0.0.0", "unspecified"),
    ("240.0.0.1", "reserved"), ("100.64.0.1", "non-public"), ("::1", "loopback"), ("fe80::1", "link-local"),
    ("fd00::1", "private"), ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.0.0.1", "private"),
    # 6to4 and Teredo carry an IPv4 address that is_global doesn't look at; fec0::/10 is site-local.
    ("2002:7f00:1::", "loopback"), ("2002:a00:5::1", "private"), ("2002:a9fe:a9fe::", "link-local"),
    ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "private"), ("fec0::1", "site-local"),
    ("64:ff9b::7f00:1", "reserved"), ("::7f00:1", "reserved"),
])
def test_hostnames_resolving_to_refused_ranges_are_refused(dns, address, label):
    dns["hooks.example.com"] = [address]
    with pytest.raises(UnsafeTargetURL, match=re.escape(f"resolves to a {label} address {address}")):
        validate_target_url("https://hooks.example.com/in")


def test_one_refused_address_among_public_ones_is_enough_to_refuse(dns):
    dns["mixed.example.com"] = ["93.184.216.34", "10.0.0.5"]
    with pytest.raises(UnsafeTargetURL, match=re.escape("10.0.0.5")):
        validate_target_url("https://mixed.example.com/")


def test_public_address_is_accepted(dns):
    dns["hooks.example.com"] = ["93.184.216.34"]
    validate_target_url("https://hooks.example.com/in")
    target = vet_target("https://hooks.example.com:8443/in?x=1")
    assert (target.address, target.host, target.port, target.path) == ("93.184.216.34", "hooks.example.com", 8443,
                                                                         "/in?x=1")


def test_unresolvable_host_is_refused(dns):
    with pytest.raises(UnsafeTargetURL, match="does not resolve"):
        validate_target_url("https://nowhere.invalid/")


def test_loopback_literal_refused_at_create_when_the_allowance_is_off(dns):
    with pytest.raises(UnsafeTargetURL, match=re.escape("loopback address 127.0.0.1")):
        validate_target_url("http://127.0.0.1:8000/hook")


def test_allowance_and_allow_list_permit_private_targets(dns, settings):
    dns["intranet.corp"] = ["10.1.2.3"]
    settings.WEBHOOKS_ALLOWED_HOSTS = ["intranet.corp"]
    validate_target_url("http://intranet.corp/hook")
    settings.WEBHOOKS_ALLOWED_HOSTS = []
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    validate_target_url("http://127.0.0.1/hook")


def test_allowed_hosts_are_host_port_pairs_and_a_bare_host_is_its_default_port_only(dns, settings):
    dns["intranet.corp"] = ["10.1.2.3"]
    settings.WEBHOOKS_ALLOWED_HOSTS = ["intranet.corp:8080", "localhost", "[::1]:9000", "10.9.9.9:443"]
    dns["localhost"] = ["127.0.0.1"]
    validate_target_url("http://intranet.corp:8080/hook")
    validate_target_url("http://localhost/hook")
    validate_target_url("https://localhost/hook")
    validate_target_url("http://[::1]:9000/hook")
    validate_target_url("https://10.9.9.9/hook")
    for refused in ("http://intranet.corp/hook", "http://intranet.corp:8081/hook", "http://localhost:6379/",
                    "http://localhost:5432/", "http://localhost:443/", "https://localhost:80/",
                    "http://[::1]:9001/", "http://10.9.9.9/hook"):
        with pytest.raises(UnsafeTargetURL, match="resolves to a"):
            validate_target_url(refused)


@pytest.mark.parametrize("entry", ["host:", "host:0", "host:70000", "host:port", "[::1]x"])
def test_a_malformed_allowed_host_entry_is_a_configuration_error(dns, settings, entry):
    dns["host"] = ["10.1.2.3"]
    settings.WEBHOOKS_ALLOWED_HOSTS = [entry]
    with pytest.raises(ImproperlyConfigured, match="WEBHOOKS_ALLOWED_HOSTS"):
        validate_target_url("http://host/hook")


@pytest.mark.django_db
def test_loopback_refused_at_send_time_when_the_allowance_is_off(tenant, httpserver, dns):
    httpserver.expect_request("/hook").respond_with_data("ok")
    endpoint_make(tenant, f"http://127.0.0.1:{httpserver.port}/hook")  # stored directly, as if created while allowed
    [delivery] = publish(tenant)
    assert delivery.status == "failed" and "loopback address 127.0.0.1" in delivery.last_error
    assert delivery.attempts.get().error.startswith("refused target")
    assert len(httpserver.log) == 0


@pytest.mark.django_db
def test_dns_rebinding_after_create_is_caught_at_send_time(tenant, httpserver, dns):
    """The name was public when the endpoint was created and points at loopback when we send."""
    dns["rebind.example.com"] = ["93.184.216.34"]
    url = f"http://rebind.example.com:{httpserver.port}/hook"
    validate_target_url(url)
    endpoint_make(tenant, url)
    dns["rebind.example.com"] = ["127.0.0.1"]
    [delivery] = publish(tenant)
    assert delivery.status == "failed" and "loopback" in delivery.last_error
    assert len(httpserver.log) == 0


@pytest.mark.django_db
def test_the_sender_connects_to_the_vetted_address_not_a_fresh_lookup(tenant, httpserver, dns, settings):
    """The stub answers 127.0.0.1 for a name no real DNS knows; the request arrives with that name
    as Host, so the connection went to the vetted address and nothing resolved the name again."""
    settings.WEBHOOKS_ALLOWED_HOSTS = [f"hooks.internal.test:{httpserver.port}"]
    dns["hooks.internal.test"] = ["127.0.0.1"]
    httpserver.expect_request("/hook").respond_with_data("ok")
    endpoint_make(tenant, f"http://hooks.internal.test:{httpserver.port}/hook")
    [delivery] = publish(tenant)
    assert delivery.status == "succeeded"
    assert httpserver.log[0][0].headers["Host"] == f"hooks.internal.test:{httpserver.port}"
    assert Delivery.objects.count() == 1


@pytest.mark.parametrize("url", [
    "http://2130706433/", "http://0x7f.1/", "http://0x7f000001/", "http://017700000001/", "http://0177.0.0.1/",
    "http://127.1/", "http://0/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://[::1]:8000/",
    "http://[0:0:0:0:0:0:0:1]/", "http://[2002:7f00:1::]/",
])
def test_every_spelling_of_loopback_is_refused(url):
    """The real resolver (numeric forms never reach DNS) turns decimal, hex, octal and short forms into
    the address they mean, and that address is what is judged."""
    with pytest.raises(UnsafeTargetURL, match=r"loopback|unspecified"):
        vet_target(url)


@pytest.mark.parametrize("url", [
    "http://hooks.example.com@127.0.0.1/",  # the host is 127.0.0.1; "hooks.example.com" is a user name
    "http://hooks.example.com:pw@127.0.0.1/",
    "http://127.0.0.1#@hooks.example.com/",  # everything after # is a fragment
    "http://127.0.0.1?@hooks.example.com/",
    "http://127.0.0.1/@hooks.example.com/",
])
def test_userinfo_and_delimiter_tricks_are_judged_by_the_real_host(dns, url):
    dns["hooks.example.com"] = ["93.184.216.34"]
    with pytest.raises(UnsafeTargetURL, match=r"credentials|loopback"):
        vet_target(url)


def test_the_refusal_names_the_host_the_address_and_why(dns):
    dns["hooks.example.com"] = ["10.0.0.5"]
    with pytest.raises(UnsafeTargetURL) as exc:
        vet_target("https://hooks.example.com/")
    assert str(exc.value) == ("host 'hooks.example.com' resolves to a private address 10.0.0.5; "
                              "webhooks are sent only to public addresses")
