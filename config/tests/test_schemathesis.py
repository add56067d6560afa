"""Schemathesis against a live server: every operation of /api/schema/, every check, stateful links on.

Each operation gets a bounded number of generated requests (valid and invalid, examples and
boundary values), then the stateful phase chains operations along the schema's links (create an
endpoint, read it, test it, delete it, read it again). The API's operations run with a tenant's
token, the senders' with their source's key (RealCast's signed, config/tests/schemathesis_hooks.py),
and the `ignored_auth` check repeats each authenticated request without its credential. Any
failure of any check (a 500, a status code or body the schema doesn't promise, bad input
accepted, good input refused, a deleted object still served) fails the test with the report.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from accounts.services import tenant_create
from recordings.tests.factories import add_member
from webhooks.inbound.tests.factories import REALCAST_SECRET, make_source

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(600)]

EXAMPLES_PER_OPERATION = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "5"))

CONFIG = """
[[operations]]
include-path-regex = '^/api/(v1|analytics|listen)/'
headers = {{ Authorization = "Bearer {token}" }}

[[operations]]
include-path-regex = '^/api/webhook/'
headers = {{ Authorization = "Bearer {assistant_key}" }}

[[operations]]
include-path = "/recordings/webhook/"
headers = {{ Authorization = "Bearer {recorder_key}" }}

# RealCast's events are acknowledged before they are read (2xx at once, processed by a worker),
# so a malformed envelope is accepted (200) and stored as failed, for replay; a body with a NUL
# character anywhere is refused at once (PostgreSQL's jsonb can't store one).
[[operations]]
include-path = "/webhooks/realcast/{{source_id}}"
parameters = {{ source_id = {realcast_id} }}
checks.negative_data_rejection.expected-statuses = ["200", "400", "401", "404", "413", "429"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "404", "429"]

# The senders' payloads have rules of their own (the recorder's times in its own format, emoji
# names not blank), refused with a 400 naming the field; a valid message whose processing fails
# is stored for replay and answered 422 (e.g. a stream ended centuries after it began: the
# event-time window for senders' payloads is another change).
[[operations]]
include-path-regex = '^/api/webhook/|^/recordings/webhook/$'
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "422", "429"]

# Rules a JSON Schema can't state, each answered with a 400 naming the field (and declared so):
# `since` before `until` and at most 1000 buckets (analytics); a subscriber URL must resolve to an
# allowed address (this machine resolves no public name); a RealCast source needs its signing
# secret and a source's kind never changes; a test event's type must be in the catalogue; a
# disabled endpoint sends nothing until it is enabled.
# Schemathesis' coverage phase drops `name` from a token request as a "missing required
# property", though the schema doesn't require it: the server's default name is right.
[[operations]]
include-name = "POST /api/v1/tokens"
checks.negative_data_rejection.expected-statuses = ["201", "400", "401", "403", "413", "415"]

[[operations]]
include-path-regex = '^/api/analytics/(deliveries|engagement|genre-trends)$'
checks.positive_data_acceptance.expected-statuses = {semantic}

[[operations]]
include-name-regex = '^(POST|PUT|PATCH) /api/v1/(webhooks|inbound-sources)(/[{{]id[}}])?$'
checks.positive_data_acceptance.expected-statuses = {semantic}

[[operations]]
include-path-regex = '^/api/v1/(webhooks/[{{]id[}}]/(test|recover)|deliveries/[{{]id[}}]/redeliver)$'
checks.positive_data_acceptance.expected-statuses = {semantic}

# A declared type's name must not be a built-in or reserved one (`stream.live`, `endpoint.*`) nor one
# declared already (409); its example must satisfy its schema.
[[operations]]
include-path-regex = '^/api/v1/event-types'
checks.positive_data_acceptance.expected-statuses = {semantic}
"""
SEMANTIC = '["2xx", "400", "401", "403", "404", "409", "429"]'


def _config(tmp_path: Path) -> Path:
    """The fuzzed tenant's token, and sender sources of another tenant: the fuzzer, acting for the
    first, rotates and deletes whatever sources it can reach, and the senders must keep their keys."""
    api = tenant_create(slug="fuzz", owner_email="owner@fuzz.test", password="pw-fuzz-123")
    senders = tenant_create(slug="senders", owner_email="owner@senders.test", password="pw-senders-123")
    add_member(senders.tenant, "souvik@fyelabs.com", "souvik")  # the recorder's example's user
    _, recorder_key = make_source(senders.tenant, kind="recorder", name="recorder")
    _, assistant_key = make_source(senders.tenant, kind="stream-assistant", name="assistant")
    realcast, _ = make_source(senders.tenant, kind="realcast", name="realcast", signing_secret=REALCAST_SECRET)
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG.format(token=api.token_key, assistant_key=assistant_key, recorder_key=recorder_key,
                                    realcast_id=realcast.pk, semantic=SEMANTIC))
    return config


def test_schemathesis_finds_nothing_wrong_with_any_operation(live_server, tmp_path: Path):
    command = [
        str(Path(sys.executable).with_name("st")), "--config-file", str(_config(tmp_path)), "--no-color", "run",
        f"{live_server.url}/api/schema/?format=json",
        "--checks", "all", "--max-examples", str(EXAMPLES_PER_OPERATION), "--seed", "20261206",
        "--phases", "examples,coverage,fuzzing,stateful", "--workers", "2", "--request-timeout", "30",
    ]
    # Run from the test's own folder: schemathesis keeps a cache of past findings in `.schemathesis/`
    # of its working directory and replays them, and each run must start from the seed alone.
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "config.tests.schemathesis_hooks",
           "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "STREAMHOOK_REALCAST_SECRET": REALCAST_SECRET}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=540, cwd=tmp_path)
    report = result.stdout + result.stderr
    assert re.search(r"Selected: (\d+)/\1\b", report), report[-5000:]  # every operation
    assert "Authentication failed" not in report, report[-5000:]
    assert result.returncode == 0, report[-20000:]
