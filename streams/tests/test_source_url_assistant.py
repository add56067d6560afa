"""The DJ stream assistant, unmodified, against a live Streamhook: only its base URL changes (the source URL).

Its client (`streams/client.py`, the document's `StreamAssistantWebhookClient`), its demo
(`simulate_stream`, the document's `stream_webhook_client_demo.py`) and its analytics curls, with
no key, no header of ours: just `WEBHOOK_BASE_URL = <source URL>`.
"""

import io

import pytest
import requests
from django.core.management import call_command

from core.crypto import reveal
from streams.client import StreamAssistantWebhookClient
from streams.models import ChatInteraction, StreamSession, TrackPlay
from webhooks.inbound.services import source_create


@pytest.fixture(autouse=True)
def default_window(settings):
    settings.STREAMHOOK_EVENT_TIME_WINDOW = "7d,1d"


@pytest.fixture
def base_url(live_server, transactional_db, tenant) -> str:
    source = source_create(tenant=tenant, name="DJ stream assistant", kind="stream-assistant")[0]
    return f"{live_server.url}/s/{reveal(source.url_secret)}"


def test_the_documents_client_snippet_works_with_only_the_base_url(base_url, tenant):
    # The document's "Send Data from Stream Assistant", word for word but for the URL.
    webhook_client = StreamAssistantWebhookClient(base_url)
    track_data = {
        "artist": "LTJ Bukem",
        "title": "Music",
        "classification": {
            "main_genre": "drum and bass",
            "subgenre": "liquid dnb",
            "confidence": 0.96,
            "characteristics": ["atmospheric", "jazzy", "melodic"],
        },
    }
    stream_info = {"twitch_username": "djunohoo", "stream_title": "Deep House Vibes", "viewer_count": 127}
    result = webhook_client.send_track_classification(track_data, stream_info)
    assert result.ok and result.status_code == 201, result
    chat = webhook_client.send_chat_interaction(
        {"message_sent": "🌊 Liquid DnB detected! Notice those smooth jazz influences...",
         "engagement_type": "educational", "audience_reaction": "positive", "response_count": 8,
         "emoji_reactions": {"🌊": 5, "🔥": 3}}, stream_info)
    assert chat.ok, chat
    assert webhook_client.send_stream_stats(stream_info, "stream_update").ok
    webhook_client.close()

    play = TrackPlay.objects.get(session__tenant=tenant, session__session_id=webhook_client.session_id)
    assert (play.artist, play.subgenre, play.characteristics) == ("LTJ Bukem", "liquid dnb",
                                                                 ["atmospheric", "jazzy", "melodic"])
    assert ChatInteraction.objects.get(session=play.session).emoji_reactions == {"🌊": 5, "🔥": 3}


def test_the_demo_then_the_analytics_curls_with_only_the_base_url(base_url, tenant, live_server):
    out = io.StringIO()
    call_command("simulate_stream", url=base_url, tracks=6, speed=0, seed=11, session="demo-1", stdout=out)
    assert "0 failed" in out.getvalue(), out.getvalue()
    session = StreamSession.objects.get(tenant=tenant, session_id="demo-1")
    assert session.status == "offline" and session.tracks.count() == 6

    # "curl http://localhost:8000/api/analytics/genre-trends", against the source URL.
    trends = requests.get(f"{base_url}/api/analytics/genre-trends", timeout=10)
    assert trends.status_code == 200, trends.text
    assert sum(row["total_plays"] for row in trends.json()["trends"]) == 6  # the document's shape
    summary = requests.get(f"{base_url}/api/analytics/session-summary/demo-1", timeout=10)
    assert summary.status_code == 200, summary.text
    assert summary.json()["session"]["total_tracks"] == 6 and summary.json()["genre_breakdown"]
    assert requests.get(f"{base_url}/api/analytics/session-summary/nope", timeout=10).status_code == 404
    # Read-only: the analytics paths refuse writes, and nothing else of the API is reachable this way.
    assert requests.post(f"{base_url}/api/analytics/genre-trends", json={}, timeout=10).status_code == 405
    assert requests.get(f"{base_url}/api/v1/streams", timeout=10).status_code == 404
    # Without the source URL, the same curl is (still) a 401.
    assert requests.get(f"{live_server.url}/api/analytics/genre-trends", timeout=10).status_code == 401


def test_an_analytics_source_reads_but_cannot_post(live_server, transactional_db, tenant, other_tenant):
    reader = source_create(tenant=tenant, name="dashboard", kind="analytics")[0]
    url = f"{live_server.url}/s/{reveal(reader.url_secret)}"
    assert requests.get(f"{url}/api/analytics/genre-trends", timeout=10).json() == {"trends": []}
    posted = StreamAssistantWebhookClient(url).send_stream_stats({"viewer_count": 3}, "stream_start")
    assert posted.status_code == 403
    # Another tenant's data is never in this tenant's analytics.
    theirs = source_create(tenant=other_tenant, name="theirs", kind="stream-assistant")[0]
    their_client = StreamAssistantWebhookClient(f"{live_server.url}/s/{reveal(theirs.url_secret)}",
                                                session_id="theirs-1")
    assert their_client.send_stream_stats({"viewer_count": 3}, "stream_start").ok
    assert requests.get(f"{url}/api/analytics/session-summary/theirs-1", timeout=10).status_code == 404
