import pytest


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_headless_chromium_signs_in_and_sees_the_browsable_api(logged_in_page, live_server):
    logged_in_page.goto(f"{live_server.url}/api/v1/tenant")
    assert "acme" in logged_in_page.content()
