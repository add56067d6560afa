"""`DATABASE_PREPARED_STATEMENTS`: on by default, off for a pooler in transaction mode that can't keep them."""

import pytest
from django.db import connection

from config.tests.test_startup_errors import _manage
from conftest import _test_database_url

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="psycopg's prepared statements")

_SHOW = ("from django.db import connection; connection.ensure_connection(); "
         "print(connection.connection.prepare_threshold, type(connection.connection.cursor()).__name__)")


def _threshold_and_cursor(tmp_path, **env: str) -> str:
    result = _manage(tmp_path, "shell", "-c", _SHOW, DATABASE_URL=_test_database_url(), **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.django_db
def test_statements_are_bound_on_the_server_and_prepared_after_five_runs(tmp_path):
    assert _threshold_and_cursor(tmp_path) == "5 ServerBindingCursor"


@pytest.mark.django_db
def test_false_turns_preparing_off_and_keeps_the_server_side_binding(tmp_path):
    assert _threshold_and_cursor(tmp_path, DATABASE_PREPARED_STATEMENTS="false") == "None ServerBindingCursor"
