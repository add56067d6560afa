"""Admin list pages that must show many columns at 1400 px: no navigation sidebar, compact times."""

from datetime import UTC, datetime

from django.utils import timezone


class WideChangeListMixin:
    """Hides the admin's navigation sidebar on the list page only, so the columns and filters fit;
    the change pages keep it."""

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"is_nav_sidebar_enabled": False, **(extra_context or {})})


def short_time(value: datetime | None) -> str:
    """`12-06 07:34:05` in UTC; with the year instead of seconds when it is not this year."""
    if value is None:
        return "—"
    value = value.astimezone(UTC)
    return value.strftime("%m-%d %H:%M:%S" if value.year == timezone.now().year else "%Y-%m-%d %H:%M")
