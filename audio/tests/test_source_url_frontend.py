"""The audio frontend, unmodified, against a live Streamhook: only its API base URL changes (the source URL).

It calls `/api/listen/start` and `/stop` with its `ListenRequest` (`{"timestamp": ...}`) and
`GET /api/listen/status`, with no credentials.
"""

from datetime import UTC, datetime

import pytest
import requests

from audio.models import ListeningSession
from core.crypto import reveal
from webhooks.inbound.services import source_create


@pytest.fixture
def api(live_server, transactional_db, tenant) -> str:
    source = source_create(tenant=tenant, name="audio frontend", kind="audio-frontend")[0]
    return f"{live_server.url}/s/{reveal(source.url_secret)}"


def _listen_request() -> dict:
    return {"timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z")}  # JavaScript's toISOString()


def test_start_status_stop_with_only_the_base_url(api, tenant):
    assert requests.get(f"{api}/api/listen/status", timeout=10).json() == {"isListening": False, "sessionId": None}
    started = requests.post(f"{api}/api/listen/start", json=_listen_request(), timeout=10)
    assert started.status_code == 200, started.text
    body = started.json()
    assert set(body) == {"success", "message", "sessionId", "webhookUrl"}
    assert body["success"] is True and body["message"] == "Listening started successfully"
    status = requests.get(f"{api}/api/listen/status", timeout=10).json()
    assert status == {"isListening": True, "sessionId": body["sessionId"]}
    stopped = requests.post(f"{api}/api/listen/stop", json=_listen_request(), timeout=10)
    assert stopped.json() == {"success": True, "message": "Listening stopped successfully",
                              "sessionId": body["sessionId"]}
    session = ListeningSession.objects.get(session_id=body["sessionId"])
    assert session.tenant == tenant and session.status == "stopped"


def test_a_bad_listen_request_is_a_400_naming_the_field(api):
    response = requests.post(f"{api}/api/listen/start", json={"timestamp": ["not", "text"]}, timeout=10)
    assert response.status_code == 400 and "timestamp" in response.json()


def test_other_kinds_urls_and_unknown_ones_cannot_listen(live_server, transactional_db, tenant):
    recorder = source_create(tenant=tenant, name="recorder", kind="recorder")[0]
    for base in (f"{live_server.url}/s/{reveal(recorder.url_secret)}", f"{live_server.url}/s/unknown"):
        assert requests.post(f"{base}/api/listen/start", json=_listen_request(), timeout=10).status_code == 404
    assert not ListeningSession.objects.exists()
    # Without a source URL the frontend's call still needs a token.
    assert requests.get(f"{live_server.url}/api/listen/status", timeout=10).status_code == 401
