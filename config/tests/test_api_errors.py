"""Errors Django raises before a view reads the data still answer like the API: JSON, with a reason."""

import json
import logging

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/webhooks", "/api/v1/inbound-sources", "/api/v1/tokens"])
def test_a_body_over_the_upload_limit_is_a_json_413_naming_the_limit(api_client, settings, path):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"name": "x", "url": "http://127.0.0.1:9/x", "description": "x" * 20_000})
    response = api_client.generic("POST", path, body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Request body too large: the limit is 10000 bytes."}


def test_urllib3_request_lines_are_not_logged_even_at_debug(settings):
    """urllib3 logs `GET /hook?token=...` at DEBUG: a subscriber's URL credential in our logs."""
    assert logging.getLogger("urllib3").getEffectiveLevel() >= logging.WARNING
    assert settings.LOGGING["loggers"]["urllib3"]["level"] == "WARNING"
