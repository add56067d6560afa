import pytest


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_headless_chromium_signs_in_and_sees_the_browsable_api(logged_in_page, live_server):
    logged_in_page.goto(f"{live_server.url}/api/v1/tenant")
    assert "acme" in logged_in_page.content()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_api_docs_render_in_chromium_from_our_own_static_files(browser, live_server):
    """Swagger UI must come from this server, not a CDN: the page works on a closed network."""
    context = browser.new_context()
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    context.close()
    assert any(p.replace("\u200b", "").rstrip("/") == "/api/v1/webhooks" for p in paths), paths[:10]
    assert requested and all(url.startswith(live_server.url) for url in requested), \
        [url for url in requested if not url.startswith(live_server.url)]
