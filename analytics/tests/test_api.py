from datetime import UTC, datetime

import pytest

from analytics.rollups import rollup_refresh
from analytics.tests import factories as f
from analytics.tests.test_genre_trends import DEEP, LIQUID, MINIMAL

pytestmark = pytest.mark.django_db


def test_genre_trends_stream_assistant_shape(api_client, streams):
    response = api_client.get("/api/analytics/genre-trends")
    assert response.status_code == 200
    assert response.json() == {"trends": [LIQUID, DEEP, MINIMAL]}


def test_genre_trends_filters(api_client, streams):
    response = api_client.get("/api/analytics/genre-trends", {"platform": "youtube", "limit": 1})
    assert [t["subgenre"] for t in response.json()["trends"]] == ["deep house"]
    response = api_client.get("/api/analytics/genre-trends",
                              {"since": "2026-01-05T20:05:00Z", "until": "2026-01-06T00:00:00Z"})
    assert [(t["subgenre"], t["total_plays"]) for t in response.json()["trends"]] == [
        ("liquid dnb", 1), ("deep house", 1)]


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/api/analytics/genre-trends", {"since": "yesterday"}, "since"),
    ("/api/analytics/genre-trends", {"until": "2026-13-01T00:00:00Z"}, "until"),
    ("/api/analytics/genre-trends", {"limit": "0"}, "limit"),
    ("/api/analytics/genre-trends", {"limit": "many"}, "limit"),
    ("/api/analytics/genre-trends", {"since": "2026-01-05T00:00:00Z", "until": "2026-01-04T00:00:00Z"}, "until"),
    ("/api/analytics/engagement", {"bucket": "month"}, "bucket"),
    ("/api/analytics/engagement", {"since": "2020-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z",
                                   "bucket": "hour"}, "bucket"),
    ("/api/analytics/deliveries", {"since": "soon"}, "since"),
    ("/api/analytics/genre-trends", {"limit": "-1"}, "limit"),
    ("/api/analytics/genre-trends", {"limit": str(10**9)}, "limit"),
    ("/api/analytics/genre-trends", {"limit": "1.5"}, "limit"),
    ("/api/analytics/genre-trends", {"dj": "a" * 201}, "dj"),
    ("/api/analytics/genre-trends", {"platform": "twitch\x00"}, "platform"),
    # at datetime's limits: day/hour arithmetic would overflow (these were 500s)
    ("/api/analytics/genre-trends", {"since": "9999-12-31T23:30:00Z"}, "since"),
    ("/api/analytics/genre-trends", {"until": "0001-01-01T00:30:00Z"}, "until"),
    ("/api/analytics/engagement", {"until": "0001-01-01T12:00:00Z"}, "until"),
    ("/api/analytics/deliveries", {"since": "9999-12-31T00:00:00Z"}, "since"),
    # the default `until` is now: a window after it is empty by construction
    ("/api/analytics/engagement", {"since": "2999-01-01T00:00:00Z"}, "since"),
    ("/api/analytics/deliveries", {"since": "2999-01-01T00:00:00Z"}, "since"),
    # `since` alone runs until now: the bucket count is checked on the window actually used
    ("/api/analytics/engagement", {"since": "2000-01-01T00:00:00Z", "bucket": "hour"}, "bucket"),
    ("/api/analytics/deliveries", {"since": "2000-01-01T00:00:00Z", "bucket": "hour"}, "bucket"),
])
def test_bad_parameters_are_400_naming_the_parameter(api_client, path, params, field):
    response = api_client.get(path, params)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("use_rollups", [False, True])
def test_the_widest_window_is_accepted(api_client, settings, tenant, streams, use_rollups):
    if use_rollups:
        settings.ANALYTICS_ROLLUP_MARGIN = 0
        rollup_refresh(tenant=tenant)
    response = api_client.get("/api/analytics/genre-trends",
                              {"since": "0001-01-02T00:00:00Z", "until": "9999-12-30T00:00:00Z"})
    assert response.status_code == 200
    assert response.json() == {"trends": [LIQUID, DEEP, MINIMAL]}
    response = api_client.get("/api/analytics/engagement", {"until": "0001-01-20T00:00:00Z"})
    assert response.status_code == 200 and response.json()["since"] == "0001-01-02T00:00:00Z"


