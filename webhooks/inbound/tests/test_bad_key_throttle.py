"""Wrong source keys from one address get 429 past the limit; the right key still works from there."""

import json
import uuid

import pytest

from recordings.tests.factories import RECORDER_CURL_EXAMPLE, add_member
from webhooks.inbound.models import InboundMessage
from webhooks.inbound.tests.factories import make_source

pytestmark = pytest.mark.django_db

REC = "/recordings/webhook/"


@pytest.fixture(autouse=True)
def _low_limit(settings):
    settings.STREAMHOOK_BAD_CREDENTIALS_LIMIT = 5
    settings.STREAMHOOK_BAD_CREDENTIALS_WINDOW = 60


def _address() -> str:
    # The counters live in the shared cache, across runs: every test its own /64.
    return f"2001:db8:{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}::7"


def _post(client, address, **headers):
    body = json.dumps(RECORDER_CURL_EXAMPLE)
    return client.generic("POST", REC, body, content_type="application/json", REMOTE_ADDR=address, **headers)


def test_wrong_keys_get_429_with_retry_after_once_over_the_limit(client, tenant):
    add_member(tenant, "souvik@fyelabs.com")
    _, key = make_source(tenant, kind="recorder")
    address = _address()
    wrong = [_post(client, address, HTTP_X_API_KEY=f"wrong-{n}") for n in range(4)]
    wrong += [_post(client, address, HTTP_AUTHORIZATION=f"Bearer wrong-{n}") for n in range(2)]
    wrong += [_post(client, address, HTTP_X_API_KEY="ключ")]  # not even ASCII: counted as well
    assert [r.status_code for r in wrong] == [401] * 5 + [429] * 2
    assert 1 <= int(wrong[-1]["Retry-After"]) <= 60
    assert wrong[-1].json() == {"status": "error",
                                "message": "Too many invalid source keys from this address; try again later."}
    assert not InboundMessage.objects.exists()
    assert _post(client, address, HTTP_X_API_KEY=key).status_code == 201
    other = _address()
    assert _post(client, other, HTTP_X_API_KEY="wrong").status_code == 401
