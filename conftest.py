"""Fixtures shared by every app's tests: tenants, authenticated API clients, a real Celery worker."""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.services import TenantCreated, tenant_create

ROOT = Path(__file__).resolve().parent
# Playwright's sync API keeps an event loop on the main thread; Django would then refuse ORM
# calls made by fixtures in the same thread. Tests only: the server itself runs in its own thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _remembered_apart(settings):
    """Each test remembers rows under keys of its own (core/remembered.py): SQLite hands a rolled-back
    test's ids out again, so an entry a test left would describe another test's row."""
    settings.REMEMBERED_NAMESPACE = f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(autouse=True)
def _no_fan_out_wake_pending():
    """A wake-up flag left by an earlier test (whose task nobody consumed) must not hold back this one's."""
    from webhooks.fanout import fan_out_wake_release

    fan_out_wake_release()


@pytest.fixture
def tenant_ctx(db) -> TenantCreated:
    return tenant_create(slug="acme", owner_email="owner@acme.test", password="pw-acme-123")


@pytest.fixture
def tenant(tenant_ctx):
    return tenant_ctx.tenant


@pytest.fixture
def other_tenant_ctx(db) -> TenantCreated:
    return tenant_create(slug="globex", owner_email="owner@globex.test", password="pw-globex-123")


@pytest.fixture
def other_tenant(other_tenant_ctx):
    return other_tenant_ctx.tenant


@pytest.fixture
def api_client(tenant_ctx) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant_ctx.token_key}")
    return client


@pytest.fixture
def other_api_client(other_tenant_ctx) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {other_tenant_ctx.token_key}")
    return client


# --- A real Celery worker process -------------------------------------------------


def _test_database_url() -> str:
    from django.db import connection

    cfg = connection.settings_dict
    if cfg["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{cfg['NAME']}"
    auth = cfg["USER"] + (f":{cfg['PASSWORD']}" if cfg["PASSWORD"] else "")
    return f"postgres://{auth}@{cfg['HOST'] or '127.0.0.1'}:{cfg['PORT'] or 5432}/{cfg['NAME']}"


class WorkerProcess:
    """`celery worker` as a child process on this run's queue and test database."""

    def __init__(
        self, log_dir: Path, concurrency: int = 2, beat: bool = False, pool: str = "prefork",
        env: dict[str, str] | None = None, extra_args: list[str] | None = None,
    ):
        """`env` overrides the child's environment (e.g. REDIS_URL of a private redis-server:
        then readiness is read from the worker's log, since this process's broker differs)."""
        self.log_path = log_dir / f"worker-{uuid.uuid4().hex[:8]}.log"
        self.concurrency, self.beat, self.pool = concurrency, beat, pool
        self.env_overrides = env or {}
        self.extra_args = extra_args or []
        self.proc: subprocess.Popen | None = None

    def start(self, wait: bool = True) -> "WorkerProcess":
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _test_database_url(),
            "CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
            **self.env_overrides,
        }
        cmd = [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "-Q", settings.CELERY_TASK_DEFAULT_QUEUE, "-c", str(self.concurrency), "-P", self.pool,
            "-n", f"test-{uuid.uuid4().hex[:6]}@%h", "--without-gossip", "--without-mingle",
            "-l", "INFO",
        ]
        if self.beat:
            cmd += ["--beat", "-s", str(self.log_path.with_suffix(".beat"))]
        cmd += self.extra_args
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        from config.celery import ping

        if self.env_overrides.get("REDIS_URL", os.environ.get("REDIS_URL")) != os.environ.get("REDIS_URL"):
            self._wait_for_log(" ready.", timeout)
            return
        marker = self.log_path.with_suffix(".ready")
        marker.unlink(missing_ok=True)
        ping.delay(str(marker))
        deadline = time.monotonic() + timeout
        while not marker.exists():
            if self.proc.poll() is not None:
                raise RuntimeError(f"celery worker exited with {self.proc.returncode}:\n{self.output()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"celery worker did not run a task within {timeout}s:\n{self.output()}")
            time.sleep(0.1)

    def _wait_for_log(self, needle: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.log_path.read_text(errors="replace"):  # the whole log: a busy worker
            # scrolls its "ready." line past output()'s tail within a poll
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"celery worker not ready (rc={self.proc.poll()}):\n{self.output()}")
            time.sleep(0.1)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def kill(self) -> None:
        """SIGKILL the whole process group-less tree: the main process and its pool children."""
        if self.proc and self.proc.poll() is None:
            children = _children(self.proc.pid)
            self.proc.send_signal(signal.SIGKILL)
            for pid in children:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        if hasattr(self, "log"):
            self.log.close()


def _children(pid: int) -> list[int]:
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    except FileNotFoundError:
        return []
    return [int(p) for p in out.split()]


@pytest.fixture
def worker_factory(transactional_db, tmp_path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start real worker processes; every one is stopped when the test ends."""
    started: list[WorkerProcess] = []

    def start(**kwargs) -> WorkerProcess:
        worker = WorkerProcess(tmp_path, **kwargs)
        started.append(worker)  # before start(): a worker that never got ready is still stopped
        return worker.start()

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def celery_worker(worker_factory) -> WorkerProcess:
    return worker_factory()


# --- Headless Chromium (Debian's package, driven by Playwright) --------------------

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium, headless, with background networking off (the machine's network is closed).

    Fails (never skips) when chromium is missing: `.ci/run` installs it.
    """
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found; install Debian's chromium (see .ci/run)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def logged_in_page(browser, live_server, tenant_ctx):
    """A Chromium page signed in as the `acme` owner on the live test server."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/api-auth/login/")
    page.fill("input[name=username]", "owner@acme.test")
    page.fill("input[name=password]", "pw-acme-123")
    page.click("[type=submit]")
    yield page
    context.close()
