import os
import time

import pytest
from django.conf import settings

from config.celery import ping
from config.startup import GIL_SWITCH_INTERVAL


@pytest.mark.integration
def test_real_worker_process_executes_a_task_through_the_broker(celery_worker, tmp_path):
    marker = tmp_path / "pid"
    ping.delay(str(marker))
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    pid, switch_interval = marker.read_text().split()
    assert int(pid) != os.getpid()
    # The sender's and recorder's threads get the GIL within half a millisecond (config/celery.py).
    assert float(switch_interval) == GIL_SWITCH_INTERVAL < 0.005
    assert celery_worker.proc.poll() is None
    # The worker says which transport it consumed from: Redis under .ci/run, the folder broker otherwise.
    expected = "redis://" if os.environ.get("REDIS_URL") else "filesystem://"
    assert settings.CELERY_BROKER_URL.startswith(expected)
    # The whole log: output() is its tail, which tasks left queued by earlier tests can fill. The folder
    # broker is named by its transport (core/filesystem_broker.py), which replaces the URL's scheme.
    connected = "redis://" if os.environ.get("REDIS_URL") else f"{settings.CELERY_BROKER_TRANSPORT}://"
    assert f"Connected to {connected}" in celery_worker.log_path.read_text(errors="replace")
