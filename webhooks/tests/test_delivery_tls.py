"""HTTPS to the vetted address: the connection goes to the IP the SSRF guard approved, while the TLS
server name (SNI), the certificate check and the Host header all use the URL's host name. A local TLS
receiver with a certificate made here by `openssl` for `hooks.internal.test`; the name "resolves"
through the stub resolver, so nothing leaves 127.0.0.1."""

import shutil
import ssl
import subprocess
import time

import pytest
from pytest_httpserver import HTTPServer

from webhooks import http, ssrf
from webhooks.ephemeral import EphemeralStream
from webhooks.tests.engine import endpoint_make, publish

pytestmark = pytest.mark.django_db
HOST = "hooks.internal.test"


def _openssl(*args, cwd) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def certificates(tmp_path):
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to make the test certificates")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=Streamhook test CA",
             "-days", "2", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=keyCertSign",
             cwd=tmp_path)
    _openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", f"/CN={HOST}", cwd=tmp_path)
    (tmp_path / "ext.cnf").write_text(f"subjectAltName=DNS:{HOST}\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf", cwd=tmp_path)
    return tmp_path


@pytest.fixture
def tls_server(certificates):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates / "server.pem", certificates / "server.key")
    server_names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    server.server_names = server_names
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture(autouse=True)
def _trust_the_test_ca_and_stub_dns(certificates, tls_server, monkeypatch, settings):
    monkeypatch.setattr(http.certifi, "where", lambda: str(certificates / "ca.pem"))
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: ["127.0.0.1"])  # every name: our TLS server
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    settings.WEBHOOKS_ALLOWED_HOSTS = [f"{HOST}:{tls_server.port}", f"other.internal.test:{tls_server.port}"]
    http.reset()
    yield
    http.reset()


def test_https_goes_to_the_vetted_address_with_the_urls_name_for_sni_certificate_and_host(tenant, tls_server):
    tls_server.expect_request("/hook").respond_with_data("ok")
    endpoint_make(tenant, f"https://{HOST}:{tls_server.port}/hook")
    [delivery] = publish(tenant)
    assert delivery.status == "succeeded", delivery.last_error
    assert tls_server.server_names == [HOST]
    assert tls_server.log[0][0].headers["Host"] == f"{HOST}:{tls_server.port}"


def test_a_certificate_for_another_name_is_refused_and_retried(tenant, tls_server):
    """Same address, but the URL names a host the certificate doesn't cover: verification is against
    the name, not the IP we connect to, so the handshake fails and nothing is posted."""
    tls_server.expect_request("/hook").respond_with_data("ok")
    endpoint_make(tenant, f"https://other.internal.test:{tls_server.port}/hook")
    [delivery] = publish(tenant)
    assert delivery.status == "pending" and delivery.last_status_code is None
    assert "certificate" in delivery.last_error.lower() or "hostname" in delivery.last_error.lower()
    assert tls_server.server_names == ["other.internal.test"]
    assert tls_server.log == []


def _stream_to(tenant, url: str, tls_server) -> None:
    """Send one value through the sampler's kind of sender (a kept-alive connection per subscriber)."""
    stream = EphemeralStream(tenant_id=tenant.pk, type="audio.level")
    stream.subscribe([endpoint_make(tenant, url)])
    stream.send({"audioLevel": 61.6})
    deadline = time.monotonic() + 5
    while not tls_server.log and not tls_server.server_names and time.monotonic() < deadline:
        time.sleep(0.02)
    stream.close(timeout=5)


def test_the_ephemeral_stream_goes_to_the_vetted_address_with_the_urls_name_too(tenant, tls_server):
    tls_server.expect_request("/hook").respond_with_data("ok")
    _stream_to(tenant, f"https://{HOST}:{tls_server.port}/hook", tls_server)
    assert tls_server.server_names == [HOST]
    assert tls_server.log[0][0].headers["Host"] == f"{HOST}:{tls_server.port}"
    assert tls_server.log[0][0].get_json()["data"] == {"audioLevel": 61.6}


def test_the_ephemeral_stream_refuses_a_certificate_for_another_name(tenant, tls_server):
    tls_server.expect_request("/hook").respond_with_data("ok")
    _stream_to(tenant, f"https://other.internal.test:{tls_server.port}/hook", tls_server)
    assert tls_server.server_names == ["other.internal.test"]
    assert tls_server.log == []
