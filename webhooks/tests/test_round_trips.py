"""How many round trips to PostgreSQL a sync inbound request makes, counted on the wire (libpq's trace).

They are most of an ingest request's cost on this stack (`bench/ingest.py`); these tests keep the
count from creeping back up unnoticed. Seed 003: the upsert (carrying BEGIN), then the event,
the message row and COMMIT together. Seed 000's track: the session lock and the play's insert
(carrying BEGIN), then everything else with COMMIT. Each statement is an EXECUTE of one prepared
on the connection by the first request (webhooks/rows.py).
"""

import json
import re
import tempfile

import pytest
from django.db import connection
from django.test import override_settings

from bench.ingest import _track
from recordings.tests.factories import SEED_CURL, add_member, recorder_source
from webhooks.inbound.services import source_create

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="counts PostgreSQL protocol messages"),
    pytest.mark.django_db(transaction=True),  # the request's own transaction is the outermost one
]


def _queries_sent(send, warm: bool = True) -> list[str]:
    """The Query messages the client sent while `send()` ran: one per round trip."""
    if warm:
        send()  # the source cache, the connection, the health check's first SELECT 1, the PREPAREs
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


def _statements(query: str) -> list[str]:
    """The statements a traced Query message ran, prepared ones as the text they were prepared from."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, statement FROM pg_prepared_statements")
        texts = dict(cursor.fetchall())
    names = re.findall(r"(BEGIN|COMMIT|EXECUTE (\w+))", query)
    return [texts[name].split(" AS ", 1)[1] if name else word for word, name in names]


def _recorder(client, tenant, *, new_each_time: bool = False):
    """A send() posting seed 003's curl example for a member of `tenant` (a new recording each time)."""
    add_member(tenant, "souvik@fyelabs.com", "souvik")
    key = recorder_source(tenant)[1]
    body = dict(SEED_CURL)

    def send():
        if new_each_time:
            body["recording_id"] += 1
        response = client.post("/recordings/webhook/", json.dumps(body), content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {key}")
        assert response.status_code in ((201,) if new_each_time else (200, 201)), response.content

    return send


def test_a_recorder_create_takes_two_round_trips_and_an_update_three(client, tenant):
    """An update reads the merged row back (a re-post that omits fields keeps the stored ones, and the
    `recording.updated` event carries the merged recording): one round trip more than a create."""
    send = _recorder(client, tenant, new_each_time=True)
    queries = _queries_sent(send)
    assert len(queries) == 2, queries
    first, second = (_statements(query) for query in queries)
    assert first[0] == "BEGIN" and first[1].startswith('INSERT INTO "recordings_recording"') and len(first) == 2
    assert [text.split(" (")[0] for text in second] == [
        'INSERT INTO "webhooks_event"', 'INSERT INTO "webhooks_inbound_inboundmessage"', "COMMIT"]
    assert len(_queries_sent(_recorder_again(client, tenant))) == 3


def _recorder_again(client, tenant):
    """A send() re-posting one recording (the user exists already): an update every time."""
    key = recorder_source(tenant)[1]

    def send():
        response = client.post("/recordings/webhook/", json.dumps(SEED_CURL), content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {key}")
        assert response.status_code in (200, 201), response.content

    return send


def test_a_seed_000_track_takes_two_round_trips(client, tenant):
    _, key = source_create(tenant=tenant, name="assistant", kind="stream-assistant")
    n = iter(range(10, 10_000, 64))  # one session (the bench spreads plays over 64): it exists after the warm-up

    def send():
        response = client.post("/api/webhook/track-classified", _track(next(n)), content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {key}")
        assert response.status_code == 201, response.content

    # The session's changed fields vary with the viewer count (a peak or not): an UPDATE of a set
    # not seen yet on the connection is prepared first, once. Those aren't the request's round trips.
    queries = [q for q in _queries_sent(send) if '\tQuery\t "PREPARE ' not in q]
    assert len(queries) == 2, "\n".join(q[:150] for q in queries)
    first = _statements(queries[0])
    assert first[0] == "BEGIN" and first[1].startswith("SELECT") and first[1].endswith("FOR UPDATE")
    assert first[2].startswith('INSERT INTO "streams_trackplay"') and len(first) == 3
    assert _statements(queries[1])[-1] == "COMMIT"


def test_a_new_connection_prepares_each_statement_once(client, tenant):
    send = _recorder(client, tenant, new_each_time=True)
    send()  # the source cache
    connection.close()
    connection.ensure_connection()
    first = _queries_sent(send, warm=False)
    prepares = [q for q in first if "\tQuery\t \"PREPARE " in q]
    names = [q.split('"')[1].split(" AS ")[0] for q in prepares]
    assert len(set(names)) == 3 and all(re.fullmatch(r"PREPARE streamhook_\d+", name) for name in names)
    assert len(first) == 2 + 3
    again = _queries_sent(send, warm=False)
    assert len(again) == 2 and not any("PREPARE" in q for q in again)


@override_settings(WEBHOOKS_PREPARED_STATEMENTS=False)
def test_with_prepared_statements_off_the_statements_travel_as_text(client, tenant):
    queries = _queries_sent(_recorder(client, tenant, new_each_time=True))
    assert len(queries) == 2, queries
    assert '"BEGIN; INSERT INTO "recordings_recording"' in queries[0] and "EXECUTE" not in "".join(queries)
