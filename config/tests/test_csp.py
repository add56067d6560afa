"""A Content-Security-Policy on every page, and no page that needs inline script to work."""

import re

import pytest
from django.contrib.auth import get_user_model

PAGES = ["/admin/login/", "/admin/", "/api/docs/", "/api-auth/login/", "/api/v1/", "/dashboard/", "/audio/meter/",
         "/portal/members/"]
# A recorder for `securitypolicyviolation` events, installed by the browser before any page script runs.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(
    [e.violatedDirective, e.blockedURI || "inline", e.sourceFile, e.lineNumber, e.sample].join(" "));
});
"""


@pytest.fixture
def operator(client, tenant_ctx):
    user = tenant_ctx.owner
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    client.force_login(user)
    return client


def _directives(header: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_every_page_carries_a_policy_that_allows_only_our_own_scripts(client, operator, path):
    if path.endswith("/login/"):
        client.logout()  # a signed-in user is sent on from the login pages
    response = client.get(path, HTTP_ACCEPT="text/html")  # the browsable API's page, not its JSON
    assert response.status_code == 200, (path, response.status_code)
    policy = _directives(response["Content-Security-Policy"])
    assert policy["script-src"] == "'self'"
    assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    html = response.content.decode()
    inline = [tag for tag in re.findall(r"<script\b[^>]*>", html)
              if "src=" not in tag and 'type="application/json"' not in tag]
    assert inline == [], path
    assert not re.search(r"\son[a-z]+\s*=", re.sub(r"<script\b.*?</script>", "", html, flags=re.S)), path


@pytest.mark.django_db
def test_the_policy_is_on_error_pages_and_json_too(client):
    assert "Content-Security-Policy" in client.get("/no-such-page/")
    assert "Content-Security-Policy" in client.get("/api/v1/webhooks")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_pages_work_in_chromium_without_a_single_policy_violation(browser, live_server, tenant_ctx):
    owner = tenant_ctx.owner
    get_user_model().objects.filter(pk=owner.pk).update(is_staff=True, is_superuser=True)
    context = browser.new_context()
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "owner@acme.test")
    page.fill("input[name=password]", "pw-acme-123")
    page.click("[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    seen = {}
    for path in PAGES[1:]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("load")
        if path == "/api/docs/":  # Swagger UI draws the operations from the fetched schema, by script
            page.wait_for_selector(".opblock-summary-path", timeout=30_000)
        seen[path] = page.evaluate("window.__cspViolations")
    page.goto(f"{live_server.url}/admin/accounts/tenant/add/")  # a form with the admin's scripts
    page.wait_for_selector("input[name=name]")
    seen["/admin/accounts/tenant/add/"] = page.evaluate("window.__cspViolations")
    context.close()
    assert all(v == [] for v in seen.values()), seen
    assert not [text for text in console if "Content Security Policy" in text], console


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_browsable_apis_log_out_works_without_script(logged_in_page, live_server):
    page = logged_in_page
    page.goto(f"{live_server.url}/api/v1/")
    page.click(".dropdown-toggle")
    page.click("#logoutForm button")
    page.wait_for_load_state("load")
    page.goto(f"{live_server.url}/api/v1/tenant")
    assert "Log in" in page.content() or "log in" in page.content()
