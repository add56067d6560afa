"""Filters every read API shares."""

from django_filters import IsoDateTimeFilter


def time_window(field_name: str, happened: str) -> tuple[IsoDateTimeFilter, IsoDateTimeFilter]:
    """`since` (inclusive) and `until` (exclusive) on `field_name`: half-open, so consecutive windows
    never count a row twice. `happened` words the docs ("Received" -> "Received at or after (ISO 8601)").

    In a FilterSet: `since, until = time_window("received_at", "Received")`.
    """
    def window_filter(lookup: str, words: str) -> IsoDateTimeFilter:
        text = f"{happened} {words} (ISO 8601)"
        return IsoDateTimeFilter(field_name=field_name, lookup_expr=lookup, label=text, help_text=text)

    return window_filter("gte", "at or after"), window_filter("lt", "before")
