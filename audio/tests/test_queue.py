"""`sample_audio` started from a shell publishes where the workers consume.

The queue comes from `CELERY_QUEUE`: a worker started with one and the sampler started without it
shared the broker but not the queue, and every level was lost. Here the worker runs as an operator's
would (the development settings, its own embedded broker folder or the configured Redis, a queue
of its own) and the sampler is started with the same environment minus `CELERY_QUEUE`.
"""

import json
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings

from audio.tests.helpers import ROOT, test_database_url
from conftest import WorkerProcess
from webhooks.tests.engine import endpoint_make

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_sampler_started_without_the_workers_queue_still_reaches_the_subscriber(tenant, httpserver, tmp_path):
    httpserver.expect_request("/api/webhook/receive", method="POST").respond_with_data("ok")
    endpoint_make(tenant, httpserver.url_for("/api/webhook/receive"), events=["audio.level"])
    shell = {k: v for k, v in os.environ.items() if k not in ("CELERY_QUEUE", "DJANGO_SETTINGS_MODULE")}
    shell.update(STREAMHOOK_VAR_DIR=str(tmp_path / "var"), DATABASE_URL=test_database_url(), PYTHONUNBUFFERED="1")
    queue = settings.CELERY_TASK_DEFAULT_QUEUE  # anything but the default "streamhook"
    worker = WorkerProcess(tmp_path, concurrency=1, env={
        **shell, "DJANGO_SETTINGS_MODULE": "config.settings.local", "CELERY_QUEUE": queue})
    try:
        worker.start(wait=False)
        deadline = time.monotonic() + 60
        while " ready." not in worker.output():
            assert worker.proc.poll() is None and time.monotonic() < deadline, worker.output()
            time.sleep(0.2)
        done = subprocess.run(
            [sys.executable, "manage.py", "sample_audio", "--source", "synth", "--duration", "2", "--quiet",
             "--tenant", tenant.slug], cwd=ROOT, env=shell, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert f"publishing to {queue!r}" in done.stderr
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(httpserver.log) < 10:
            time.sleep(0.2)
    finally:
        worker.stop()
    levels = [json.loads(request.get_data()) for request, _ in httpserver.log]
    assert len(levels) >= 10 and {b["type"] for b in levels} == {"audio.level"}, worker.output()
