"""The schema carries no index that another index of the same table already provides.

Every index is written on every insert (and on every update that can't stay on the page), so
an index whose columns lead another index of its table costs the ingest path and serves no query
the longer one doesn't. Django adds one to each ForeignKey unless told `db_index=False`, which
is how most of them crept in: the composite indexes the models declare start with the same column.
"""

import pytest
from django.apps import apps
from django.db import connection

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's catalog"),
]

OURS = {"accounts", "analytics", "audio", "recordings", "streams", "webhooks", "webhooks_inbound"}

# Per table: each index's columns and operator classes, whether it is unique or partial.
INDEXES = """
SELECT c.relname, i.relname, x.indisunique, x.indpred IS NOT NULL,
       string_to_array(x.indkey::text, ' '), string_to_array(x.indclass::text, ' ')
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class c ON c.oid = x.indrelid
WHERE c.relname = ANY(%s)
"""


def _redundant(rows) -> list[str]:
    found = []
    for table, name, unique, partial, columns, classes in rows:
        if unique or partial:  # a unique index enforces something; a partial one serves its own queries
            continue
        for other_table, other, other_unique, other_partial, other_columns, other_classes in rows:
            if other_table != table or other == name or other_partial:
                continue
            n = len(columns)
            # A twin with the same columns: the unique one stays, else the first by name.
            longer_or_kept = len(other_columns) > n or other_unique or other < name
            if other_columns[:n] == columns and other_classes[:n] == classes and longer_or_kept:
                found.append(f"{table}.{name} {columns} is led by {other} {other_columns}")
                break
    return found


def test_no_index_of_ours_is_the_leading_part_of_another():
    tables = [m._meta.db_table for m in apps.get_models() if m._meta.app_label in OURS and m._meta.managed]
    with connection.cursor() as cursor:
        cursor.execute(INDEXES, [tables])
        rows = cursor.fetchall()
    assert len({row[0] for row in rows}) > 20  # the query sees our tables
    found = _redundant(rows)
    assert not found, "\n".join(found)


def test_the_check_finds_an_index_led_by_another():
    """The check itself: a single-column index under a composite one is found; a unique one, a
    partial one and one with another operator class (LIKE's `varchar_pattern_ops`) are not."""
    rows = [
        ("t", "single", False, False, ["2"], ["1"]),
        ("t", "composite", False, False, ["2", "3"], ["1", "1"]),
        ("t", "unique_single", True, False, ["3"], ["1"]),
        ("t", "partial", False, True, ["3"], ["1"]),
        ("t", "pattern_ops", False, False, ["3"], ["9"]),
        ("t", "led_by_unique", False, False, ["3"], ["1"]),
        ("t", "unique_pair", True, False, ["3", "2"], ["1", "1"]),
        ("u", "elsewhere", False, False, ["2"], ["1"]),
    ]
    assert _redundant(rows) == [
        "t.single ['2'] is led by composite ['2', '3']",
        "t.led_by_unique ['3'] is led by unique_single ['3']",
    ]
