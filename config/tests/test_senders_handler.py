"""The senders' endpoints' lean handler answers exactly what the full middleware stack answers."""

import io
import json
import re
import sys

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_started
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from config.senders import SendersHandler, dispatching
from recordings.models import Recording
from recordings.tests.factories import RECORDER_CURL_EXAMPLE, add_member, recorder_source
from streams.models import TrackPlay
from webhooks.inbound.models import InboundMessage
from webhooks.inbound.tests.factories import REALCAST_SECRET, hmac_hex_header, make_source
from webhooks.inbound.views import is_inbound

# Transactional: the handlers close and reopen connections between requests, as in production
# (Django's test client switches that off; these tests call the WSGI applications themselves).
pytestmark = pytest.mark.django_db(transaction=True)

# Middleware that does nothing for a key-authenticated, csrf-exempt JSON POST (config/senders.py).
INERT_FOR_SENDERS = {
    "config.health.HealthzMiddleware",  # /healthz only
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files only
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "axes.middleware.AxesMiddleware",  # acts only on a login that axes refused
    "csp.middleware.CSPMiddleware",  # a policy for pages; senders get JSON
}

TRACK = {
    "timestamp": "2026-11-22T20:00:00Z",
    "dj_stream": {"twitch_username": "dj", "stream_title": "Deep", "viewer_count": 10, "platform": "twitch"},
    "track_data": {"artist": "A", "title": "T", "bpm": 174, "key": "A minor",
                   "classification": {"main_genre": "dnb", "subgenre": "liquid", "confidence": 0.9,
                                      "characteristics": []}},
    "session_id": "s-1",
    "event_type": "track_start",
}


def call(app, path, body=b"", *, method="POST", host="testserver", **headers):
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": "testserver", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": host,
        "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.multithread": True,
        "wsgi.multiprocess": True, "wsgi.run_once": False,
        **{"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()},
    }
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"], answer["headers"] = int(status.split()[0]), response_headers

    chunks = app(environ, start_response)
    try:
        answer["body"] = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    # The one header the lean path leaves out on purpose: a page policy means nothing to a sender's JSON.
    headers = [(name, value) for name, value in answer["headers"] if name != "Content-Security-Policy"]
    return answer["status"], sorted(headers), answer["body"]


@pytest.fixture
def apps():
    """(full stack, dispatching app), built under the test's settings, as config.wsgi builds them."""
    full = WSGIHandler()
    return full, dispatching(full)


def test_every_middleware_is_either_kept_for_senders_or_known_to_be_inert_for_them():
    kept = settings.INGEST_MIDDLEWARE
    assert set(settings.MIDDLEWARE) - set(kept) == INERT_FOR_SENDERS
    assert set(kept) <= set(settings.MIDDLEWARE)
    assert kept == [m for m in settings.MIDDLEWARE if m in kept], "same order as MIDDLEWARE"


def _routes(patterns, prefix=""):
    for p in patterns:
        route = prefix + str(p.pattern).lstrip("^").rstrip("$")
        if isinstance(p, URLResolver):
            yield from _routes(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            yield route, p.callback


SOURCE_URL = "s/<str:source_secret>"  # the senders' paths again, behind a source URL (no session, no CSRF)


def test_the_prefixes_cover_every_inbound_view_and_nothing_else():
    prefixes = tuple(prefix.lstrip("/") for prefix in settings.INGEST_PATH_PREFIXES)
    inbound = [route for route, view in _routes(get_resolver().url_patterns) if is_inbound(view)]
    others = [route for route, view in _routes(get_resolver().url_patterns)
              if not is_inbound(view) and not route.startswith(SOURCE_URL)]
    assert len(inbound) >= 5  # recorder, the assistant's three, RealCast
    assert [route for route in inbound if not route.startswith(prefixes)] == []
    assert [route for route in others if route.startswith(prefixes)] == []


def test_every_inbound_view_is_documented_in_the_openapi_schema(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    inbound = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route).replace("/?", "/")
               for route, view in _routes(get_resolver().url_patterns)
               if is_inbound(view) and not route.startswith(SOURCE_URL)}
    senders = {path for path, operations in schema["paths"].items()
               if operations.get("post", {}).get("tags") == ["senders"]}
    assert inbound == {path.lstrip("/") for path in senders}


def test_the_deployed_wsgi_application_dispatches():
    from config.wsgi import application

    assert isinstance(application.senders, SendersHandler)
    assert "django.middleware.csrf.CsrfViewMiddleware" not in settings.INGEST_MIDDLEWARE  # no process_view left


