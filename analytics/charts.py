"""Geometry for the dashboard's server-rendered SVG charts: numbers in, coordinates out.

Templates draw what these return; no JavaScript, no chart library, nothing from a CDN.
"""

import math
from dataclasses import dataclass, field
from datetime import datetime


def nice_max(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return 4
    if value <= 8:  # small counts: whole-number ticks at quarters
        return 4 if value <= 4 else 8
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


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
                    label_width: int = 230) -> BarChart:
    """One bar per (label, value, data attributes), longest scale = the largest value."""
    top = nice_max(max((value for _, value, _ in items), default=0))
    plot = width - label_width - 60
    bars = [
        Bar(label=label, value=value, x=label_width, y=i * row + 4, width=round(plot * value / top, 1),
            height=row - 8, data=data)
        for i, (label, value, data) in enumerate(items)
    ]
    ticks = [(label_width + plot * k / 4, _fmt(top * k / 4)) for k in range(5)]
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
    y_max = nice_max(max([v for _, v in line] + [sum(parts.values()) for _, parts, _ in columns], default=0))

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
        y_ticks=[(y_of(y_max * k / 4), _fmt(y_max * k / 4)) for k in range(5)],
        x_ticks=[(left + plot_w * k / 4, _time_label(start + (end - start) * k / 4, span), anchors[k])
                 for k in range(5)],
    )


def _time_label(moment: datetime, span_seconds: float) -> str:
    """HH:MM, with the date when the chart spans more than a day."""
    return moment.strftime("%m-%d %H:%M" if span_seconds > 86400 else "%H:%M")


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"
