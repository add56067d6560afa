"""`/api/v1/recordings` (tenant-scoped, filtered, paginated) and the admin's recording pages."""

import json

import pytest

from recordings.models import Recording
from recordings.tests.factories import RECORDER_FULL_EXAMPLE, add_member, payload, recorder_source

pytestmark = pytest.mark.django_db
URL = "/api/v1/recordings"


@pytest.fixture
def recordings(client, tenant, other_tenant):
    add_member(tenant, "souvik@fyelabs.com")
    add_member(tenant, "ana@fyelabs.com")
    _, key = recorder_source(tenant)
    for rid, email, created_at in [(1, "souvik@fyelabs.com", "2025-10-01 10:00:00"),
                                   (2, "souvik@fyelabs.com", "2025-10-20 10:00:00"),
                                   (3, "ana@fyelabs.com", "2025-10-25 01:55:59.374860")]:
        data = payload(RECORDER_FULL_EXAMPLE, recording_id=rid, created_at=created_at,
                       user_info={"email": email, "username": email.split("@")[0]})
        response = client.generic("POST", "/recordings/webhook/", json.dumps(data), content_type="application/json",
                                  HTTP_X_API_KEY=key)
        assert response.status_code == 201
    Recording.objects.create(tenant=other_tenant, recording_id="1", title="not yours")


def test_list_is_tenant_scoped_and_paginated(api_client, recordings):
    body = api_client.get(URL, {"page_size": 2}).json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    assert "not yours" not in json.dumps(body)


def test_filter_by_user_email_and_dates(api_client, recordings):
    by_user = api_client.get(URL, {"user_email": "SOUVIK@fyelabs.com"}).json()
    assert sorted(r["recording_id"] for r in by_user["results"]) == ["1", "2"]
    by_user = api_client.get(URL, {"user": "Ana@FyeLabs.com"}).json()
    assert [r["recording_id"] for r in by_user["results"]] == ["3"]
    by_username = api_client.get(URL, {"user": "souvik"}).json()
    assert sorted(r["recording_id"] for r in by_username["results"]) == ["1", "2"]
    assert api_client.get(URL, {"user": "nobody@x.test"}).json()["count"] == 0
    since = api_client.get(URL, {"since": "2025-10-15T00:00:00Z"}).json()
    assert sorted(r["recording_id"] for r in since["results"]) == ["2", "3"]
    window = api_client.get(URL, {"since": "2025-10-15T00:00:00Z", "until": "2025-10-21T00:00:00Z"}).json()
    assert [r["recording_id"] for r in window["results"]] == ["2"]
    day = api_client.get(URL, {"date": "2025-10-25"}).json()
    assert [r["recording_id"] for r in day["results"]] == ["3"]


@pytest.mark.parametrize("params", [
    {"date": "bogus"}, {"since": "yesterday"}, {"until": "2025-13-01T00:00:00Z"}, {"status": "nope"},
    {"origin": "fax"}, {"user": "a\x00b"}, {"user_email": "a\x00b"}, {"recording_id": "\x00"},
])
def test_bad_filter_values_are_400_naming_the_filter(api_client, recordings, params):
    response = api_client.get(URL, params)
    assert response.status_code == 400, response.content
    assert list(response.json()) == list(params)


def test_pages_beyond_the_end_are_404_not_500(api_client, recordings):
    assert api_client.get(URL, {"page": 99}).status_code == 404
    assert api_client.get(URL, {"page": "abc"}).status_code == 400  # names `page`
    assert api_client.get(URL, {"page_size": 1, "page": 3}).json()["results"][0]["recording_id"] == "1"


def test_detail_has_files_and_raw_payload(api_client, recordings):
    pk = Recording.objects.get(recording_id="3", tenant__slug="acme").pk
    body = api_client.get(f"{URL}/{pk}").json()
    assert body["user_email"] == "ana@fyelabs.com"
    assert body["files"]["video"].endswith("/3/video.mkv")
    assert body["recorded_at"].startswith("2025-10-25T01:55:59")
    assert body["raw_payload"]["upload_source"] == "background_thread"


def test_other_tenant_cannot_read(other_api_client, recordings):
    pk = Recording.objects.get(recording_id="3", tenant__slug="acme").pk
    assert other_api_client.get(f"{URL}/{pk}").status_code == 404
    assert other_api_client.get(URL).json()["count"] == 1


def test_read_only(api_client, recordings):
    assert api_client.post(URL, {}, format="json").status_code == 405


def test_admin_lists_with_file_links_and_search(admin_client, recordings):
    page = admin_client.get("/admin/recordings/recording/", {"q": "ana@fyelabs.com"})
    assert page.status_code == 200
    assert b'href="https://s3.us-west-1.idrivee2.com/fyemeet/3/video.mkv"' in page.content
    assert b"/1/video.mkv" not in page.content  # search narrowed it to ana's recording
    pk = Recording.objects.get(recording_id="3", tenant__slug="acme").pk
    assert admin_client.get(f"/admin/recordings/recording/{pk}/change/").status_code == 200


def test_admin_does_not_link_non_http_urls():
    from recordings.admin import RecordingAdmin

    html = RecordingAdmin.file_links(None, Recording(files={"video": "javascript:alert(1)", "t": "https://x/y"}))
    assert "javascript" not in html and 'href="https://x/y"' in html
