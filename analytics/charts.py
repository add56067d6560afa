"""Geometry for the dashboard's server-rendered SVG charts: numbers in, coordinates out.

Templates draw what these return; no JavaScript, no chart library, nothing from a CDN.
"""

import math
from dataclasses import dataclass, field
from datetime import datetime


def nice_scale(value: float) -> tuple[float, float]:
    """(axis maximum, tick step) for values up to `value`: the step is 1, 2 or 5 times a power of
    ten, at most five steps up to the first multiple of it at or above `value` (233 -> 250 by 50)."""
    if value <= 4:  # small counts: 0-4, so one message is a quarter of the height, not all of it
        return 4, 1
    power = 10 ** math.floor(math.log10(value))
    for step in (power / 10, power / 5, power / 2, power, 2 * power, 5 * power):
        if step >= 1 and math.ceil(value / step) <= 5:  # whole-number ticks
            return math.ceil(value / step) * step, step
    return 10 * power, 2 * power


def _ticks(top: float, step: float) -> list[float]:
    return [step * k for k in range(round(top / step) + 1)]


@dataclass
class Bar:
    label: str
    value: float
    x: float
    y: float
    width: float
    height: float
    data: dict = field(default_factory=dict)


@dataclass
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[tuple[float, str]]  # (x or y position, label)
    label_width: int = 0


def horizontal_bars(items: list[tuple[str, float, dict]], *, width: int = 720, row: int = 26,
                    label_width: int = 230, value_width: int = 160) -> BarChart:
    """One bar per (label, value, data attributes); `value_width` is kept free right of the longest
    bar for its value label."""
    top, step = nice_scale(max((value for _, value, _ in items), default=0))
    plot = width - label_width - value_width
    bars = [
        Bar(label=label, value=value, x=label_width, y=i * row + 4, width=round(plot * value / top, 1),
            height=row - 8, data=data)
        for i, (label, value, data) in enumerate(items)
    ]
    ticks = [(round(label_width + plot * tick / top, 1), _fmt(tick)) for tick in _ticks(top, step)]
    return BarChart(width=width, height=len(items) * row + 24, bars=bars, ticks=ticks, label_width=label_width)


@dataclass
class Marker:
    x: float
    label: str
    data: dict
    number: int = 0  # 1-based, as in the track table
    show_number: bool = True  # False where it would overlap the previous marker's number


@dataclass
class Column:
    """A stacked column: `segments` are (css class, value, y, height) from the bottom up."""

    label: str
    value: float
    x: float
    width: float
    segments: list[tuple[str, float, float, float]]
    data: dict = field(default_factory=dict)


@dataclass
class TimeChart:
    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    points: str  # SVG polyline points
    dots: list[tuple[float, float, int, str]]
    columns: list[Column]
    markers: list[Marker]
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, str, str]]  # (x, label, text-anchor)


def time_chart(
    *, start: datetime, end: datetime, line: list[tuple[datetime, int]] | None = None,
    columns: list[tuple[datetime, dict[str, int], dict]] | None = None,
    markers: list[tuple[datetime, str, dict]] | None = None,
    column_seconds: int = 60, width: int = 720, height: int = 220,
) -> TimeChart:
    """A time axis from `start` to `end` with a step line, stacked columns (e.g. per minute: {css class:
    value}, bottom first) and numbered vertical markers."""
    left, top, right, bottom = 48, 22 if markers else 10, 12, 26  # room for the markers' numbers
    plot_w, plot_h = width - left - right, height - top - bottom
    span = max((end - start).total_seconds(), 1)
    line, columns, markers = line or [], columns or [], markers or []
    y_max, y_step = nice_scale(max([v for _, v in line] + [sum(parts.values()) for _, parts, _ in columns], default=0))

    def x_of(moment: datetime) -> float:
        return round(left + plot_w * min(max((moment - start).total_seconds() / span, 0), 1), 1)

    def y_of(value: float) -> float:
        return round(top + plot_h * (1 - value / y_max), 1)

    steps: list[str] = []
    for i, (at, value) in enumerate(line):
        nxt = line[i + 1][0] if i + 1 < len(line) else end
        steps += [f"{x_of(at)},{y_of(value)}", f"{x_of(nxt)},{y_of(value)}"]
    column_w = max(plot_w * column_seconds / span - 1, 1.5)
    stacked = []
    for at, parts, data in columns:
        segments, base = [], 0
        for css, value in parts.items():
            if value:
                segments.append((css, value, y_of(base + value), round(y_of(base) - y_of(base + value), 1)))
            base += value
        stacked.append(Column(label=at.strftime("%H:%M"), value=base, x=x_of(at), width=round(column_w, 1),
                              segments=segments, data=data))
    numbered, last_shown = [], None
    for number, (at, label, data) in enumerate(markers, start=1):
        x = x_of(at)
        show = last_shown is None or x - last_shown >= 7 * len(str(number)) + 4
        last_shown = x if show else last_shown
        numbered.append(Marker(x=x, label=label, data=data, number=number, show_number=show))
    anchors = ["start", "middle", "middle", "middle", "end"]  # the end labels stay inside the picture
    return TimeChart(
        width=width, height=height, left=left, top=top, plot_width=plot_w, plot_height=plot_h,
        points=" ".join(steps),
        dots=[(x_of(at), y_of(value), value, at.strftime("%H:%M")) for at, value in line],
        columns=stacked,
        markers=numbered,
        y_ticks=[(y_of(tick), _fmt(tick)) for tick in _ticks(y_max, y_step)],
        x_ticks=[(left + plot_w * k / 4, _time_label(start + (end - start) * k / 4, span), anchors[k])
                 for k in range(5)],
    )


def _time_label(moment: datetime, span_seconds: float) -> str:
    """HH:MM, with the date when the chart spans more than a day."""
    return moment.strftime("%m-%d %H:%M" if span_seconds > 86400 else "%H:%M")


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"
