"""Under /api/ every error is JSON, whichever layer answers it."""

import pytest
from django.test import RequestFactory

from core.views import server_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/webhooks/abc", "/api/v1/deliveries/%C2%84", "/api/v1/no-such-thing",
                                  "/api/v1/webhooks/abc/secret"])
def test_an_unroutable_api_path_is_a_json_404(api_client, path):
    response = api_client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_a_page_outside_the_api_keeps_django_s_html_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_server_error_under_the_api_is_json():
    response = server_error(RequestFactory().get("/api/v1/webhooks"))
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"


def test_a_service_s_django_validation_error_is_a_400_naming_the_field(api_client):
    """Converted once, by the exception handler (the view no longer wraps its service calls)."""
    response = api_client.post("/api/v1/webhooks", {"url": "ftp://127.0.0.1/x"}, format="json")
    assert response.status_code == 400
    assert "url" in response.json()


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/listen/start", {"timestamp": 0}, "timestamp"),
    ("/api/listen/stop", {"timestamp": 1.5}, "timestamp"),
    ("/api/v1/tokens", {"name": 0}, "name"),
    ("/api/v1/inbound-sources", {"name": "s", "kind": "recorder", "drop_previous_secrets": "0"},
     "drop_previous_secrets"),
])
def test_a_json_value_of_the_wrong_type_is_a_400_naming_the_field(api_client, path, body, field):
    response = api_client.post(path, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_a_revoked_token_is_gone_from_the_api(api_client):
    created = api_client.post("/api/v1/tokens", {"name": "ci"}, format="json").json()
    assert api_client.delete(f"/api/v1/tokens/{created['id']}").status_code == 204
    assert api_client.get(f"/api/v1/tokens/{created['id']}").status_code == 404
