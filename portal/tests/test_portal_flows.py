"""The portal walked as a user would, in headless Chromium against the live test server, with a real
Celery worker delivering to a pytest-httpserver receiver. Each step saves a screenshot for docs/portal.md."""

import json
import re

from django.core import mail
from django.test import Client
from playwright.sync_api import Page, expect

from accounts.models import Membership
from core.crypto import reveal
from core.tests.screenshots import screenshot_path
from portal.forms import EndpointForm
from recordings.tests.factories import RECORDER_CURL_EXAMPLE, add_member, recorder_source
from webhooks import services
from webhooks.inbound.models import InboundMessage
from webhooks.models import Delivery, Endpoint

WAIT_MS = 30_000  # a loaded machine: the worker may take a while to pick a task up


def shot(page: Page, name: str, full_page: bool = True) -> None:
    page.screenshot(path=screenshot_path(f"portal-{name}.png"), full_page=full_page)


def sign_in(browser, live_server, username: str, password: str, screenshot: bool = False) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.goto(f"{live_server.url}/portal/")
    expect(page).to_have_url(re.compile(r"/portal/login/"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    if screenshot:
        shot(page, "login")
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/portal/endpoints/$"))
    return page


def test_owner_sets_up_tests_rotates_resends_and_replays(browser, live_server, tenant_ctx, celery_worker, httpserver):
    httpserver.expect_request("/hook").respond_with_json({"received": True})
    page = sign_in(browser, live_server, "owner@acme.test", "pw-acme-123", screenshot=True)

    # Create an endpoint subscribed to two event types, picked from the catalogue.
    page.click("text=Add endpoint")
    page.fill("input[name=url]", httpserver.url_for("/hook"))
    page.fill("input[name=description]", "Stream notifications")
    page.check("input[name=events][value='stream.live']")
    page.check("input[name=events][value='stream.offline']")
    page.click(".event-type[data-type='stream.live'] summary")
    if "headers" in EndpointForm.base_fields:  # the "profiles" branch's custom headers, once merged
        page.fill("[name=headers]", '{"X-Team": "streams"}')
    shot(page, "endpoint-form")
    page.click("button:has-text('Create endpoint')")
    expect(page.locator(".messages")).to_contain_text("Endpoint created.")
    endpoint = Endpoint.objects.get(tenant=tenant_ctx.tenant)
    assert endpoint.events == ["stream.live", "stream.offline"]

    # Test-send a chosen type: the delivery page polls until the worker's attempt is there.
    page.select_option("select[name=event_type]", "stream.live")
    page.click("button:has-text('Send test')")
    expect(page.locator("#attempt-1")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#attempt-1 .request-body")).to_contain_text('"type":"stream.live"')
    expect(page.locator("#attempt-1 .response-body")).to_contain_text("received")
    expect(page.locator("#attempt-1")).to_contain_text("200")
    sent = json.loads(httpserver.log[0][0].get_data())
    assert sent["type"] == "stream.live"
    shot(page, "delivery")

    # Reveal, then rotate: the new secret is shown once, with the overlap, and copies to the clipboard.
    page.goto(f"{live_server.url}/portal/endpoints/{endpoint.pk}/")
    page.click("#reveal-secret")
    expect(page.locator("#secret-value")).to_have_text(reveal(endpoint.secret))
    page.click("#rotate-secret")
    expect(page.locator("#rotated-notice")).to_be_visible()
    endpoint.refresh_from_db()
    expect(page.locator("#secret-value")).to_have_text(reveal(endpoint.secret))
    assert reveal(endpoint.previous_secret) and reveal(endpoint.previous_secret) != reveal(endpoint.secret)
    expect(page.locator("#overlap")).to_contain_text("previous secret still signs")
    page.click("#copy-secret")
    expect(page.locator("#copy-secret")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == reveal(endpoint.secret)
    shot(page, "endpoint-secret")
    page.goto(f"{live_server.url}/portal/endpoints/{endpoint.pk}/")  # shown once: the page itself hides it
    expect(page.locator("#secret-value")).to_have_count(0)

    # Make a delivery fail (a 500 and no retries), then resend it once the receiver is back.
    page.click("text=Edit")
    page.fill("input[name=retry_schedule]", "none")
    page.click("button:has-text('Save')")
    expect(page.locator(".messages")).to_contain_text("Endpoint saved.")
    httpserver.clear()
    httpserver.expect_oneshot_request("/hook").respond_with_data("receiver down", status=500)
    httpserver.expect_request("/hook").respond_with_json({"received": True})
    page.select_option("select[name=event_type]", "stream.offline")
    page.click("button:has-text('Send test')")
    expect(page.locator("#attempts[data-status=failed]")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#attempt-1 .response-body")).to_contain_text("receiver down")
    shot(page, "delivery-failed")
    page.click("#resend")
    expect(page.locator("#attempts[data-status=succeeded] #attempt-2")).to_be_visible(timeout=WAIT_MS)
    assert Delivery.objects.get(pk=int(page.url.rstrip("/").split("/")[-1])).attempt_count == 2

    # The log, filtered; the live tail; the catalogue.
    page.goto(f"{live_server.url}/portal/deliveries/?event_type=stream.offline")
    expect(page.locator("table.deliveries tbody tr")).to_have_count(1)
    shot(page, "deliveries")
    page.goto(f"{live_server.url}/portal/endpoints/")
    expect(page.locator("table.list")).to_contain_text("100 %", timeout=WAIT_MS)
    shot(page, "endpoints")
    page.goto(f"{live_server.url}/portal/tail/")
    expect(page.locator("#tail tr")).to_have_count(3)
    services.endpoint_send_test(endpoint=endpoint, event_type="stream.live")  # appears without a reload
    expect(page.locator("#tail tr")).to_have_count(4, timeout=WAIT_MS)
    shot(page, "tail")
    page.goto(f"{live_server.url}/portal/events/")
    expect(page.locator("#event-stream\\.live")).to_contain_text('"type": "object"')
    shot(page, "events", full_page=False)

    # An inbound message that failed (unknown user) is replayed once the user exists.
    source, key = recorder_source(tenant_ctx.tenant)
    answer = Client().generic("POST", "/recordings/webhook/", json.dumps(RECORDER_CURL_EXAMPLE),
                              content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert answer.status_code == 404
    message = InboundMessage.objects.get(source=source)
    page.goto(f"{live_server.url}/portal/sources/")
    expect(page.locator("table.list")).to_contain_text("/recordings/webhook/")
    page.click(f"text={source.name}")
    page.click(f"a[href='/portal/messages/{message.pk}/']")
    expect(page.locator("#message-status")).to_have_text("failed")
    expect(page.locator("#raw-body")).to_contain_text('"recording_id"')
    add_member(tenant_ctx.tenant, RECORDER_CURL_EXAMPLE["user_info"]["email"])
    page.click("#replay")
    expect(page.locator("#message-status")).to_have_text("processed")
    shot(page, "inbound-message")
    page.context.close()


def test_owner_invites_a_member_who_sees_what_they_may_not_do(browser, live_server, tenant_ctx):
    endpoint = Endpoint.objects.create(tenant=tenant_ctx.tenant, url="http://127.0.0.1:9/hook", secret="whsec_c2VjcmV0")

    # The owner invites someone new by e-mail from the members page.
    owner = sign_in(browser, live_server, "owner@acme.test", "pw-acme-123")
    owner.click("header nav >> text=Members")
    expect(owner).to_have_url(re.compile(r"/portal/members/$"))
    owner.fill("input[name=email]", "newbie@acme.test")
    owner.select_option("select[name=role]", "member")
    owner.click("#invite")
    expect(owner.locator(".messages")).to_contain_text("Invited newbie@acme.test as member")
    expect(owner.locator("#members tr[data-email='newbie@acme.test']")).to_contain_text("invited, no password yet")
    shot(owner, "members")
    owner.context.close()
    membership = Membership.objects.get(tenant=tenant_ctx.tenant, user__email="newbie@acme.test")
    assert membership.role == Membership.Role.MEMBER

    # The invitation holds a link to this server where the new member chooses a password.
    [invitation] = mail.outbox
    assert invitation.to == ["newbie@acme.test"]
    link = re.search(r"https?://\S+/accounts/reset/\S+", invitation.body).group(0)
    assert link.startswith(live_server.url)
    assert f"{live_server.url}/portal/login/" in invitation.body
    choose = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    choose.goto(link)
    choose.fill("input[name=new_password1]", "a-Long-pass-4321")
    choose.fill("input[name=new_password2]", "a-Long-pass-4321")
    choose.click("input[type=submit]")
    expect(choose).to_have_url(re.compile(r"/accounts/reset/done/$"))
    choose.click("#content a:has-text('Log in')")
    expect(choose).to_have_url(re.compile(r"/portal/login/$"))
    choose.fill("input[name=username]", "newbie@acme.test")
    choose.fill("input[name=password]", "a-Long-pass-4321")
    choose.click("button[type=submit]")
    page = choose

    # Signed in, the member sees the endpoint but not its secret, and the members but no controls.
    expect(page).to_have_url(re.compile(r"/portal/endpoints/$"))
    expect(page.locator("text=Add endpoint")).to_have_count(0)
    page.click(f"text={endpoint.url}")
    expect(page.locator("#secret-hidden-member")).to_be_visible()
    expect(page.locator("#reveal-secret")).to_have_count(0)
    expect(page.locator("#rotate-secret")).to_have_count(0)
    expect(page.locator("#edit-endpoint")).to_have_count(0)
    shot(page, "member")
    page.click("header nav >> text=Members")
    expect(page.locator("#members-read-only")).to_be_visible()
    expect(page.locator("#members")).to_contain_text("owner@acme.test")
    expect(page.locator("#invite-form")).to_have_count(0)
    expect(page.locator("#members form")).to_have_count(0)

    # Posting those forms anyway (with the page's CSRF token) is refused.
    token = page.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    refer = {"Referer": f"{live_server.url}/portal/"}
    for action in ("secret", "rotate", "edit"):
        response = page.request.post(f"{live_server.url}/portal/endpoints/{endpoint.pk}/{action}/",
                                     form={"csrfmiddlewaretoken": token, "url": "http://127.0.0.1:9/mine"},
                                     headers=refer)
        assert response.status == 403, action
        assert "whsec_" not in response.text()
    owner_membership = Membership.objects.get(user=tenant_ctx.owner)
    for path, form in (("/portal/members/invite/", {"email": "friend@acme.test", "role": "admin"}),
                       (f"/portal/members/{membership.pk}/role/", {"role": "owner"}),
                       (f"/portal/members/{owner_membership.pk}/remove/", {})):
        response = page.request.post(f"{live_server.url}{path}", form={"csrfmiddlewaretoken": token, **form},
                                     headers=refer)
        assert response.status == 403, path
    endpoint.refresh_from_db()
    assert (reveal(endpoint.secret), endpoint.url) == ("whsec_c2VjcmV0", "http://127.0.0.1:9/hook")
    assert Membership.objects.get(pk=membership.pk).role == Membership.Role.MEMBER
    assert Membership.objects.filter(tenant=tenant_ctx.tenant).count() == 2
    page.context.close()


def test_live_tail_makes_no_request_while_the_tab_is_hidden(browser, live_server, tenant_ctx):
    page = sign_in(browser, live_server, "owner@acme.test", "pw-acme-123")
    polls: list[str] = []
    page.on("request", lambda request: polls.append(request.url) if "/portal/tail/rows/" in request.url else None)
    page.goto(f"{live_server.url}/portal/tail/")
    page.wait_for_timeout(4500)
    assert polls, "the tail polls while visible"
    page.evaluate("Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});"
                  "document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_timeout(500)  # a request already in flight may finish
    polls.clear()
    page.wait_for_timeout(4500)
    assert polls == []
    page.evaluate("Object.defineProperty(document, 'hidden', {configurable: true, get: () => false});"
                  "document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_timeout(4500)
    assert polls, "polling resumes when the tab shows again"
    page.context.close()
