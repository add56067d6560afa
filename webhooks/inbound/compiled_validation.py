"""`compiled()`: a DRF input serializer's rules as one plain function, for the payloads of every request.

DRF walks each field through `run_validation`, `validate_empty_values`, `to_internal_value` and a
validator object per rule: on seed 000's track payload (19 fields, 3 nested) that was 0.67 M
instructions a request, 13 % of the whole ingest request (callgrind). The serializer's fields are
plain data, so this reads them once and builds a function that checks the same rules.

It only ever *accepts*. Anything it isn't sure of (another type than JSON's usual one for the
field, a value out of range, a blank where none is allowed, a surrogate) raises `Unsure`, and
the caller runs the DRF serializer, which gives the answer and the error messages. A serializer
using anything this doesn't know (a `validate_<field>` method, a default, a field class of its
own) isn't compiled at all (`compiled()` returns None). So DRF stays the one definition of what is
valid, the OpenAPI schema keeps reading the same serializers, and
`webhooks/inbound/tests/test_compiled_validation.py` checks that both give the same validated data
on generated payloads, valid and not.

A field class of our own whose `to_internal_value` only refuses more than its DRF base and returns
the same for the rest declares `narrows_drf_base = True` to be compiled as that base.
"""

import functools
import math
from collections.abc import Callable
from typing import Any

from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinLengthValidator,
    MinValueValidator,
    ProhibitNullCharactersValidator,
)
from rest_framework import serializers
from rest_framework.fields import _UnvalidatedField, empty
from rest_framework.validators import ProhibitSurrogateCharactersValidator


class Unsure(Exception):
    """The compiled check can't vouch for this payload: run the DRF serializer."""


class _NotCompilable(Exception):
    pass


_SKIP = object()  # an absent optional field: left out of the validated data, as DRF does

Check = Callable[[Any], Any]


@functools.cache
def compiled(serializer_class: type[serializers.Serializer]) -> Check | None:
    """`payload -> validated data` for `serializer_class`, raising `Unsure`; None if it can't be compiled."""
    try:
        return _serializer(serializer_class())
    except _NotCompilable:
        return None


def _serializer(serializer: serializers.Serializer) -> Check:
    cls = type(serializer)
    if (cls.validate is not serializers.Serializer.validate
            or cls.to_internal_value is not serializers.Serializer.to_internal_value
            or cls.run_validation is not serializers.Serializer.run_validation
            or serializer.validators):
        raise _NotCompilable(cls.__name__)
    checks = []
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        if hasattr(serializer, f"validate_{name}") or field.source_attrs != [name]:
            raise _NotCompilable(f"{cls.__name__}.{name}")
        checks.append((name, _field(field)))

    def check(data):
        if type(data) is not dict:
            raise Unsure
        out = {}
        for name, field_check in checks:
            value = field_check(data.get(name, empty))
            if value is not _SKIP:
                out[name] = value
        return out

    return check


def _field(field: serializers.Field) -> Check:
    """The field's check of a value from its parent (`empty` when absent), as `Field.run_validation`."""
    if field.default is not empty:
        raise _NotCompilable(f"{field.field_name}: a default")
    inner = _value(field)
    required, allow_null = field.required, field.allow_null

    def check(value):
        if value is empty:
            if required:
                raise Unsure
            return _SKIP
        if value is None:
            if not allow_null:
                raise Unsure
            return None
        return inner(value)

    return check


def _kind(field: serializers.Field) -> type:
    """The DRF class whose behaviour `field` has for what it accepts."""
    cls = type(field)
    if getattr(cls, "narrows_drf_base", False):
        base = cls.__mro__[1]
        while getattr(base, "narrows_drf_base", False):
            base = base.__mro__[1]
        return base
    return cls


def _value(field: serializers.Field) -> Check:
    """The check of a present, non-null value."""
    if isinstance(field, serializers.Serializer):
        if _kind(field) is not type(field):
            raise _NotCompilable(type(field).__name__)
        return _serializer(field)
    kind = _kind(field)
    rules = _validators(field)
    if kind is serializers.CharField:
        if field.trim_whitespace:
            raise _NotCompilable("trim_whitespace")  # DRF strips; left to DRF rather than copied
        allow_blank = field.allow_blank

        def text(value):
            if type(value) is not str:
                raise Unsure
            if value == "":  # DRF answers a blank before its validators
                if not allow_blank:
                    raise Unsure
                return ""
            rules(value)
            return value

        return text
    if kind is serializers.IntegerField:
        def integer(value):
            if type(value) is not int:
                raise Unsure
            rules(value)
            return value

        return integer
    if kind is serializers.FloatField:
        def number(value):
            if type(value) not in (int, float) or not math.isfinite(value):
                raise Unsure
            value = float(value)
            rules(value)
            return value

        return number
    if kind is serializers.ChoiceField:
        choices, allow_blank = field.choice_strings_to_values, field.allow_blank

        def choice(value):
            if type(value) is not str:
                raise Unsure
            if value == "" and allow_blank:
                return ""
            try:
                value = choices[value]
            except KeyError:
                raise Unsure from None
            rules(value)
            return value

        return choice
    if kind is serializers.DateTimeField:
        def moment(value):  # parsing and time zones are DRF's own code, run as it is
            try:
                return field.run_validation(value)
            except serializers.ValidationError:
                raise Unsure from None

        return moment
    if kind is serializers.ListField:
        item, allow_empty = _field(field.child), field.allow_empty  # an item is never absent, may be null

        def items(value):
            if type(value) is not list or (not allow_empty and not value):
                raise Unsure
            out = [item(v) for v in value]
            rules(out)
            return out

        return items
    if kind is serializers.DictField and type(field.child) is _UnvalidatedField:
        allow_empty = field.allow_empty

        def mapping(value):
            if type(value) is not dict or (not allow_empty and not value):
                raise Unsure
            out = dict(value)  # JSON object keys are text already (DRF's str(key) changes nothing)
            rules(out)
            return out

        return mapping
    raise _NotCompilable(type(field).__name__)


def _validators(field: serializers.Field) -> Callable[[Any], None]:
    """The field's validators as one function raising `Unsure`; only the stock ones are known."""
    checks: list[Callable[[Any], bool]] = []
    for validator in field.validators:
        kind = type(validator)
        limit = getattr(validator, "limit_value", None)
        if callable(limit):
            raise _NotCompilable("a callable limit")
        if kind is MaxLengthValidator:
            checks.append(lambda v, n=limit: len(v) <= n)
        elif kind is MinLengthValidator:
            checks.append(lambda v, n=limit: len(v) >= n)
        elif kind is MaxValueValidator:
            checks.append(lambda v, n=limit: v <= n)
        elif kind is MinValueValidator:
            checks.append(lambda v, n=limit: v >= n)
        elif kind is ProhibitNullCharactersValidator:
            checks.append(lambda v: "\x00" not in str(v))
        elif kind is ProhibitSurrogateCharactersValidator:
            checks.append(_no_surrogates)
        else:
            raise _NotCompilable(kind.__name__)

    def run(value) -> None:
        for ok in checks:
            if not ok(value):
                raise Unsure

    return run


def _no_surrogates(value) -> bool:
    text = str(value)
    if text.isascii():
        return True
    try:
        text.encode("utf-8")  # lone surrogates (U+D800..U+DFFF) can't be encoded
    except UnicodeEncodeError:
        return False
    return True
