"""How many round trips to PostgreSQL a sync inbound request makes, counted on the wire (libpq's trace).

They are most of an ingest request's cost on this stack (`bench/ingest.py`); these tests keep the
count from creeping back up unnoticed. Seed 003: the upsert (carrying BEGIN), then the event,
the message row and COMMIT together. Seed 000's track: the session lock (carrying BEGIN), the
play's insert, then everything else with COMMIT.
"""

import json
import tempfile

import pytest
from django.db import connection

from bench.ingest import _track
from recordings.tests.factories import SEED_CURL, add_member, recorder_source
from webhooks.inbound.services import source_create

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="counts PostgreSQL protocol messages"),
    pytest.mark.django_db(transaction=True),  # the request's own transaction is the outermost one
]


def _queries_sent(send) -> list[str]:
    """The Query messages the client sent while `send()` ran: one per round trip."""
    send()  # warm: the source cache, the connection, the health check's first SELECT 1
    raw = connection.connection
    with tempfile.TemporaryFile("w+") as trace:
        raw.pgconn.trace(trace.fileno())
        raw.pgconn.set_trace_flags(1)  # PQTRACE_SUPPRESS_TIMESTAMPS
        try:
            send()
        finally:
            raw.pgconn.untrace()
        trace.seek(0)
        return [line for line in trace.read().splitlines() if line.startswith("F\t") and "\tQuery\t" in line]


def test_a_seed_003_upsert_takes_two_round_trips(client, tenant):
    add_member(tenant, "souvik@fyelabs.com", "souvik")
    key = recorder_source(tenant)[1]

    def send():
        response = client.post("/recordings/webhook/", json.dumps(SEED_CURL), content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {key}")
        assert response.status_code in (200, 201), response.content

    queries = _queries_sent(send)
    assert len(queries) == 2, queries
    assert '"BEGIN; INSERT INTO' in queries[0] and "recordings_recording" in queries[0]
    assert queries[1].rstrip('"').endswith("COMMIT")


def test_a_seed_000_track_takes_three_round_trips(client, tenant):
    _, key = source_create(tenant=tenant, name="assistant", kind="stream-assistant")
    n = iter(range(10, 10_000, 64))  # one session (the bench spreads plays over 64): it exists after the warm-up

    def send():
        response = client.post("/api/webhook/track-classified", _track(next(n)), content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {key}")
        assert response.status_code == 201, response.content

    queries = _queries_sent(send)
    assert len(queries) == 3, queries
    assert "BEGIN; SELECT" in queries[0] and "FOR UPDATE" in queries[0]
    assert queries[-1].rstrip('"').endswith("COMMIT")
