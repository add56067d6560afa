"""The meter page sends requests only while a session is listening and the tab is visible, and none at
all for an account that may not read the level."""

import pytest

from accounts.models import Membership
from audio.services import listening_start

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _count_level_requests(page) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if "/api/listen/" in r.url else None)
    return seen


def _quiet_for(page, seen: list[str], seconds: float) -> bool:
    before = len(seen)
    page.wait_for_timeout(seconds * 1000)  # Playwright delivers the request events while it waits
    return len(seen) == before


def _hide(page) -> None:
    page.evaluate("""() => { Object.defineProperty(document, 'hidden', {value: true, configurable: true});
                             document.dispatchEvent(new Event('visibilitychange')); }""")


def _show(page) -> None:
    page.evaluate("""() => { Object.defineProperty(document, 'hidden', {value: false, configurable: true});
                             document.dispatchEvent(new Event('visibilitychange')); }""")


def test_an_idle_meter_asks_once_and_then_stays_quiet(logged_in_page, live_server):
    page = logged_in_page
    seen = _count_level_requests(page)
    page.goto(f"{live_server.url}/audio/meter/")
    page.wait_for_selector("text=Not listening.")
    assert _quiet_for(page, seen, 1.5)
    assert len(seen) == 1
    assert page.is_visible("#check")


def test_a_listening_meter_polls_until_hidden_and_resumes_when_shown(logged_in_page, live_server, tenant):
    listening_start(tenant=tenant, started_by="test")
    page = logged_in_page
    seen = _count_level_requests(page)
    page.goto(f"{live_server.url}/audio/meter/")
    page.wait_for_selector("#stop:enabled")
    page.wait_for_timeout(1000)
    assert len(seen) >= 3  # polling while listening and visible
    _hide(page)
    page.wait_for_timeout(300)  # a request already in flight may finish
    assert _quiet_for(page, seen, 1.5)
    hidden_count = len(seen)
    _show(page)
    page.wait_for_timeout(1000)
    assert len(seen) >= hidden_count + 3


def test_check_again_notices_a_session_started_elsewhere(logged_in_page, live_server, tenant):
    page = logged_in_page
    page.goto(f"{live_server.url}/audio/meter/")
    page.wait_for_selector("text=Not listening.")
    listening_start(tenant=tenant, started_by="test")
    page.click("#check")
    page.wait_for_selector("#stop:enabled")


def test_without_a_tenant_the_meter_sends_nothing(browser, live_server, django_user_model):
    django_user_model.objects.create_user("loner", "loner@example.com", "pw-loner-123")
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/api-auth/login/?next=/audio/meter/")
    page.fill("input[name=username]", "loner")
    page.fill("input[name=password]", "pw-loner-123")
    seen = _count_level_requests(page)
    page.click("[type=submit]")
    page.wait_for_selector("text=acts for no tenant")
    assert _quiet_for(page, seen, 1.0) and seen == []
    assert page.is_disabled("#start")
    context.close()


def test_a_refused_meter_stops_for_good(logged_in_page, live_server, tenant_ctx):
    listening_start(tenant=tenant_ctx.tenant, started_by="test")
    page = logged_in_page
    seen = _count_level_requests(page)
    page.goto(f"{live_server.url}/audio/meter/")
    page.wait_for_selector("#stop:enabled")
    Membership.objects.filter(user=tenant_ctx.owner).delete()  # access withdrawn: the next read is a 403
    page.wait_for_selector("text=may not read", timeout=5000)
    assert _quiet_for(page, seen, 1.5)
    assert page.is_disabled("#start") and page.is_disabled("#stop")
