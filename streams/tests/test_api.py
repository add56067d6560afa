"""The read API: tenant-scoped, filtered by session, time and genre, paginated."""

from datetime import UTC, datetime, timedelta

import pytest

from streams import services
from streams.services import StreamInfo

T0 = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def stream(tenant):
    services.session_start(tenant=tenant, session_id="s-1", at=at(0),
                           info=StreamInfo("twitch", "djunohoo", "Deep House Vibes", 20))
    services.track_play_record(tenant=tenant, session_id="s-1", at=at(1), artist="Kerri Chandler", title="Rain",
                               main_genre="house", subgenre="deep house", confidence=0.9)
    services.track_play_record(tenant=tenant, session_id="s-1", at=at(6), artist="LTJ Bukem", title="Music",
                               main_genre="drum and bass", subgenre="liquid dnb", confidence=0.96)
    services.chat_interaction_record(tenant=tenant, session_id="s-1", at=at(7), message_sent="liquid!",
                                     engagement_type="educational", response_count=8)
    services.chat_message_record(tenant=tenant, session_id="s-1", message_id="m1", created_at=at(8),
                                 user_name="GamerPro", message="Great stream!")
    services.session_start(tenant=tenant, session_id="s-2", at=at(100), info=StreamInfo(platform="realcast"))
    return tenant


@pytest.mark.django_db
def test_streams_list_and_detail_by_session_id(api_client, stream):
    body = api_client.get("/api/v1/streams").json()
    assert body["count"] == 2 and {s["session_id"] for s in body["results"]} == {"s-1", "s-2"}
    detail = api_client.get("/api/v1/streams/s-1").json()
    assert (detail["dj_username"], detail["status"], detail["peak_viewers"]) == ("djunohoo", "live", 20)
    assert api_client.get("/api/v1/streams?platform=realcast").json()["count"] == 1
    assert api_client.get("/api/v1/streams?genre=liquid%20dnb").json()["results"][0]["session_id"] == "s-1"
    assert api_client.get("/api/v1/streams?since=2026-11-22T21:00:00Z").json()["count"] == 1


@pytest.mark.django_db
def test_tracks_filter_by_session_time_and_genre(api_client, stream):
    assert api_client.get("/api/v1/tracks?session=s-1").json()["count"] == 2
    assert api_client.get("/api/v1/tracks?session=s-2").json()["count"] == 0
    rows = api_client.get("/api/v1/tracks?genre=House").json()["results"]
    assert [r["title"] for r in rows] == ["Rain"] and rows[0]["session_id"] == "s-1"
    assert api_client.get("/api/v1/tracks?subgenre=liquid%20dnb").json()["count"] == 1
    window = api_client.get("/api/v1/tracks", {"since": "2026-11-22T20:05:00Z", "until": "2026-11-22T20:10:00Z"})
    assert [r["artist"] for r in window.json()["results"]] == ["LTJ Bukem"]
    assert api_client.get("/api/v1/tracks?since=yesterday").status_code == 400


@pytest.mark.django_db
def test_chat_interactions_and_messages(api_client, stream):
    rows = api_client.get("/api/v1/chat-interactions?session=s-1&genre=drum%20and%20bass").json()["results"]
    assert len(rows) == 1 and rows[0]["response_count"] == 8 and rows[0]["track_id"] is not None
    assert api_client.get("/api/v1/chat-interactions?genre=house").json()["count"] == 0
    messages = api_client.get("/api/v1/chat-messages/?session=s-1").json()["results"]
    assert [m["message"] for m in messages] == ["Great stream!"]


@pytest.mark.django_db
def test_pagination(api_client, tenant):
    for i in range(7):
        services.track_play_record(tenant=tenant, session_id="p", at=at(i), artist="A", title=f"T{i}")
    page = api_client.get("/api/v1/tracks?page_size=3&page=2").json()
    assert page["count"] == 7 and len(page["results"]) == 3 and page["next"] and page["previous"]


