"""The operator's admin flows in headless Chromium at 1400 px, with a real worker delivering to a real
receiver on 127.0.0.1: add an endpoint, test-send a chosen type and see the answer, resend, rotate, delete.
Screenshots: admin-*.png (docs/admin.md shows them; `make screenshots` refreshes docs/screenshots)."""

import time

import pytest
from django.utils import timezone

from core.crypto import reveal
from core.tests.screenshots import screenshot_path
from webhooks.inbound.models import InboundMessage
from webhooks.inbound.tests.factories import make_source
from webhooks.models import Delivery, Endpoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 1400


@pytest.fixture
def ops_page(browser, live_server, django_user_model):
    django_user_model.objects.create_superuser("ops", "ops@example.test", "pw-ops-12345")
    context = browser.new_context(viewport={"width": WIDTH, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "ops")
    page.fill("input[name=password]", "pw-ops-12345")
    page.click("[type=submit]")
    page.wait_for_selector("text=Operations")
    yield page
    context.close()


def _shot(page, name: str) -> None:
    page.screenshot(path=screenshot_path(f"admin-{name}.png"), full_page=True)


def _fits(page, selector: str) -> None:
    """The column is visible without scrolling: inside the viewport and inside the list's scroll box."""
    box = page.locator(selector).first.bounding_box()
    frame = page.locator("#changelist .results").bounding_box()
    assert box is not None and frame is not None, selector
    right = box["x"] + box["width"]
    assert right <= min(WIDTH, frame["x"] + frame["width"]) + 1, f"{selector} ends at {right} px, {frame=}"


def _wait_for_outcome(page, timeout: float = 60) -> str:
    """The outcome page waits a little itself; under load the worker may need longer: check again."""
    deadline = time.monotonic() + timeout
    while True:
        code = page.locator(".outcome-code")
        if code.count():
            return code.text_content().strip()
        assert time.monotonic() < deadline, page.content()
        page.click("text=Check again")


def test_operator_adds_tests_resends_rotates_and_deletes_an_endpoint(ops_page, live_server, tenant, httpserver,
                                                                     celery_worker):
    httpserver.expect_request("/hook").respond_with_data("thanks from the receiver", status=200)
    page = ops_page

    page.goto(f"{live_server.url}/admin/webhooks/endpoint/add/")
    page.fill("#id_tenant", str(tenant.pk))
    page.fill("#id_url", httpserver.url_for("/hook"))
    page.fill("#id_description", "Added by the operator")
    page.check('input[name=events][value="stream.live"]')
    page.check('input[name=events][value="stream.offline"]')
    page.fill("#id_retry_schedule", "1, 5, 25")
    page.click("input[name=_save]")
    secret = page.input_value("input.new-secret")
    endpoint = Endpoint.objects.get(description="Added by the operator")
    assert secret == reveal(endpoint.secret) and secret.startswith("whsec_")
    assert endpoint.is_active and endpoint.events == ["stream.live", "stream.offline"]
    _shot(page, "endpoint-created")

    page.goto(f"{live_server.url}/admin/webhooks/endpoint/")
    _fits(page, "th.column-created")
    _shot(page, "endpoints")

    page.goto(f"{live_server.url}/admin/webhooks/endpoint/{endpoint.pk}/change/")
    page.click("text=Send a test event")
    page.select_option("#id_event_type", "stream.live")
    page.click("input[type=submit][value=Send]")
    assert _wait_for_outcome(page) == "200"
    assert "thanks from the receiver" in page.text_content("#test-outcome")
    assert page.text_content(".outcome-status").strip() == "succeeded"
    _shot(page, "test-send")
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.event.type == "stream.live"

    page.goto(f"{live_server.url}/admin/webhooks/delivery/{delivery.pk}/change/")
    page.click("button.resend-button")
    page.wait_for_selector("text=queued again")
    _shot(page, "delivery")
    deadline = time.monotonic() + 60
    while len(httpserver.log) < 2:  # the receiver hears the same event a second time
        assert time.monotonic() < deadline, celery_worker.output()
        page.wait_for_timeout(200)
    ids = [request.headers["webhook-id"] for request, _ in httpserver.log]
    assert ids == [delivery.event_id, delivery.event_id]

    page.goto(f"{live_server.url}/admin/webhooks/delivery/")
    for column in ("attempts", "last_status", "next_attempt", "created"):
        _fits(page, f"th.column-{column}")
    _shot(page, "deliveries")

    page.goto(f"{live_server.url}/admin/webhooks/endpoint/{endpoint.pk}/change/")
    page.click("text=Rotate secret")
    page.click("input[type=submit][value='Rotate the secret']")
    rotated = page.input_value("input.new-secret")
    endpoint.refresh_from_db()
    assert rotated == reveal(endpoint.secret) != secret and reveal(endpoint.previous_secret) == secret
    _shot(page, "rotate")

    page.goto(f"{live_server.url}/admin/webhooks/endpoint/{endpoint.pk}/delete/")
    page.click("input[type=submit]")
    page.wait_for_selector("text=was deleted successfully")
    endpoint.refresh_from_db()
    assert endpoint.deleted_at is not None and Delivery.objects.filter(endpoint=endpoint).count() == 1


def test_inbound_messages_show_handler_and_status_at_1400_px(ops_page, live_server, tenant):
    source, _ = make_source(tenant, name="OBS recorder")
    now = timezone.now()
    for status in ("processed", "failed", "processed"):
        InboundMessage.objects.create(tenant=tenant, source=source, handler="recordings.webhook", body=b"{}",
                                      sha256="0" * 64, received_at=now, status=status,
                                      message_id=f"rec-{status}-{time.monotonic_ns()}", response_status=201)
    ops_page.goto(f"{live_server.url}/admin/webhooks_inbound/inboundmessage/")
    for column in ("handler", "status_badge", "response_status", "attempts"):
        _fits(ops_page, f"th.column-{column}")
    _shot(ops_page, "inbound-messages")


def test_the_superuser_picks_a_tenant_to_open_its_dashboard(ops_page, live_server, tenant, other_tenant):
    page = ops_page
    page.goto(f"{live_server.url}/")
    for name in ("Portal", "Dashboard", "API docs", "Admin", "Health"):
        assert page.locator(f"a:text-is('{name}')").count() == 1, name
    page.screenshot(path=screenshot_path("home.png"), full_page=True)
    page.click("a:text-is('Dashboard')")
    page.wait_for_selector("text=Pick the tenant to open")
    _shot(page, "tenant-picker")
    page.select_option("select[name=tenant]", "globex")
    page.click("button:text-is('Open')")
    page.wait_for_selector("text=Streamhook · globex")
    page.select_option("header select[name=tenant]", "acme")
    page.click("header button:text-is('Open')")
    page.wait_for_selector("text=Streamhook · acme")
    assert page.locator("header a:text-is('Admin')").count() == 1  # staff: the link is theirs


def test_a_tenant_owner_sees_no_admin_link(logged_in_page, live_server):
    logged_in_page.goto(f"{live_server.url}/dashboard/")
    logged_in_page.wait_for_selector("text=Streamhook · acme")
    assert logged_in_page.locator("a:text-is('Admin')").count() == 0
