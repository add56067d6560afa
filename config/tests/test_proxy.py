"""The shipped nginx config in front of a real gunicorn: stalled clients can't exhaust the web tier.

Without the proxy, four clients that send headers and part of a body hold gunicorn's 2 workers x 2
threads until they give up. Behind deploy/nginx/streamhook.conf they hold nginx connections only:
gunicorn sees complete requests. The file is started as shipped; only the listening port, the
socket and log paths are moved into a temporary folder. Fails (never skips) when nginx is missing:
`.ci/run` installs it.
"""

import getpass
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import _test_database_url
from recordings.tests.factories import RECORDER_CURL_EXAMPLE, add_member
from webhooks.inbound.tests.factories import make_source

pytestmark = [pytest.mark.proxy, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "deploy" / "nginx" / "streamhook.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
STALLED = 200


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def render(tmp: Path, port: int) -> Path:
    """The shipped file with its port, socket and log paths moved into `tmp`, wrapped in a main config
    like Debian's /etc/nginx/nginx.conf (modules-enabled, then the file inside `http`)."""
    text = SHIPPED.read_text()
    for old, new in (
        ("listen 80;", f"listen 127.0.0.1:{port};"),
        ("listen [::]:80;", ""),
        ("unix:/run/streamhook/gunicorn.sock", f"unix:{tmp}/gunicorn.sock"),
        ("/var/log/nginx/", f"{tmp}/"),
    ):
        assert old in text, f"{old!r} is no longer in {SHIPPED.name}; update render()"
        text = text.replace(old, new)
    (tmp / "streamhook.conf").write_text(text)
    main = tmp / "nginx.conf"
    main.write_text(f"""
user {getpass.getuser()};
worker_processes auto;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
include /etc/nginx/modules-enabled/*.conf;
events {{ worker_connections 768; }}
http {{
    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
    include {tmp}/streamhook.conf;
}}
""")
    return main


def _wait_until(check, timeout: float, what: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited ({proc.returncode}): {log.read_text()[-2000:]}")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{what} did not come up in {timeout} s: {log.read_text()[-2000:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _get(port: int, path: str, headers: dict | None = None, method: str = "GET", body: bytes | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


@pytest.fixture
def proxied(tmp_path):
    """(nginx's port, its folder, the gunicorn process).

    gunicorn runs with gunicorn.conf.py on a Unix socket, 2 workers x 2 threads: the issue's setup."""
    if not Path(NGINX).exists():
        pytest.fail("nginx not found; install Debian's nginx and libnginx-mod-http-headers-more-filter (see .ci/run)")
    tmp_path.chmod(0o755)  # nginx's workers (another user when started as root) connect to the socket in it
    port = _free_port()
    config = render(tmp_path, port)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": _test_database_url(),
           "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "2"}
    gunicorn_log = tmp_path / "gunicorn.log"
    gunicorn = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi:application",
         "--bind", f"unix:{tmp_path}/gunicorn.sock", "--no-control-socket"],
        cwd=ROOT, env=env, stdout=gunicorn_log.open("ab"), stderr=subprocess.STDOUT)
    nginx_log = tmp_path / "nginx.out"
    nginx = subprocess.Popen([NGINX, "-c", str(config), "-e", str(tmp_path / "error.log"),
                              "-g", "daemon off;"], stdout=nginx_log.open("ab"), stderr=subprocess.STDOUT)
    try:
        _wait_until(lambda: (tmp_path / "gunicorn.sock").exists(), 60, "gunicorn", gunicorn, gunicorn_log)
        _wait_until(lambda: _get(port, "/healthz")[0] == 200, 30, "nginx", nginx, nginx_log)
        yield port, tmp_path, gunicorn
    finally:
        _stop(nginx)
        _stop(gunicorn)


