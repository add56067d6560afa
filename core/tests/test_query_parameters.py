"""A query parameter the API can't use is a 400 naming it, on every list; never a 500, never ignored."""

from datetime import UTC, datetime

import pytest
from django.db import connection

from analytics.tests.factories import session
from webhooks.models import Endpoint

pytestmark = pytest.mark.django_db

WINDOWED_LISTS = [  # each filters by `since`/`until` on a timestamptz column
    "/api/v1/streams", "/api/v1/tracks", "/api/v1/chat-messages", "/api/v1/chat-interactions",
    "/api/v1/recordings", "/api/v1/inbound-messages",
]


@pytest.fixture
def endpoint(tenant):
    return Endpoint.objects.create(tenant=tenant, url="http://127.0.0.1:9/hook")


@pytest.mark.parametrize("path", [*WINDOWED_LISTS, "endpoint-deliveries"])
@pytest.mark.parametrize("param", ["since", "until"])
@pytest.mark.parametrize("value", ["2026-01-01T00:00:00+16:00", "2026-01-01T00:00:00-23:59"])
def test_a_time_zone_offset_the_database_cannot_store_is_a_400_naming_the_parameter(
        api_client, endpoint, path, param, value):
    """PostgreSQL's timestamptz refuses offsets of ±16:00 and more (a DataError, once a 500)."""
    path = f"/api/v1/webhooks/{endpoint.pk}/deliveries" if path == "endpoint-deliveries" else path
    response = api_client.get(path, {param: value})
    assert response.status_code == 400, response.content
    assert param in response.json()
    assert "offset" in response.json()[param][0]


@pytest.mark.parametrize("path", [*WINDOWED_LISTS, "endpoint-deliveries"])
@pytest.mark.parametrize(("param", "value"), [("since", "0001-01-01T00:00:00+01:00"),
                                              ("until", "9999-12-31T23:59:59-01:00")])
def test_a_time_beyond_the_calendar_in_utc_is_a_400_naming_the_parameter(api_client, endpoint, path, param, value):
    """Year 0 or 10000 once converted to UTC: an OverflowError, once a 500 on SQLite (`make run`)."""
    path = f"/api/v1/webhooks/{endpoint.pk}/deliveries" if path == "endpoint-deliveries" else path
    response = api_client.get(path, {param: value})
    assert response.status_code == 400, response.content
    assert response.json() == {param: ["Datetime value out of range."]}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the DataError was PostgreSQL's")
@pytest.mark.parametrize("path", WINDOWED_LISTS)
def test_the_largest_offset_postgresql_stores_still_filters(api_client, tenant, path):
    session(tenant, "s1", started_at=datetime(2026, 1, 1, 12, tzinfo=UTC))
    response = api_client.get(path, {"since": "2026-01-02T03:59:00+15:59"})
    assert response.status_code == 200, response.content
    if path == "/api/v1/streams":  # 2026-01-01T12:00Z, one minute after the bound
        assert [row["session_id"] for row in response.json()["results"]] == ["s1"]


@pytest.mark.parametrize("query", [{"ordering": "no_such_field"}, {"ordering": "started_at,password"},
                                   {"ordering": "--started_at"}])
def test_an_unknown_ordering_is_a_400_naming_ordering(api_client, query):
    response = api_client.get("/api/v1/streams", query)
    assert response.status_code == 400
    assert "ordering" in response.json()


def test_a_known_ordering_orders(api_client, tenant):
    session(tenant, "early", started_at=datetime(2026, 1, 1, tzinfo=UTC))
    session(tenant, "late", started_at=datetime(2026, 1, 2, tzinfo=UTC))
    rows = api_client.get("/api/v1/streams", {"ordering": "-started_at"}).json()["results"]
    assert [row["session_id"] for row in rows] == ["late", "early"]


def test_ordering_by_a_serializer_field_that_is_no_column_is_refused_not_a_500(api_client):
    response = api_client.get("/api/v1/inbound-sources", {"ordering": "webhook_url"})
    assert response.status_code == 400
    assert "ordering" in response.json()


@pytest.mark.parametrize(("param", "value"), [("page_size", "-1041"), ("page_size", "0"), ("page_size", "1.5"),
                                              ("page_size", "ten"), ("page", "0"), ("page", "x")])
def test_a_page_or_page_size_out_of_range_is_a_400_naming_it(api_client, param, value):
    response = api_client.get("/api/v1/webhooks", {param: value})
    assert response.status_code == 400
    assert param in response.json()


def test_a_page_size_over_the_cap_is_capped(api_client, tenant):
    for n in range(3):
        Endpoint.objects.create(tenant=tenant, url=f"http://127.0.0.1:9/{n}")
    assert len(api_client.get("/api/v1/webhooks", {"page_size": "100000"}).json()["results"]) == 3


def test_a_page_past_the_last_is_a_json_404(api_client):
    response = api_client.get("/api/v1/webhooks", {"page": "7"})
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


@pytest.mark.parametrize(("path", "param"), [("/api/v1/recordings", "date"), ("/api/v1/streams", "status"),
                                             ("/api/v1/streams", "until"), ("/api/v1/inbound-messages", "source"),
                                             ("/api/analytics/genre-trends", "until")])
def test_an_empty_value_is_a_400_not_no_filter(api_client, path, param):
    response = api_client.get(path, {param: ""})
    assert response.status_code == 400
    assert param in response.json()


def test_an_empty_free_text_filter_is_allowed(api_client):
    assert api_client.get("/api/v1/streams", {"platform": ""}).status_code == 200


@pytest.mark.parametrize(("path", "value"), [("/api/v1/webhooks", "null"), ("/api/v1/inbound-sources", "null"),
                                             ("/api/v1/inbound-sources", "2")])
def test_a_boolean_filter_refuses_what_is_not_a_boolean(api_client, path, value):
    response = api_client.get(path, {"is_active": value})
    assert response.status_code == 400
    assert "is_active" in response.json()
