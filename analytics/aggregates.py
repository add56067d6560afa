"""Genre aggregates computed straight from `streams` rows, optionally per UTC hour.

The same functions fill the rollup tables (per hour, summed into days) and answer the raw parts of a query
(days the rollups don't cover), so both paths count exactly alike.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import BigIntegerField, Count, F, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Cast, Round, Trunc

from streams.models import ChatInteraction

MICROS = 1_000_000

# (day or None, main_genre, subgenre)
Key = tuple[datetime | None, str, str]


@dataclass
class GenreTotals:
    plays: int = 0
    confidence_micros: int = 0  # see `confidence_micros()`
    confidence_count: int = 0
    engagement: int = 0
    characteristics: Counter = field(default_factory=Counter)

    def add(self, other: "GenreTotals") -> None:
        self.plays += other.plays
        self.confidence_micros += other.confidence_micros
        self.confidence_count += other.confidence_count
        self.engagement += other.engagement
        self.characteristics.update(other.characteristics)


def as_utc(value) -> datetime | None:
    """An aware UTC datetime: raw SQL hands back naive UTC (PostgreSQL) or text (SQLite)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(str(value))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def genre_totals(plays: QuerySet, *, by_hour: bool = False) -> dict[Key, GenreTotals]:
    """Plays, confidence, engagement and characteristic counts of `plays`, per (genre, subgenre) [and UTC hour]."""
    totals: dict[Key, GenreTotals] = {}

    def at(day, genre, subgenre) -> GenreTotals:
        return totals.setdefault((as_utc(day), genre, subgenre), GenreTotals())

    day_expr = {"hour": Trunc("played_at", "hour", tzinfo=UTC)} if by_hour else {}
    keys = ["hour", "main_genre", "subgenre"] if by_hour else ["main_genre", "subgenre"]
    # One statement: each play brings the responses of its own chat (a lookup on the chat's
    # track index), so the planner starts from the plays' (tenant, played_at) range.
    responses = ChatInteraction.objects.filter(track=OuterRef("pk")).values("track").annotate(s=Sum("response_count"))
    rows = (
        plays.annotate(**day_expr, responses=Subquery(responses.values("s"))).values(*keys).order_by()
        .annotate(n=Count("id"), csum=Sum(confidence_micros()), ccount=Count("confidence"), e=Sum("responses"))
    )
    for row in rows:
        t = at(row.get("hour"), row["main_genre"], row["subgenre"])
        t.plays, t.confidence_micros, t.confidence_count = row["n"], row["csum"] or 0, row["ccount"]
        t.engagement = row["e"] or 0

    for *key, name, count in characteristic_counts(plays.annotate(**day_expr), keys):
        day, genre, subgenre = key if by_hour else (None, *key)
        at(day, genre, subgenre).characteristics[name] = count
    return totals


def confidence_micros() -> Cast:
    """A play's confidence in whole millionths.

    The mean confidence is a sum divided by a count; summed as floats, the rollups (hours, then
    days, then the window) and the raw query add the same numbers in different orders and can
    disagree in the last digit, which rounding can turn into a different 4th decimal.
    """
    return Cast(Round(F("confidence") * MICROS), BigIntegerField())


def characteristic_counts(plays: QuerySet, keys: list[str], also_sum: str | None = None) -> list[tuple]:
    """COUNT(*) per key and element of the `characteristics` JSON array, in SQL on either database.

    Rows are (*keys, element, count[, SUM(also_sum)]).
    """
    fields = [*keys, "characteristics", *([also_sum] if also_sum else [])]
    try:
        inner, params = plays.values(*fields).order_by().query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing (e.g. no dirty day)
        return []
    cols = ", ".join(f"t.{connection.ops.quote_name(k)}" for k in keys)
    extra = f", SUM(t.{connection.ops.quote_name(also_sum)})" if also_sum else ""
    if connection.vendor == "postgresql":
        elements = (
            "CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(t.characteristics) = 'array' "
            "THEN t.characteristics ELSE '[]'::jsonb END) AS c(value)"
        )
    else:
        elements = (
            ", json_each(CASE WHEN json_type(t.characteristics) = 'array' THEN t.characteristics ELSE '[]' END) AS c"
        )
    sql = f"SELECT {cols}, c.value, COUNT(*){extra} FROM ({inner}) AS t {elements} GROUP BY {cols}, c.value"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