def test_plays_at_the_end_of_time_in_the_tail(api_client, settings, tenant, streams):
    """A sender may post any timestamp; the dirty-day ranges reach the last representable day."""
    settings.ANALYTICS_ROLLUP_MARGIN = 0
    rollup_refresh(tenant=tenant)
    f.play(streams["s2"], datetime(9999, 12, 31, 23, 59, tzinfo=UTC), "house", "deep house")
    rows = api_client.get("/api/analytics/genre-trends").json()["trends"]
    assert [(r["subgenre"], r["total_plays"]) for r in rows] == [("deep house", 3), ("liquid dnb", 2), ("minimal", 1)]
    # one dirty range, 2026-01-07 to 9999-12-31, holding two days with plays
    assert rollup_refresh(tenant=tenant) == 2
    assert api_client.get("/api/analytics/genre-trends").json()["trends"] == rows


def test_session_summary(api_client, streams):
    response = api_client.get("/api/analytics/session-summary/s1")
    assert response.status_code == 200
    body = response.json()
    assert body["session"]["dj_username"] == "djunohoo"
    assert (body["session"]["total_tracks"], body["session"]["total_interactions"],
            body["session"]["peak_viewers"]) == (3, 4, 200)
    assert body["interaction_stats"][0] == {"type": "educational", "count": 2, "avg_response": 6.0}


def test_session_summary_404_for_unknown_and_foreign_sessions(api_client, other_api_client, streams):
    assert api_client.get("/api/analytics/session-summary/unknown").status_code == 404
    assert other_api_client.get("/api/analytics/session-summary/s2").status_code == 404


def test_the_same_session_id_in_two_tenants_answers_each_its_own(api_client, other_api_client, streams):
    ours = api_client.get("/api/analytics/session-summary/s1").json()
    theirs = other_api_client.get("/api/analytics/session-summary/s1").json()
    assert (ours["session"]["total_tracks"], ours["session"]["total_responses"]) == (3, 20)
    assert (theirs["session"]["total_tracks"], theirs["session"]["total_responses"]) == (5, 500)
    assert theirs["genre_breakdown"] == [{"main_genre": "drum and bass", "subgenre": "liquid dnb", "count": 5}]


def test_tenants_see_only_their_own_plays(other_api_client, streams):
    trends = other_api_client.get("/api/analytics/genre-trends").json()["trends"]
    assert [(t["subgenre"], t["total_plays"], t["total_engagement"]) for t in trends] == [("liquid dnb", 5, 500)]


def test_engagement_and_deliveries_endpoints(api_client, streams):
    body = api_client.get("/api/analytics/engagement",
                          {"since": "2026-01-05T00:00:00Z", "until": "2026-01-08T00:00:00Z"}).json()
    assert [s["subgenre"] for s in body["subgenres"]] == ["liquid dnb", "minimal", "deep house"]
    body = api_client.get("/api/analytics/deliveries").json()
    assert body["endpoints"] == [] and body["bucket"] == "day"


def test_anonymous_is_refused(client):
    assert client.get("/api/analytics/genre-trends").status_code in (401, 403)


