"""The recordings and stream-session lists show their last column at 1400 px (headless Chromium)."""

import pytest

from analytics.tests import factories as streams_factories
from recordings.tests.factories import RECORDER_FULL_EXAMPLE, add_member, recorder_source
from webhooks.tests.test_admin_browser import WIDTH, _fits

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ops_page(browser, live_server, django_user_model):
    django_user_model.objects.create_superuser("ops", "ops@example.test", "pw-ops-12345")
    context = browser.new_context(viewport={"width": WIDTH, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "ops")
    page.fill("input[name=password]", "pw-ops-12345")
    page.click("[type=submit]")
    yield page
    context.close()


def test_recordings_and_sessions_fit_at_1400_px(ops_page, live_server, tenant, client):
    add_member(tenant, "souvik@fyelabs.com")
    _, key = recorder_source(tenant)
    assert client.post("/recordings/webhook/", RECORDER_FULL_EXAMPLE, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 201
    streams_factories.session(tenant, "s1", started_at=streams_factories.at(1, 20))

    ops_page.goto(f"{live_server.url}/admin/recordings/recording/")
    _fits(ops_page, "th.column-file_links")
    ops_page.goto(f"{live_server.url}/admin/streams/streamsession/")
    _fits(ops_page, "th.column-peak_viewers")
