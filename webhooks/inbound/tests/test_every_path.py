"""Hypothesis at every inbound path the URL conf serves (found, not listed, so a new path is covered too).

Each path gets a source of the kind it accepts and then junk: arbitrary bytes, JSON of any shape,
plausible payloads with wrong types, odd headers (NUL, latin-1, ids, timestamps, signatures),
signed or mis-signed. Never a 5xx; whatever isn't a 2xx leaves every domain table exactly as it was.
"""

import json
import re

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from core.crypto import reveal
from recordings.tests.factories import add_member
from webhooks.inbound.tests.factories import hmac_hex_header, make_source
from webhooks.inbound.views import is_inbound

pytestmark = pytest.mark.django_db
SECRET = "every-path-secret-1"


def _inbound_paths(patterns=None, prefix: str = ""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern).lstrip("^").replace("/?$", "/").rstrip("$")
        if isinstance(pattern, URLResolver):
            yield from _inbound_paths(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and is_inbound(pattern.callback):
            yield route, pattern.callback.cls(**pattern.callback.initkwargs)  # the view as configured


PATHS = sorted(_inbound_paths(), key=lambda item: item[0])


def test_the_senders_documented_paths_are_all_found():
    found = {route for route, _ in PATHS}
    paths = {"recordings/webhook/", "api/webhook/track-classified", "api/webhook/chat-interaction",
             "api/webhook/stream-stats", "webhooks/realcast/<str:source_id>"}
    assert paths <= found, found
    assert {f"s/<str:source_secret>/{path}" for path in paths} <= found, found  # the same under source URLs


def _url(route: str, source) -> str:
    url = re.sub(r"<[^>]*source_id>", str(source.pk), route)
    return "/" + re.sub(r"<[^>]*source_secret>", reveal(source.url_secret), url)


def _domain_state() -> dict:
    models = [*apps.get_app_config("streams").get_models(), *apps.get_app_config("recordings").get_models(),
              apps.get_model("webhooks", "Event")]
    return {model._meta.label: list(model.objects.order_by("pk").values()) for model in models}


latin1 = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255), max_size=60)
scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**20), max_value=10**20),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20))
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
FIELDS = ["recording_id", "user_info", "title", "duration_seconds", "uploaded_files", "file_info", "created_at",
          "session_id", "stream_id", "track", "artist", "genre", "confidence", "timestamp", "event", "data",
          "viewer_count", "message", "username", "interaction_type", "stats", "bpm"]
bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6).map(lambda d: json.dumps(d).encode()),
)
HEADER_NAMES = ["HTTP_WEBHOOK_ID", "HTTP_X_WEBHOOK_ID", "HTTP_X_REALCAST_WEBHOOK_ID", "HTTP_IDEMPOTENCY_KEY",
                "HTTP_WEBHOOK_TIMESTAMP", "HTTP_WEBHOOK_SIGNATURE", "HTTP_X_WEBHOOK_TIMESTAMP", "HTTP_X_FORWARDED_FOR",
                "HTTP_USER_AGENT", "HTTP_X_ANYTHING"]
headers = st.dictionaries(st.sampled_from(HEADER_NAMES), latin1, max_size=4)


@pytest.fixture
def sources(tenant):
    add_member(tenant, "souvik@fyelabs.com")
    made = {}
    for kind in ("recorder", "stream-assistant", "realcast"):
        secret = SECRET if kind == "realcast" else None
        made[kind] = make_source(tenant, kind=kind, name=kind, signing_secret=secret, rate_limit=10**9)
    return made


@pytest.mark.parametrize(("route", "view"), PATHS, ids=[route for route, _ in PATHS])
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, extra=headers, content_type=st.sampled_from(["application/json", "text/plain", ""]),
       sign=st.sampled_from(["right", "wrong", "none"]))
def test_junk_never_5xx_and_changes_nothing_unless_accepted(client, sources, route, view, body, extra,
                                                            content_type, sign):
    kind = sorted(view.kinds)[0]
    source, key = sources[kind]
    url = _url(route, source)
    request_headers = dict(extra)
    if view.auth == "key":
        request_headers["HTTP_X_API_KEY"] = key
    if sign != "none":
        signed = body if sign == "right" else body + b" "
        request_headers["HTTP_" + source.signature_header.upper().replace("-", "_")] = hmac_hex_header(SECRET, signed)
    before = _domain_state()
    response = client.generic("POST", url, body, content_type=content_type, **request_headers)
    assert response.status_code < 500, (response.status_code, response.content)
    event(f"{response.status_code} {'NUL header' if any(chr(0) in v for v in extra.values()) else ''}")
    answer = response.json()
    assert isinstance(answer, dict) and answer
    if not 200 <= response.status_code < 300:
        assert answer["status"] == "error" and answer["message"]
        assert _domain_state() == before


@pytest.mark.parametrize(("route", "view"), PATHS, ids=[route for route, _ in PATHS])
@pytest.mark.parametrize("header", ["HTTP_X_ANYTHING", "HTTP_WEBHOOK_ID", "HTTP_X_REALCAST_WEBHOOK_ID"])
def test_nul_in_a_header_is_never_a_5xx(client, sources, route, view, header):
    # gunicorn refuses NUL in headers, other servers may pass it on; PostgreSQL can store it nowhere.
    source, key = sources[sorted(view.kinds)[0]]
    url = _url(route, source)
    body = b'{"event": "stream.live", "data": {}}'
    auth = {"HTTP_X_API_KEY": key} if view.auth == "key" else {
        "HTTP_" + source.signature_header.upper().replace("-", "_"): hmac_hex_header(SECRET, body)}
    response = client.generic("POST", url, body, content_type="application/json", **auth, **{header: "a\x00b"})
    assert response.status_code < 500, response.content
    if header != "HTTP_X_ANYTHING":
        assert response.status_code == 400 and "NUL" in response.json()["message"]