@pytest.mark.django_db
def test_another_tenant_sees_nothing_and_gets_404(other_api_client, stream):
    assert other_api_client.get("/api/v1/streams").json()["count"] == 0
    assert other_api_client.get("/api/v1/tracks").json()["count"] == 0
    assert other_api_client.get("/api/v1/chat-messages").json()["count"] == 0
    assert other_api_client.get("/api/v1/streams/s-1").status_code == 404
    track_id = services.TrackPlay.objects.first().pk
    assert other_api_client.get(f"/api/v1/tracks/{track_id}").status_code == 404


@pytest.mark.django_db
def test_read_api_is_read_only_and_needs_a_token(api_client, client, stream):
    assert api_client.delete("/api/v1/streams/s-1").status_code == 405
    assert api_client.post("/api/v1/streams", {"session_id": "x"}, format="json").status_code == 405
    assert client.get("/api/v1/streams").status_code == 401


@pytest.mark.django_db
def test_openapi_documents_the_stream_endpoints(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    for path in ("/api/v1/streams", "/api/v1/tracks", "/api/v1/chat-messages", "/api/v1/chat-interactions"):
        assert path in schema["paths"], path  # as the API spells its paths: no trailing slash
    params = {p["name"] for p in schema["paths"]["/api/v1/tracks"]["get"]["parameters"]}
    assert {"session", "since", "until", "genre", "page"} <= params


@pytest.mark.django_db
def test_admin_lists_sessions_and_shows_tracks_and_chat_inline(admin_client, stream):
    listing = admin_client.get("/admin/streams/streamsession/?status__exact=live&platform__exact=twitch")
    assert listing.status_code == 200 and b"s-1" in listing.content and b"s-2" not in listing.content
    session = services.StreamSession.objects.get(session_id="s-1")
    page = admin_client.get(f"/admin/streams/streamsession/{session.pk}/change/")
    assert page.status_code == 200
    assert b"Kerri Chandler" in page.content and b"liquid!" in page.content and b"Great stream!" in page.content
    for model in ("trackplay", "chatinteraction", "chatmessage", "streamerror", "viewersample"):
        assert admin_client.get(f"/admin/streams/{model}/").status_code == 200, model


@pytest.mark.django_db
@pytest.mark.parametrize("path", [
    "/api/v1/streams/a%00b", "/api/v1/tracks/99999999999999999999999", "/api/v1/tracks/abc",
    "/api/v1/chat-messages/-1", "/api/v1/tracks?session=%00", "/api/v1/streams?genre=%00",
    "/api/v1/chat-interactions?track=99999999999999999999999", "/api/v1/tracks?page=zzz",
])
def test_junk_lookups_and_filters_never_500(api_client, path):
    assert 400 <= api_client.get(path).status_code < 500


def _a_stream(tenant, title: str) -> None:
    services.session_start(tenant=tenant, session_id="same", at=at(0), info=StreamInfo(title=title))
    services.track_play_record(tenant=tenant, session_id="same", at=at(1), artist=f"{title} artist", title="T",
                               main_genre="house")
    services.chat_interaction_record(tenant=tenant, session_id="same", at=at(2), message_sent=f"{title} bot")
    services.chat_message_record(tenant=tenant, session_id="same", message_id="m1", created_at=at(3),
                                 message=f"{title} viewer")


@pytest.mark.django_db
def test_the_same_session_id_in_two_tenants_never_mixes_on_any_read_api(api_client, other_api_client, tenant,
                                                                        other_tenant):
    _a_stream(tenant, "mine")
    _a_stream(other_tenant, "theirs")
    theirs = {
        "tracks": services.TrackPlay.objects.get(tenant=other_tenant).pk,
        "chat-interactions": services.ChatInteraction.objects.get(tenant=other_tenant).pk,
        "chat-messages": services.ChatMessage.objects.get(tenant=other_tenant).pk,
    }
    assert api_client.get("/api/v1/streams/same").json()["title"] == "mine"
    assert [r["title"] for r in api_client.get("/api/v1/streams?session=same").json()["results"]] == ["mine"]
    fields = {"tracks": "artist", "chat-interactions": "message_sent", "chat-messages": "message"}
    for resource, field in fields.items():
        for query in ("", "?session=same", "?genre=house" if resource != "chat-messages" else "?user_id="):
            rows = api_client.get(f"/api/v1/{resource}{query}").json()["results"]
            assert [r[field].split()[0] for r in rows] == ["mine"], (resource, query)
        assert api_client.get(f"/api/v1/{resource}/{theirs[resource]}").status_code == 404, resource
        assert other_api_client.get(f"/api/v1/{resource}/{theirs[resource]}").status_code == 200, resource


def _busy_stream(tenant, n: int) -> int:
    for i in range(n):
        services.track_play_record(tenant=tenant, session_id=f"busy-{n}", at=at(i), artist="A", title=f"T{i}")
        services.chat_interaction_record(tenant=tenant, session_id=f"busy-{n}", at=at(i + 0.5), message_sent=f"m{i}")
        services.chat_message_record(tenant=tenant, session_id=f"busy-{n}", message_id=f"{n}-{i}", created_at=at(i))
        services.session_error(tenant=tenant, session_id=f"busy-{n}", at=at(i), error_code="E", error_message="e")
    return services.StreamSession.objects.get(session_id=f"busy-{n}").pk


@pytest.mark.django_db
def test_admin_pages_make_as_many_queries_for_many_rows_as_for_few(admin_client, tenant):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(url).status_code == 200, url
        return len(captured)

    few, many = _busy_stream(tenant, 2), _busy_stream(tenant, 9)
    assert queries(f"/admin/streams/streamsession/{few}/change/") == queries(
        f"/admin/streams/streamsession/{many}/change/")
    for model in ("streamsession", "trackplay", "chatinteraction", "chatmessage", "streamerror", "viewersample"):
        assert queries(f"/admin/streams/{model}/?q=busy-2") == queries(f"/admin/streams/{model}/"), model


@pytest.mark.django_db
def test_admin_action_ends_stale_live_sessions_and_announces_it(admin_client, stream):
    from webhooks.models import Event

    sessions = services.StreamSession.objects.filter(session_id__in=["s-1", "s-2"])
    services.session_end(tenant=stream, session_id="s-2", at=at(200))
    response = admin_client.post("/admin/streams/streamsession/", {
        "action": "end_now", "_selected_action": [s.pk for s in sessions]}, follow=True)
    assert response.status_code == 200 and b"Ended 1 session" in response.content
    assert set(sessions.values_list("status", flat=True)) == {"offline"}
    assert sorted(Event.objects.filter(type="stream.offline").values_list("data__session_id", flat=True)) == [
        "s-1", "s-2"]


@pytest.mark.django_db
def test_a_long_sessions_page_shows_its_latest_rows_and_links_to_all_of_them(admin_client, tenant, monkeypatch):
    from streams import admin as streams_admin

    monkeypatch.setattr(streams_admin, "INLINE_ROWS", 3)
    long, other = _busy_stream(tenant, 7), _busy_stream(tenant, 2)  # 7 of each row kind, and another session's
    page = admin_client.get(f"/admin/streams/streamsession/{long}/change/").content.decode()
    shown = [f"busy-7-{i}" for i in range(7) if f">7-{i}<" in page]  # the chat messages' ids, in their cells
    assert shown == ["busy-7-4", "busy-7-5", "busy-7-6"]  # the latest three, oldest first
    assert "Chat messages (the latest 3)" in page
    link = f"/admin/streams/chatmessage/?session__id__exact={long}"
    assert f'<a href="{link}">7 chat messages</a>' in page and "7 track plays" in page
    listing = admin_client.get(link).content.decode()
    assert listing.count("busy-7") >= 7 and "busy-2" not in listing
    assert other != long
