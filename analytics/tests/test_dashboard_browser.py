from pathlib import Path

import pytest
from django.utils import timezone

from analytics.tests import factories as f

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "dashboard.png"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_dashboard_draws_genre_session_chat_and_delivery_charts(logged_in_page, live_server, tenant, streams):
    good = f.endpoint(tenant, "https://good.example/hooks")
    flaky = f.endpoint(tenant, "https://flaky.example/hooks")
    now = timezone.now()
    for duration in (120, 180, 240):
        f.delivery(good, status="succeeded", created_at=now, attempts=[(now, duration, 200, True)])
    f.delivery(flaky, status="succeeded", created_at=now, attempts=[(now, 900, 200, True)])
    f.delivery(flaky, status="failed", created_at=now, attempts=[(now, 5000, 503, False)])

    page = logged_in_page
    page.set_viewport_size({"width": 1600, "height": 1300})
    page.goto(f"{live_server.url}/dashboard/?session=s1")

    bars = page.locator("#genre-chart rect.bar")
    assert bars.count() == 3
    series = [(bars.nth(i).get_attribute("data-subgenre"), bars.nth(i).get_attribute("data-plays"),
               bars.nth(i).get_attribute("data-engagement")) for i in range(3)]
    assert series == [("liquid dnb", "2", "16"), ("deep house", "2", "4"), ("minimal", "1", "10")]
    widths = [float(bars.nth(i).get_attribute("width")) for i in range(3)]
    assert widths[0] == widths[1] > widths[2] > 0  # the bars are drawn to scale

    samples = page.locator("#viewer-chart circle.sample")
    assert [samples.nth(i).get_attribute("data-viewers") for i in range(samples.count())] == \
        ["100", "150", "120", "200"]
    assert page.locator("#viewer-chart line.track").count() == 3
    assert page.locator("#viewer-chart polyline.line").get_attribute("points").count(",") == 8
    chat = page.locator("#chat-chart rect.chat")
    assert [chat.nth(i).get_attribute("data-messages") for i in range(chat.count())] == ["3", "0", "1", "0", "1"]
    assert page.locator("#peak-viewers").inner_text() == "200"

    health = page.locator("#delivery-chart rect")
    assert health.count() == 2
    rates = {health.nth(i).get_attribute("data-endpoint"): health.nth(i).get_attribute("data-success-rate")
             for i in range(2)}
    assert rates == {str(good.pk): "1.0", str(flaky.pk): "0.5"}
    assert page.locator("#delivery-chart rect.bad").count() == 1

    # rendered, not just present: the chart boxes have a size on screen
    assert page.locator("#genre-chart").bounding_box()["width"] > 600
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
