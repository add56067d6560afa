"""A leased delivery is sent only while its lease outlasts the request: otherwise the sweep could take
it for abandoned while it is still in flight and send it a second time. A job too close to its
lease's end is handed back unsent, and `manage.py check` warns of a lease too short for the timeout."""

import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.utils import timezone

from webhooks import http, sender
from webhooks.sender import LEASE_MARGIN, Job, lease_needed
from webhooks.tests.engine import endpoint_make, event_make
from webhooks.tests.receivers import PythonReceiver

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def receiver():
    with PythonReceiver(lambda request: (200, "ok")) as server:
        yield server


def _job(tenant, receiver, *, lease_left: float) -> Job:
    endpoint = endpoint_make(tenant, receiver.url)
    return Job(endpoint=endpoint, event=event_make(tenant), target=http.vetted(receiver.url), on_done=lambda job: None,
               lease_until=timezone.now() + timedelta(seconds=lease_left), timeout=2.0)


def test_a_job_needs_its_timeout_plus_the_margin_of_lease_left(settings):
    settings.WEBHOOKS_LEASE_SECONDS = 90
    settings.WEBHOOKS_TIMEOUT = 15.0
    assert lease_needed() == 15.0 + LEASE_MARGIN
    assert lease_needed(2.0) == 2.0 + LEASE_MARGIN  # an endpoint's own timeout, when the job has one
    # A deployment's lease too short for that (W001 warns): half the lease, so something is still sent.
    settings.WEBHOOKS_LEASE_SECONDS = 20
    assert lease_needed() == 10.0


def test_a_job_whose_lease_would_lapse_in_flight_is_handed_back_unsent(tenant, receiver, settings):
    settings.WEBHOOKS_LEASE_SECONDS = 90
    short = _job(tenant, receiver, lease_left=lease_needed(2.0) - 1)
    [done] = sender.get().send_and_wait([short])
    assert done.released and "lease" in done.released
    assert done.response is None and done.started_at is None
    assert receiver.received == []


def test_a_job_with_enough_lease_left_is_sent(tenant, receiver, settings):
    settings.WEBHOOKS_LEASE_SECONDS = 90
    ample = _job(tenant, receiver, lease_left=lease_needed(2.0) + 5)
    [done] = sender.get().send_and_wait([ample])
    assert done.released == "" and done.response.status == 200
    assert len(receiver.received) == 1


def test_check_warns_when_the_lease_is_shorter_than_the_timeout_plus_the_margin(settings):
    settings.WEBHOOKS_TIMEOUT = 15.0
    settings.WEBHOOKS_LEASE_SECONDS = 20
    err = io.StringIO()
    call_command("check", stdout=io.StringIO(), stderr=err)
    assert "webhooks.W001" in err.getvalue()
    assert "WEBHOOKS_LEASE_SECONDS (20)" in err.getvalue()
    with pytest.raises(SystemCheckError, match=r"webhooks\.W001"):
        call_command("check", fail_level="WARNING", stdout=io.StringIO(), stderr=io.StringIO())


def test_check_is_quiet_when_the_lease_outlasts_the_timeout_and_the_margin(settings):
    settings.WEBHOOKS_TIMEOUT = 15.0
    settings.WEBHOOKS_LEASE_SECONDS = int(15 + LEASE_MARGIN)
    err = io.StringIO()
    call_command("check", stdout=io.StringIO(), stderr=err)
    assert "webhooks.W001" not in err.getvalue()


def test_manage_py_check_warns_of_a_lease_set_in_the_environment_too_short_for_the_timeout():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "WEBHOOKS_LEASE_SECONDS": "30",
           "WEBHOOKS_TIMEOUT": "25"}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr  # a warning, not an error: the deployment still starts
    assert "webhooks.W001" in result.stderr and "WEBHOOKS_TIMEOUT (25.0)" in result.stderr
