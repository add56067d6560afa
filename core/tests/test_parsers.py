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


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
@pytest.mark.parametrize("field", ["signature_scheme", "payload_style", "profile", "description"])
def test_a_lone_surrogate_in_any_field_is_a_400_naming_it(api_client, content_type, field):
    """A choice field once echoed it into its error message, which the JSON renderer can't encode: a 500."""
    body = '{"url": "http://127.0.0.1:9/", "' + field + '": "\\ud800"}'
    response = api_client.generic("POST", "/api/v1/webhooks", body, content_type=content_type)
    assert response.status_code == 400, response.content
    assert "surrogates" in response.json()[field][0]


@pytest.mark.parametrize(("example", "path", "words"), [
    ('{"\\ud800": 1}', [], "surrogates"),
    ('{"k": "\\ud800x"}', ["k"], "surrogates"),
    ('{"k": "a\\u0000"}', ["k"], "NUL"),
    ('{"k": [1, 1e400]}', ["k", "1"], "finite"),
])
def test_an_event_type_example_that_cannot_be_kept_is_a_400_and_nothing_is_stored(api_client, example, path,
                                                                                   words):
    """Such an example was stored on SQLite and broke the tenant's catalogue for every later read."""
    from webhooks.models import EventType

    body = '{"name": "acme.thing", "schema": {"type": "object"}, "example": ' + example + "}"
    response = api_client.generic("POST", "/api/v1/event-types", body, content_type="application/json")
    assert response.status_code == 400, response.content
    errors = response.json()["example"]
    for key in path:
        errors = errors[key]
    assert words in errors[0]
    assert not EventType.objects.exists()
    assert api_client.get("/api/v1/webhooks/events").status_code == 200


def test_a_body_that_is_only_an_unstorable_string_is_a_400(api_client):
    response = api_client.generic("POST", "/api/v1/webhooks", '"\\u0000"', content_type="application/json")
    assert response.status_code == 400
    assert "NUL" in response.json()["non_field_errors"][0]
