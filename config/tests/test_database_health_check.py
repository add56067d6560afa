"""The PostgreSQL backend's health check: free while the connection is idle and quiet, Django's own otherwise."""

import time

import psycopg
import pytest
from django.db import connection, transaction
from django.db.backends.postgresql import base as django_postgresql

from conftest import _test_database_url

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend's check")


@pytest.fixture
def full_checks(monkeypatch) -> list[bool]:
    """Each time Django's own check (a `SELECT 1`) runs, with its answer."""
    calls: list[bool] = []
    original = django_postgresql.DatabaseWrapper.is_usable

    def recording(self):
        calls.append(original(self))
        return calls[-1]

    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", recording)
    return calls


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_the_configured_backend_is_this_one_with_health_checks_on():
    assert connection.settings_dict["ENGINE"] == "config.postgresql"
    assert connection.health_check_enabled


@pytest.mark.django_db(transaction=True)
def test_an_idle_quiet_connection_passes_without_a_query(full_checks):
    _backend_pid()
    assert connection.is_usable() is True
    assert full_checks == []


@pytest.mark.django_db
def test_a_connection_inside_a_transaction_gets_the_full_check(full_checks):
    with transaction.atomic():
        _backend_pid()
        assert connection.is_usable() is True
    assert full_checks == [True]


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_dropped_is_replaced_before_the_next_request_uses_it(full_checks):
    pid = _backend_pid()
    with psycopg.connect(_test_database_url(), autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0] is True
    deadline = time.monotonic() + 5
    while connection._quietly_idle() and time.monotonic() < deadline:  # the notice is on its way
        time.sleep(0.01)

    connection.close_if_unusable_or_obsolete()  # what Django does as a request starts
    assert _backend_pid() != pid  # the request's first query ran on a new connection, no error
    assert full_checks == [False]  # the dropped connection was noticed and checked the full way