@pytest.fixture
def handled_by():
    """The handler classes that took the requests made during the test, in order."""
    seen = []

    def record(sender, **kwargs):
        seen.append(sender)

    request_started.connect(record)
    yield seen
    request_started.disconnect(record)


@pytest.mark.parametrize("path", ["/recordings/webhook/", "/recordings/webhook", "/api/webhook/track-classified",
                                  "/api/webhook/chat-interaction", "/api/webhook/stream-stats",
                                  "/webhooks/realcast/1"])
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_refusals_are_the_same_header_for_header(apps, handled_by, path, method):
    answers = [call(app, path, b'{"recording_id": 1}', method=method) for app in apps]
    assert handled_by == [WSGIHandler, SendersHandler]
    assert answers[0] == answers[1]
    assert answers[0][0] in (401, 405)


@override_settings(ALLOWED_HOSTS=["streamhook.test"])
def test_a_host_not_allowed_gets_400_on_the_lean_path_too(apps):
    answers = [call(app, "/recordings/webhook/", b"{}", host="evil.test") for app in apps]
    assert answers[0][0] == 400
    assert answers[0] == answers[1]


@override_settings(SECURE_SSL_REDIRECT=True, SECURE_HSTS_SECONDS=3600, SECURE_CONTENT_TYPE_NOSNIFF=True)
def test_the_https_redirect_applies_to_the_lean_path_too():
    full = WSGIHandler()
    answers = [call(app, "/recordings/webhook/", b"{}") for app in (full, dispatching(full))]
    assert answers[0][0] == 301
    assert answers[0] == answers[1]


def _without_ids(answer):
    """The answer without what depends on the row's id: its value, and so the body's length (pk 9 and
    pk 10 differ by a digit)."""
    status, headers, body = answer
    data = json.loads(body)
    return status, [(name, value) for name, value in headers if name != "Content-Length"], sorted(data)


def test_a_stored_recording_gets_the_same_answer_from_both(apps, tenant):
    add_member(tenant, "souvik@fyelabs.com", "souvik")
    key = recorder_source(tenant)[1]
    answers = []
    for number, app in enumerate(apps):
        body = json.dumps({**RECORDER_CURL_EXAMPLE, "recording_id": 500 + number}).encode()
        answers.append(call(app, "/recordings/webhook/", body, x_api_key=key))
    assert answers[0][0] == answers[1][0] == 201
    assert _without_ids(answers[0]) == _without_ids(answers[1])
    assert sorted(Recording.objects.values_list("recording_id", flat=True)) == ["500", "501"]
    assert dict(answers[1][1])["Content-Length"] == str(len(answers[1][2]))  # keep-alive needs it


def test_a_classified_track_gets_the_same_answer_from_both(apps, tenant):
    _, key = make_source(tenant, kind="stream-assistant")
    answers = [call(app, "/api/webhook/track-classified", json.dumps({**TRACK, "session_id": f"s-{n}"}).encode(),
                    x_api_key=key) for n, app in enumerate(apps)]
    assert answers[0][0] == answers[1][0] == 201
    assert _without_ids(answers[0]) == _without_ids(answers[1])
    assert TrackPlay.objects.count() == 2


def test_other_paths_keep_the_full_stack(apps, handled_by):
    _, dispatch = apps
    status, headers, _ = call(dispatch, "/admin/login/", method="GET")
    assert handled_by == [WSGIHandler]
    assert status == 200
    assert any(name == "Set-Cookie" and value.strip().startswith("csrftoken=") for name, value in headers)


def test_a_signed_realcast_event_gets_the_same_answer_from_both(apps, tenant):
    source, _ = make_source(tenant, kind="realcast", signing_secret=REALCAST_SECRET)
    answers = []
    for n, app in enumerate(apps):
        body = json.dumps({"event": "viewer.count.update", "timestamp": "2024-12-09T10:05:30Z",
                           "data": {"stream_id": "stream_1", "viewer_count": 10 + n}}).encode()
        answers.append(call(app, f"/webhooks/realcast/{source.pk}", body, x_realcast_webhook_id=f"wh_{n}",
                            x_realcast_signature=hmac_hex_header(REALCAST_SECRET, body)))
    assert answers[0][0] == answers[1][0] == 200
    assert _without_ids(answers[0]) == _without_ids(answers[1])
    assert InboundMessage.objects.filter(source=source).count() == 2