def _stall(port: int, half_body: bool) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if half_body:
        sock.sendall(b"POST /recordings/webhook/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                     b"X-API-Key: not-yet\r\nContent-Length: 5000\r\n\r\n{\"recording_id\": ")
    else:
        sock.sendall(b"POST /recordings/webhook/ HTTP/1.1\r\nHost: localhost\r\nContent-Ty")
    return sock


def test_stalled_connections_leave_healthz_and_inbound_posts_answering_in_under_a_second(tenant, proxied):
    port, _, _ = proxied
    add_member(tenant, "souvik@fyelabs.com")
    _, key = make_source(tenant, kind="recorder")
    stalled = [_stall(port, half_body=n % 2 == 1) for n in range(STALLED)]
    try:
        time.sleep(1)  # let nginx accept them all
        for round_ in range(5):
            started = time.monotonic()
            status, _, body = _get(port, "/healthz")
            health_took = time.monotonic() - started
            assert status == 200, body
            payload = json.dumps({**RECORDER_CURL_EXAMPLE, "recording_id": 7000 + round_}).encode()
            started = time.monotonic()
            status, _, body = _get(port, "/recordings/webhook/", method="POST", body=payload,
                                   headers={"Content-Type": "application/json", "X-API-Key": key})
            post_took = time.monotonic() - started
            assert status == 201, body
            assert health_took < 1 and post_took < 1, (health_took, post_took)
        # Every stalled connection is still held open by nginx, not refused.
        open_ = sum(1 for sock in stalled if sock.fileno() != -1 and not _closed(sock))
        assert open_ == STALLED
    finally:
        for sock in stalled:
            sock.close()


def _closed(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    finally:
        sock.setblocking(True)


def test_no_server_header_reaches_the_client(proxied):
    port, _, _ = proxied
    for path in ("/healthz", "/admin/login/", "/no-such-page"):
        status, headers, _ = _get(port, path)
        assert status in (200, 404)
        assert "server" not in {name.lower() for name in headers}, path


def test_a_client_cannot_choose_its_forwarded_address(proxied):
    """nginx replaces X-Forwarded-For, so a lockout is counted against the address nginx saw."""
    from axes.models import AccessAttempt
    from django.contrib.auth import get_user_model

    port, _, _ = proxied
    get_user_model().objects.create_user("ops", "ops@example.test", "pw-ops-12345")
    _, headers, page = _get(port, "/api-auth/login/")
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    statuses = [_get(port, "/api-auth/login/", method="POST",
                     body=f"username=ops&password=wrong&csrfmiddlewaretoken={token}".encode(),
                     headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie,
                              "X-Forwarded-For": f"192.0.2.{n}"})[0] for n in range(5)]
    assert statuses == [200] * 4 + [429]  # the form again with its error, then locked out
    assert list(AccessAttempt.objects.values_list("ip_address", "failures_since_start")) == [("127.0.0.1", 5)]


def test_gunicorn_gone_is_a_json_503(proxied):
    port, folder, gunicorn = proxied
    _stop(gunicorn)
    status, headers, body = _get(port, "/healthz")
    assert status == 503 and headers["Retry-After"] == "5"
    assert json.loads(body)["status"] == "error"
    assert _get(port, "/s/sk-very-secret-123/recordings/webhook/", method="POST", body=b"{}")[0] == 503
    errors = (folder / "streamhook-error.log").read_text()
    assert "/healthz" in errors and "sk-very-secret" not in errors


def test_the_access_log_masks_the_secret_of_a_source_url(proxied):
    port, folder, _ = proxied
    for path in ("/s/sk-very-secret-123/recordings/webhook/", "/%73/sk-very-secret-123/api/listen/start",
                 "/s/sk-very-secret-123"):
        _get(port, path, method="POST", body=b"{}", headers={"Content-Type": "application/json"})
    _get(port, "/healthz")
    log = (folder / "streamhook-access.log").read_text()
    assert "sk-very-secret" not in log
    assert "/s/***/recordings/webhook/" in log and "/s/***/api/listen/start" in log and '"POST /s/*** ' in log
    assert "/healthz" in log


def test_a_body_over_the_limit_is_refused_by_the_proxy_in_json(proxied):
    port, _, _ = proxied
    status, headers, body = _get(port, "/recordings/webhook/", method="POST", body=b"x" * (3 * 1024 * 1024),
                                 headers={"Content-Type": "application/json"})
    assert status == 413
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"status": "error", "message": "Request body too large: the limit is 2 MiB."}
