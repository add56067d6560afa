"""How many round trips to PostgreSQL a sync inbound request makes, counted on the wire (libpq's trace).

Each one is a wait on PostgreSQL and, under gunicorn's threads, a GIL hand-over: these tests keep
the count from creeping up unnoticed, and show which statements a request sends. A round trip ends
where the client asks for the server's answer: a simple query (BEGIN, SAVEPOINT, COMMIT) or the
Sync closing an extended-protocol statement (the ORM's, whose values travel apart from the text).
"""

import json
import re
import tempfile

import pytest
from django.db import connection

from bench.ingest import _track
from recordings.tests.factories import RECORDER_CURL_EXAMPLE, add_member, recorder_source
from webhooks.inbound.services import source_create

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="counts PostgreSQL protocol messages"),
    pytest.mark.django_db(transaction=True),  # the request's own transaction is the outermost one
]

# psycopg prepares a statement once it has run `prepare_threshold` times on the connection: warm-up
# requests past that leave only the requests' own round trips to count.
WARM_UP = 8
_MESSAGE = re.compile(r"F\t\d+\t(\w+)(?:\t\s*(.*))?$")


def _round_trips(send, warm: int = WARM_UP) -> list[list[str]]:
    """The statements of each round trip the client made while `send()` ran."""
    for _ in range(warm):
        send()  # the source cache, the connection, the health check's first SELECT 1, the prepares
    raw = connection.connection
    with tempfile.TemporaryFile("w+") as trace:
        raw.pgconn.trace(trace.fileno())
        raw.pgconn.set_trace_flags(1)  # PQTRACE_SUPPRESS_TIMESTAMPS
        try:
            send()
        finally:
            raw.pgconn.untrace()
        trace.seek(0)
        lines = trace.read().splitlines()
    return _split(lines, _prepared_statements())


def _prepared_statements() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, statement FROM pg_prepared_statements")
        return dict(cursor.fetchall())


def _split(lines: list[str], prepared: dict[str, str]) -> list[list[str]]:
    trips: list[list[str]] = []
    statements: list[str] = []
    for line in lines:
        match = _MESSAGE.match(line)
        if not match:
            continue
        kind, rest = match.group(1), match.group(2) or ""
        if kind == "Query":
            trips.append([*statements, rest.strip().strip('"')])
            statements = []
        elif kind == "Parse":
            name, text = re.match(r'"([^"]*)" "(.*)"', rest).groups()
            if name:  # preparing, in a round trip of its own: the Bind that follows runs it
                prepared[name] = text
            else:
                statements.append(text)
        elif kind == "Bind":
            name = re.match(r'"[^"]*" "([^"]*)"', rest).group(1)
            if name:
                statements.append(prepared[name])
        elif kind == "Sync":
            if statements:  # not a statement's preparation, which happens once per connection
                trips.append(statements)
            statements = []
    return trips


def _verbs(trips: list[list[str]]) -> list[str]:
    """Each round trip as the first words of its statements: `INSERT INTO "webhooks_event"`, `BEGIN`."""
    return [" + ".join(" ".join(s.split()[:3]) if s.startswith("INSERT") else s.split()[0] for s in trip)
            for trip in trips]


