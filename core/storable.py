"""What neither PostgreSQL nor a JSON renderer can keep: NUL, lone UTF-16 surrogates, infinite numbers.

JSON can spell all three (`"\\u0000"`, `"\\ud800"`, and `1e400`, which Python reads as infinity). A
value holding one fails at the database (text and jsonb refuse them) or, on SQLite, is stored and
then breaks every answer that renders it. So JSON is checked where it is kept: the senders' payloads
and the API's JSON fields, each answering a 400 that names where the value is. (Not the API's whole
body: keys a serializer ignores may hold anything.)
"""

import math
import re

from rest_framework import serializers

_SURROGATE = re.compile("[\ud800-\udfff]")


def _text_problem(value: str, where: str) -> str | None:
    if "\x00" in value:
        return f"JSON strings must not contain NUL (\\u0000) characters ({where})."
    if _SURROGATE.search(value):
        return f"JSON strings must not contain lone UTF-16 surrogates such as \\ud800 ({where})."
    return None


def unstorable(value, path: tuple = ()) -> tuple[str, tuple] | None:
    """Why `value` can't be kept and where (the keys and indexes down to it), or None.

    Raises RecursionError for a document nested beyond Python's limit: callers answer that as too deep.
    """
    where = ".".join(str(part) for part in path) or "the body"
    if isinstance(value, str):
        problem = _text_problem(value, where)
        return (problem, path) if problem else None
    if isinstance(value, float) and not math.isfinite(value):
        return f"Numbers must be finite; {value} is out of range ({where}).", path
    if isinstance(value, dict):
        for key, item in value.items():
            problem = _text_problem(key, f"a key in {where}")
            if problem:
                return problem, path
            found = unstorable(item, (*path, key))
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = unstorable(item, (*path, index))
            if found:
                return found
    return None


def errors_at(path: tuple, reason: str) -> dict | list:
    """`reason` nested under `path` the way DRF names a field's errors: `{"data": {"k": [reason]}}`."""
    errors: dict | list = [reason]
    for key in reversed(path):
        errors = {key: errors}
    return errors


def validate_storable(value) -> None:
    """A DRF field validator for JSON the API stores (an event type's example, an endpoint's template):
    a 400 naming the key, where the database would fail or, on SQLite, keep what no answer can render."""
    try:
        problem = unstorable(value)
    except RecursionError:
        raise serializers.ValidationError("Nested too deeply.") from None
    if problem:
        reason, path = problem
        raise serializers.ValidationError(errors_at(path, reason) if path else [reason])
