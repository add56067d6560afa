from datetime import UTC, datetime, timedelta

import pytest

from analytics.charts import horizontal_bars, nice_scale, time_chart


@pytest.mark.parametrize(("value", "top", "step"), [
    (0, 4, 1), (1, 4, 1), (4, 4, 1), (5, 5, 1), (7, 8, 2), (10, 10, 2), (16, 20, 5), (100, 100, 20),
    (101, 150, 50), (233, 250, 50), (418, 500, 100), (1234567, 1500000, 500000),
])
def test_axes_end_on_round_numbers_with_round_steps(value, top, step):
    assert nice_scale(value) == (top, step)


def test_bars_leave_room_for_their_value_labels():
    chart = horizontal_bars([("a", 233, {}), ("b", 100, {})], width=720, label_width=250, value_width=160)
    assert [bar.width for bar in chart.bars] == [288.9, 124.0]  # 310 px stand for 250
    assert [label for _, label in chart.ticks] == ["0", "50", "100", "150", "200", "250"]
    assert chart.ticks[-1][0] == 250 + 310


def test_markers_are_numbered_and_crowded_numbers_are_dropped():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    moments = [start, start + timedelta(seconds=10), start + timedelta(minutes=30), start + timedelta(minutes=59)]
    chart = time_chart(start=start, end=start + timedelta(hours=1), markers=[(m, "t", {}) for m in moments])
    assert [(m.number, m.show_number) for m in chart.markers] == [(1, True), (2, False), (3, True), (4, True)]
    assert [anchor for _, _, anchor in chart.x_ticks] == ["start", "middle", "middle", "middle", "end"]
