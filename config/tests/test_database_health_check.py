"""A reused PostgreSQL connection is checked before a request uses it, so a restarted server costs no failed request."""

import psycopg
import pytest
from django.db import connection

from conftest import _test_database_url

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL server to drop connections")


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_reused_connections_are_health_checked():
    assert connection.settings_dict["CONN_MAX_AGE"] > 0
    assert connection.health_check_enabled


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_dropped_is_replaced_before_the_next_request_uses_it():
    pid = _backend_pid()
    with psycopg.connect(_test_database_url(), autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0] is True

    connection.close_if_unusable_or_obsolete()  # what Django does as a request starts
    assert _backend_pid() != pid  # the request's first query ran on a new connection, no error