def _recorder(client, tenant, *, new_each_time: bool = False):
    """A send() posting the recorder's curl example for a member of `tenant` (a new recording each time)."""
    add_member(tenant, "souvik@fyelabs.com", "souvik")
    key = recorder_source(tenant)[1]
    body = dict(RECORDER_CURL_EXAMPLE)

    def send():
        if new_each_time:
            body["recording_id"] += 1
        response = client.post("/recordings/webhook/", json.dumps(body), content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {key}")
        assert response.status_code in ((201,) if new_each_time else (200, 201)), response.content

    return send


def test_a_recorder_create_takes_eight_round_trips(client, tenant):
    """The recording, locked if it exists; its insert in a savepoint (a twin post of a new id loses the
    race there and updates the winner's row); the event and the message row. The member the post names
    is remembered from the warm-up (accounts/member_lookup.py)."""
    trips = _round_trips(_recorder(client, tenant, new_each_time=True))
    assert _verbs(trips) == [
        "BEGIN", "SELECT", "SAVEPOINT", 'INSERT INTO "recordings_recording"', "RELEASE",
        'INSERT INTO "webhooks_event"', 'INSERT INTO "webhooks_inbound_inboundmessage"', "COMMIT",
    ]
    assert trips[1][0].endswith("FOR UPDATE")


def test_a_recorder_update_takes_six_round_trips(client, tenant):
    """The row, locked, merged in memory and written once; the event carries the merged recording."""
    trips = _round_trips(_recorder(client, tenant))
    assert _verbs(trips) == [
        "BEGIN", "SELECT", "UPDATE", 'INSERT INTO "webhooks_event"',
        'INSERT INTO "webhooks_inbound_inboundmessage"', "COMMIT",
    ]
    assert trips[1][0].endswith("FOR UPDATE")


def test_a_classified_track_takes_eight_round_trips(client, tenant):
    """The session's lock, its viewer sample and changed fields, the play, the event and the message row.
    A play newer than everything the session has seen can't be a replay, nor have chat after it to
    re-link: neither is looked for (the next test)."""
    _, key = source_create(tenant=tenant, name="assistant", kind="stream-assistant")
    n = iter(range(10, 10_000, 64))  # one session (the bench spreads plays over 64): it exists after the warm-up

    def send():
        response = client.post("/api/webhook/track-classified", _track(next(n)), content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {key}")
        assert response.status_code == 201, response.content

    trips = _round_trips(send)
    assert _verbs(trips) == [
        "BEGIN", "SELECT", 'INSERT INTO "streams_viewersample"', "UPDATE", 'INSERT INTO "streams_trackplay"',
        'INSERT INTO "webhooks_event"', 'INSERT INTO "webhooks_inbound_inboundmessage"', "COMMIT",
    ]
    assert trips[1][0].endswith("FOR UPDATE")


def test_a_late_track_is_looked_up_and_relinks_the_chat_after_it(client, tenant):
    """Older than the session's last event: it may be a replay, and chat may have been posted after it."""
    _, key = source_create(tenant=tenant, name="assistant", kind="stream-assistant")
    n = iter(range(9_994, 0, -64))  # each play earlier than the one before

    def send():
        response = client.post("/api/webhook/track-classified", _track(next(n)), content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {key}")
        assert response.status_code == 201, response.content

    trips = _round_trips(send)
    assert _verbs(trips) == [
        "BEGIN", "SELECT", 'INSERT INTO "streams_viewersample"', "UPDATE", "UPDATE", "SELECT",
        'INSERT INTO "streams_trackplay"', "UPDATE", 'INSERT INTO "webhooks_event"',
        'INSERT INTO "webhooks_inbound_inboundmessage"', "COMMIT",
    ]
    assert trips[7][0].startswith('UPDATE "streams_chatinteraction"')


def test_the_statements_are_prepared_on_the_connection(client, tenant):
    """After the warm-up, every ORM statement of a request is a prepared one: PostgreSQL neither parses
    nor plans it again."""
    send = _recorder(client, tenant, new_each_time=True)
    for _ in range(WARM_UP):
        send()
    raw = connection.connection
    with tempfile.TemporaryFile("w+") as trace:
        raw.pgconn.trace(trace.fileno())
        raw.pgconn.set_trace_flags(1)
        try:
            send()
        finally:
            raw.pgconn.untrace()
        trace.seek(0)
        messages = [m.group(1) for m in map(_MESSAGE.match, trace.read().splitlines()) if m]
    binds = [line for line in messages if line == "Bind"]
    assert len(binds) == 4 and "Parse" not in messages
