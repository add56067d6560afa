"""The window of believable event times around a message's receipt, and how Streamhook writes a time.

Senders stamp their events (`timestamp`, `started_at`, `upload_timestamp`...), and Streamhook
keeps those times: a session's start, a play's moment. A wrong clock or a placeholder such as
`0001-01-01T00:00:00Z` or `0` would otherwise become a session 63 billion seconds long. A time
more than the window's `back` before the message was received, or more than `ahead` after it,
is refused (400 naming the field).

The check is against the message's *receipt* time, not the clock when it is processed, so a
stored message replayed a month later (or processed late by the sweep) is judged as it was when
it came in, and is never refused for its age.

The default is generous: 7 days back covers senders that buffer while offline and retry for days
(Standard Webhooks schedules span about three), 1 day ahead covers badly set clocks and time zones
written as UTC. `STREAMHOOK_EVENT_TIME_WINDOW` ("7d,1d": back, ahead; units s, m, h, d) changes it.
"""

import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT_WINDOW = "7d,1d"
_SPAN = re.compile(r"^\s*(\d{1,9})\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Window:
    back: timedelta
    ahead: timedelta


@functools.lru_cache(maxsize=8)
def parse_window(text: str, *, name: str = "STREAMHOOK_EVENT_TIME_WINDOW") -> Window:
    """"7d,1d" → Window(7 days, 1 day); anything else is a configuration error naming `name`."""
    parts = text.split(",")
    matches = [_SPAN.match(part) for part in parts]
    if len(parts) != 2 or not all(matches):
        raise ImproperlyConfigured(f"{name}={text!r}: expected '<back>,<ahead>' such as '7d,1d' (units s, m, h, d)")
    back, ahead = (timedelta(seconds=int(m.group(1)) * _UNITS[m.group(2)]) for m in matches)
    return Window(back=back, ahead=ahead)


def event_window() -> Window:
    return parse_window(getattr(settings, "STREAMHOOK_EVENT_TIME_WINDOW", DEFAULT_WINDOW))


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


def event_time_problem(
    moment: datetime, *, received_at: datetime | None, window: Window | None = None,
) -> str | None:
    """Why `moment` is not a believable event time for a message received at `received_at` (None:
    now, for a message that was never stored), or None."""
    window = window or event_window()
    received_at = received_at or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment < received_at - window.back:
        return (f"{moment.isoformat()} is more than {_span(window.back)} before the message arrived "
                f"({received_at.isoformat()}); check the sender's clock.")
    if moment > received_at + window.ahead:
        return (f"{moment.isoformat()} is more than {_span(window.ahead)} after the message arrived "
                f"({received_at.isoformat()}); check the sender's clock.")
    return None


def event_times_problems(
    times: dict[str, datetime | None], *, received_at: datetime | None,
) -> dict[str, list[str]]:
    """`{field: [why]}` for each of `times` (dotted field names) outside the window; absent ones pass."""
    window = event_window()
    problems = {}
    for field, moment in times.items():
        problem = moment is not None and event_time_problem(moment, received_at=received_at, window=window)
        if problem:
            problems[field] = [problem]
    return problems


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and `Z`, as JavaScript's `Date.toISOString()` writes it."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