def test_openapi_documents_the_analytics_endpoints(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    for path in ("/api/analytics/genre-trends", "/api/analytics/session-summary/{session_id}",
                 "/api/analytics/engagement", "/api/analytics/deliveries"):
        assert "200" in schema["paths"][path]["get"]["responses"], path
    trend = schema["components"]["schemas"]["GenreTrend"]["properties"]
    assert {"total_engagement", "popular_characteristics", "average_confidence"} <= set(trend)
    params = {path: {(p["name"], p["in"], p["schema"]["type"]) for p in schema["paths"][path]["get"]["parameters"]}
              for path in ("/api/analytics/genre-trends", "/api/analytics/engagement", "/api/analytics/deliveries",
                           "/api/analytics/session-summary/{session_id}")}
    assert params["/api/analytics/genre-trends"] == {
        ("since", "query", "string"), ("until", "query", "string"), ("platform", "query", "string"),
        ("dj", "query", "string"), ("limit", "query", "integer"), ("characteristics", "query", "integer")}
    assert {"since", "until", "bucket", "platform", "dj"} == {n for n, _, _ in params["/api/analytics/engagement"]}
    assert {"since", "until", "bucket"} == {n for n, _, _ in params["/api/analytics/deliveries"]}
    assert params["/api/analytics/session-summary/{session_id}"] == {("session_id", "path", "string")}
    limit = next(p for p in schema["paths"]["/api/analytics/genre-trends"]["get"]["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 1000)


def test_dashboard_requires_login(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302 and response["Location"].startswith("/api-auth/login/")


def test_dashboard_renders_charts(client, tenant_ctx, streams):
    client.force_login(tenant_ctx.owner)
    html = client.get("/dashboard/?session=s1").content.decode()
    assert html.count('class="bar"') == 3
    assert 'data-subgenre="liquid dnb" data-plays="2" data-engagement="16"' in html
    assert html.count('class="sample"') == 4
    assert html.count('class="minute"') == 5
    assert html.count('<rect class="chat"') == 3 and html.count('<rect class="bot"') == 4
    assert html.count('class="track"') == 6  # three track changes on each of the two session charts
    assert '<b id="duration">20 min</b>' in html and '<b id="total-responses">20</b>' in html


def test_dashboard_shows_only_the_signed_in_users_tenant(client, other_tenant_ctx, streams):
    client.force_login(other_tenant_ctx.owner)
    html = client.get("/dashboard/").content.decode()
    assert html.count('class="bar"') == 1 and 'data-subgenre="liquid dnb" data-plays="5"' in html
    assert "djunohoo · Deep House Vibes" in html and html.count("<option") == 1  # globex's own s1 only
    html = client.get("/dashboard/?session=s2").content.decode()  # acme's session, by id
    assert "No session “s2” in globex." in html and 'id="viewer-chart"' not in html


def test_dashboard_for_an_account_without_a_tenant(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-123")
    client.force_login(admin)
    response = client.get("/dashboard/")
    assert response.status_code == 403 and b"No tenant for root" in response.content


def test_dashboard_empty_states(client, tenant_ctx):
    client.force_login(tenant_ctx.owner)
    html = client.get("/dashboard/").content.decode()
    assert "No plays yet" in html and "No sessions yet" in html and "No webhook endpoints yet" in html
    assert "<svg" not in html


def test_admin_links_to_the_dashboard(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-123")
    client.force_login(admin)
    assert 'href="/dashboard/"' in client.get("/admin/").content.decode()


def test_window_errors_say_what_is_wrong(api_client):
    def error(path, **params):
        return api_client.get(f"/api/analytics/{path}", params).json()

    assert error("genre-trends", since="9999-12-31T00:00:00Z") == {
        "since": ["must be between 0001-01-02 and 9999-12-30"]}
    assert error("engagement", until="0001-01-02T00:00:00Z") == {"until": ["must be later than 0001-01-02"]}
    assert error("engagement", since="2999-01-01T00:00:00Z") == {
        "since": ["must be earlier than until (now, when not given)"]}
    assert error("deliveries", since="2026-01-02T00:00:00Z", until="2026-01-01T00:00:00Z") == {
        "until": ["must be later than since"]}


def test_an_inbound_source_key_cannot_read_analytics(tenant, streams):
    from rest_framework.test import APIClient

    from webhooks.inbound.services import source_create

    client = APIClient()
    key = source_create(tenant=tenant, name="assistant", kind="stream-assistant")[1]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/analytics/genre-trends").status_code == 401
    assert client.get("/api/analytics/session-summary/s1").status_code == 401


def test_dashboard_marks_a_live_session(client, tenant_ctx, streams):
    client.force_login(tenant_ctx.owner)
    html = client.get("/dashboard/?session=s2").content.decode()
    assert 'class="badge live" id="session-status">live<' in html
    assert 'Duration so far<b id="duration">5 min</b>' in html  # to the chat at 10:05
