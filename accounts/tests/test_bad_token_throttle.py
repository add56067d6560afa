"""Wrong API tokens from one address get 429 past the limit; a right token still works from there."""

import uuid

import pytest


@pytest.fixture(autouse=True)
def _low_limit(settings):
    settings.STREAMHOOK_BAD_CREDENTIALS_LIMIT = 5
    settings.STREAMHOOK_BAD_CREDENTIALS_WINDOW = 60


def _address() -> str:
    # The counters live in the shared cache, across runs: every test its own /64.
    return f"2001:db8:{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}::7"


@pytest.mark.django_db
def test_wrong_tokens_get_429_with_retry_after_once_over_the_limit(client, tenant_ctx):
    address = _address()
    statuses = [client.get("/api/v1/webhooks", HTTP_AUTHORIZATION=f"Bearer shk_wrong{n}", REMOTE_ADDR=address)
                for n in range(8)]
    assert [r.status_code for r in statuses] == [401] * 5 + [429] * 3
    assert 1 <= int(statuses[-1]["Retry-After"]) <= 60
    assert "Too many invalid API tokens" in statuses[-1].json()["detail"]
    right = client.get("/api/v1/webhooks", HTTP_AUTHORIZATION=f"Bearer {tenant_ctx.token_key}", REMOTE_ADDR=address)
    assert right.status_code == 200


@pytest.mark.django_db
def test_a_forged_x_forwarded_for_does_not_escape_the_limit(client):
    address = _address()
    statuses = [client.get("/api/v1/webhooks", HTTP_AUTHORIZATION="Bearer shk_wrong", REMOTE_ADDR=address,
                           HTTP_X_FORWARDED_FOR=_address()).status_code for n in range(7)]
    assert statuses == [401] * 5 + [429] * 2
