"""Filters every read API shares. A parameter given a value the API can't use is a 400 naming it,
never ignored: a typo must not silently return everything, in another order, or a 500."""

from datetime import UTC, timedelta

import django_filters
from django import forms
from django_filters import IsoDateTimeFilter
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter

# PostgreSQL's timestamptz takes offsets up to ±15:59; ISO 8601 and Python allow up to ±23:59.
MAX_UTC_OFFSET = timedelta(hours=16)
OFFSET_PATTERN = r"(Z|z|[+-](0[0-9]|1[0-5]):[0-5][0-9])$"


class CheckedIsoDateTimeField(IsoDateTimeField):
    """ISO 8601 with a time-zone offset the database can store; an empty value is not "no bound"."""

    def to_python(self, value):
        if value == "":
            raise forms.ValidationError("Enter a date and time (ISO 8601), or leave the parameter out.")
        value = super().to_python(value)
        if value is not None and value.utcoffset() is not None and abs(value.utcoffset()) >= MAX_UTC_OFFSET:
            raise forms.ValidationError("The time-zone offset must be between -15:59 and +15:59.")
        if value is not None:
            try:  # 0001-01-01T00:00+01:00 is in year 0 in UTC, where Python's datetimes (and SQLite's) end
                value.astimezone(UTC)
            except OverflowError:
                raise forms.ValidationError("Datetime value out of range.") from None
        return value


DATETIME_PARAM = {"type": "string", "format": "date-time", "pattern": OFFSET_PATTERN}


class CheckedIsoDateTimeFilter(IsoDateTimeFilter):
    field_class = CheckedIsoDateTimeField


def time_window(field_name: str, happened: str) -> tuple[IsoDateTimeFilter, IsoDateTimeFilter]:
    """`since` (inclusive) and `until` (exclusive) on `field_name`: half-open, so consecutive windows
    never count a row twice. `happened` words the docs ("Received" -> "Received at or after (ISO 8601)").

    In a FilterSet: `since, until = time_window("received_at", "Received")`.
    """
    def window_filter(lookup: str, words: str) -> IsoDateTimeFilter:
        text = f"{happened} {words} (ISO 8601, offset within ±15:59)"
        window = CheckedIsoDateTimeFilter(field_name=field_name, lookup_expr=lookup, label=text, help_text=text)
        return extend_schema_field({**DATETIME_PARAM, "description": text})(window)

    return window_filter("gte", "at or after"), window_filter("lt", "before")


class CheckedOrderingFilter(OrderingFilter):
    """DRF's `?ordering=`, except that an unknown field is a 400 naming `ordering` (DRF drops it
    silently), and the schema lists the fields a view can be ordered by."""

    def orderable_fields(self, queryset, view, request=None) -> list[str]:
        """The view's `ordering_fields`, or by default its serializer's fields that are model columns."""
        names = [name for name, _ in self.get_valid_fields(queryset, view, {"request": request})]
        if getattr(view, "ordering_fields", self.ordering_fields) is not None:
            return names
        columns = {field.name for field in queryset.model._meta.get_fields() if field.concrete}
        return [name for name in names if name in columns]

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        if raw is None:
            return self.get_default_ordering(view)
        terms = [term.strip() for term in raw.split(",")]
        valid = self.orderable_fields(queryset, view, request)
        wrong = [term for term in terms if term.removeprefix("-") not in valid]
        if wrong:
            raise ValidationError({self.ordering_param: [
                f"Unknown ordering field(s): {', '.join(repr(t) for t in wrong)}. "
                f"Choose from {', '.join(valid)}, each optionally prefixed with '-'."]})
        return terms

    def get_schema_operation_parameters(self, view) -> list[dict]:
        fields = self.orderable_fields(view.queryset, view)
        return [{
            "name": self.ordering_param, "required": False, "in": "query",
            "description": "Comma-separated fields to order by; `-` before a field reverses it.",
            "schema": {"type": "array", "minItems": 1,
                       "items": {"type": "string", "enum": [*fields, *(f"-{name}" for name in fields)]}},
            "style": "form", "explode": False,
        }]


BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


@extend_schema_field(OpenApiTypes.BOOL)
class BooleanParamFilter(django_filters.TypedChoiceFilter):
    """`true`/`false` (or `1`/`0`); anything else is a 400, where django-filter's BooleanFilter
    ignores a value it can't read and returns everything."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("help_text", "`true` or `false`.")
        super().__init__(*args, choices=[(k, k) for k in BOOLEANS], coerce=BOOLEANS.__getitem__, **kwargs)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": 2**63 - 1})
class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number a bigint column can hold (a fraction or an overflow is a 400)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=2**63 - 1, **kwargs)


def refuse_empty_values(filterset: django_filters.FilterSet, params) -> None:
    """`?date=` or `?status=` is a 400 naming the parameter. django-filter reads an empty value as
    "no filter", so a client whose variable was empty silently got every row; only a free-text
    filter, whose schema allows the empty string, may be empty."""
    errors = {
        name: ["Give a value, or leave the parameter out."]
        for name, filter_ in filterset.filters.items()
        if params.get(name) == "" and type(filter_.field) is not forms.CharField
    }
    if errors:
        raise ValidationError(errors)


class CheckedFilterBackend(DjangoFilterBackend):
    """django-filter's backend, plus `refuse_empty_values`."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            refuse_empty_values(filterset, request.query_params)
        return filterset
