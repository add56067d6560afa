"""No request body, however deep or mislabelled, gets a 500; JSON labelled as a form is read as JSON."""

import pytest

pytestmark = pytest.mark.django_db

DEPTH = 20000


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_json_nested_too_deeply_is_a_400(api_client, content_type):
    body = '{"url": "http://127.0.0.1:9/", "template": ' + '{"a": ' * DEPTH + '"x"' + '}' * DEPTH + '}'
    response = api_client.generic("POST", "/api/v1/webhooks", body, content_type=content_type)
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]


def test_json_labelled_as_a_form_is_read_as_json(api_client):
    body = '{"url": "http://127.0.0.1:9/", "events": ["stream.live"]}'
    response = api_client.generic("POST", "/api/v1/webhooks", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 201 and response.json()["events"] == ["stream.live"]


def test_a_real_form_is_still_a_form(api_client):
    response = api_client.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/", "description": "{not json"})
    assert response.status_code == 201 and response.json()["description"] == "{not json"
