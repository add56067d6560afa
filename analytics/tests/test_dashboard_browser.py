
import pytest
from django.utils import timezone

from analytics.tests import factories as f
from core.tests.screenshots import screenshot_path


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
    quiet = f.endpoint(tenant, "https://quiet.example/hooks")

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
    assert page.locator("#viewer-chart text.track-number").all_text_contents() == ["1", "2", "3"]
    assert page.locator("#viewer-chart polyline.line").get_attribute("points").count(",") == 8
    minutes = page.locator("#chat-chart g.minute")
    assert [(minutes.nth(i).get_attribute("data-messages"), minutes.nth(i).get_attribute("data-interactions"))
            for i in range(minutes.count())] == [("3", "1"), ("0", "1"), ("1", "1"), ("0", "1"), ("1", "0")]
    # stacked: viewer messages at the bottom, the bot's on top, both drawn to one scale
    first = minutes.nth(0)
    chat_h, bot_h = (float(first.locator(f"rect.{css}").get_attribute("height")) for css in ("chat", "bot"))
    assert chat_h == 3 * bot_h > 0
    assert page.locator("#peak-viewers").inner_text() == "200"
    assert page.locator("#duration").inner_text() == "20 min"
    assert page.locator("#top-tracks tr td:first-child").all_inner_texts() == ["1", "2", "3"]

    health = page.locator("#delivery-chart rect")
    assert health.count() == 2
    rates = {health.nth(i).get_attribute("data-endpoint"): health.nth(i).get_attribute("data-success-rate")
             for i in range(2)}
    assert rates == {str(good.pk): "1.0", str(flaky.pk): "0.5"}
    assert page.locator("#delivery-chart rect.bad").count() == 1
    assert page.locator(f'#delivery-chart text.none[data-endpoint="{quiet.pk}"]').text_content() == \
        "no finished deliveries"

    # rendered, not just present: the chart boxes have a size on screen
    assert page.locator("#genre-chart").bounding_box()["width"] > 600
    page.screenshot(path=screenshot_path("dashboard.png"), full_page=True)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_dashboard_renders_a_stream_sent_by_simulate_stream(logged_in_page, live_server, tenant):
    """The whole path: the sender client posts a DJ set over HTTP, streams stores it, the dashboard draws it."""
    import io

    from django.core.management import call_command

    from analytics.selectors import genre_trends, session_summary
    from webhooks.inbound.services import source_create

    key = source_create(tenant=tenant, name="assistant", kind="stream-assistant")[1]
    out = io.StringIO()
    call_command("simulate_stream", url=live_server.url, api_key=key, tracks=10, speed=0, seed=3,
                 session="sim-dash", stdout=out)
    assert "0 failed" in out.getvalue()
    summary = session_summary(tenant=tenant, session_id="sim-dash")
    assert summary["session"]["total_tracks"] == 10

    page = logged_in_page
    page.set_viewport_size({"width": 1600, "height": 1300})
    page.goto(f"{live_server.url}/dashboard/")  # the newest session is shown by default
    bars = page.locator("#genre-chart rect.bar")
    drawn = [(bars.nth(i).get_attribute("data-subgenre"), int(bars.nth(i).get_attribute("data-plays")))
             for i in range(bars.count())]
    assert drawn == [(t["subgenre"], t["total_plays"]) for t in genre_trends(tenant=tenant, limit=12)]
    assert sum(plays for _, plays in drawn) == 10
    assert page.locator("#viewer-chart line.track").count() == 10
    samples = page.locator("#viewer-chart circle.sample")
    assert samples.count() == len(summary["viewer_timeline"]) > 0
    assert page.locator("#peak-viewers").inner_text() == str(summary["session"]["peak_viewers"])
    minutes = page.locator("#chat-chart g.minute")
    assert sum(int(minutes.nth(i).get_attribute("data-interactions")) for i in range(minutes.count())) == \
        summary["session"]["total_interactions"] > 0
    assert page.locator("#total-responses").inner_text() == str(summary["session"]["total_responses"])
    page.screenshot(path=screenshot_path("dashboard-simulate-stream.png"), full_page=True)
