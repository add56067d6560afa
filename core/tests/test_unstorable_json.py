"""JSON that nothing downstream can keep (NUL, lone surrogates, 1e400) never gets a 500 and is never stored."""

import pytest

from webhooks.models import EventType

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
@pytest.mark.parametrize("field", ["signature_scheme", "payload_style", "profile", "description"])
def test_a_lone_surrogate_in_a_field_is_a_400_naming_it(api_client, content_type, field):
    """A choice field echoes the value into its error message, which DRF's renderer couldn't encode: a 500."""
    body = '{"url": "http://127.0.0.1:9/", "' + field + '": "\\ud800"}'
    response = api_client.generic("POST", "/api/v1/webhooks", body, content_type=content_type)
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_an_echoed_surrogate_is_answered_as_its_escape(api_client):
    body = '{"url": "http://127.0.0.1:9/", "signature_scheme": "\\ud800"}'
    response = api_client.generic("POST", "/api/v1/webhooks", body, content_type="application/json")
    assert b'\\ud800' in response.content
    assert response.json()["signature_scheme"] == ['"\ud800" is not a valid choice.']


@pytest.mark.parametrize(("field", "value", "path", "words"), [
    ("example", '{"\\ud800": 1}', [], "surrogates"),
    ("example", '{"k": "\\ud800x"}', ["k"], "surrogates"),
    ("example", '{"k": "a\\u0000"}', ["k"], "NUL"),
    ("example", '{"k": [1, 1e400]}', ["k", "1"], "finite"),
    ("schema", '{"type": "object", "title": "\\u0000"}', ["title"], "NUL"),
])
def test_an_event_type_that_cannot_be_kept_is_a_400_and_nothing_is_stored(api_client, field, value, path, words):
    """Such an example was stored on SQLite and broke the tenant's catalogue for every later read."""
    parts = {"example": "{}", "schema": '{"type": "object"}', field: value}
    body = '{"name": "acme.thing", "schema": ' + parts["schema"] + ', "example": ' + parts["example"] + "}"
    response = api_client.generic("POST", "/api/v1/event-types", body, content_type="application/json")
    assert response.status_code == 400, response.content
    errors = response.json()[field]
    for key in path:
        errors = errors[key]
    assert words in errors[0]
    assert not EventType.objects.exists()
    assert api_client.get("/api/v1/webhooks/events").status_code == 200


def test_an_endpoint_template_that_cannot_be_kept_is_a_400_naming_it(api_client):
    body = '{"url": "http://127.0.0.1:9/", "template": {"stream.live": {"a\\u0000": "session_id"}}}'
    response = api_client.generic("POST", "/api/v1/webhooks", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert "NUL" in response.json()["template"]["stream.live"][0]


def test_keys_a_serializer_ignores_may_hold_anything(api_client):
    """Unknown keys are ignored (the schema allows them), whatever they hold."""
    body = '{"url": "http://127.0.0.1:9/", "\\u0000\\ud800": ["\\ud800", 1e400]}'
    response = api_client.generic("POST", "/api/v1/webhooks", body, content_type="application/json")
    assert response.status_code == 201, response.content
