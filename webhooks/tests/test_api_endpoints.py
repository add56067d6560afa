"""`/api/v1/webhooks`: CRUD, validation naming the field, secrets, soft delete, tenant isolation."""

from datetime import timedelta

import hypothesis
import hypothesis.strategies as st
import pytest
from django.utils import timezone

from core.crypto import reveal
from webhooks import services
from webhooks.models import Delivery, Endpoint, Event

pytestmark = pytest.mark.django_db

URL = "https://hooks.example.com/in"


@pytest.fixture(autouse=True)
def _public_resolver(monkeypatch):
    """example.com names "resolve" to a public documentation address; nothing leaves the machine."""
    from webhooks import ssrf

    real = ssrf.resolve

    def fake(host, port):
        if host.endswith("example.com"):
            return ["93.184.215.14"]
        if host == "intranet.example.net":
            return ["10.0.0.7"]
        return real(host, port)

    monkeypatch.setattr(ssrf, "resolve", fake)


def create(client, **fields):
    return client.post("/api/v1/webhooks", {"url": URL, **fields}, format="json")


def test_create_answers_201_with_the_fixed_fields_and_a_secret(api_client, tenant):
    response = create(api_client, events=["stream.live"], description="mine")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {
        "id", "url", "description", "events", "is_active", "signature_scheme", "signature_header",
        "payload_style", "retry_schedule", "rate_limit", "max_in_flight", "circuit", "profile", "template",
        "headers", "created_at", "updated_at", "disabled_reason", "disabled_at", "secret",
    }
    assert body["secret"].startswith("whsec_")
    assert body | {"id": 0, "created_at": "", "updated_at": "", "secret": ""} == {
        "id": 0, "url": URL, "description": "mine", "events": ["stream.live"], "is_active": True,
        "signature_scheme": "standard", "signature_header": "X-Webhook-Signature", "payload_style": "standard",
        "retry_schedule": None, "rate_limit": None, "max_in_flight": None, "circuit": "closed", "profile": None,
        "template": None, "headers": {}, "created_at": "", "updated_at": "", "disabled_reason": "",
        "disabled_at": None, "secret": "",
    }
    endpoint = Endpoint.objects.get(pk=body["id"])
    assert endpoint.tenant == tenant and reveal(endpoint.secret) == body["secret"]


def test_prefix_wildcards_are_accepted_and_kept_as_written(api_client):
    response = create(api_client, events=["recording.*", "viewer.*", "stream.live"])
    assert response.status_code == 201, response.content
    assert response.json()["events"] == ["recording.*", "viewer.*", "stream.live"]


def test_an_unknown_event_type_is_named_in_the_error(api_client):
    response = create(api_client, events=["stream.live", "no.such.type", "nothing.*"])
    assert response.status_code == 400
    [message] = response.json()["events"]
    assert "no.such.type" in message and "nothing.*" in message and "stream.live" not in message


@pytest.mark.parametrize("schedule", [[], [0], [0, 0.5, 86400]])
def test_retry_schedule_may_be_empty_or_start_with_an_immediate_retry(api_client, schedule):
    response = create(api_client, retry_schedule=schedule)
    assert response.status_code == 201, response.content
    assert Endpoint.objects.get(pk=response.json()["id"]).retry_schedule == schedule


def test_realcast_style_endpoint(api_client):
    response = create(api_client, signature_scheme="hmac-sha256-hex", signature_header="X-RealCast-Signature",
                      payload_style="event", retry_schedule=[1, 5, 25], rate_limit=2.5)
    assert response.status_code == 201, response.content
    assert response.json()["retry_schedule"] == [1, 5, 25]
    assert response.json()["rate_limit"] == 2.5


def test_paths_work_with_and_without_trailing_slash(api_client):
    endpoint_id = create(api_client).json()["id"]
    for path in ["/api/v1/webhooks", "/api/v1/webhooks/", f"/api/v1/webhooks/{endpoint_id}",
                 f"/api/v1/webhooks/{endpoint_id}/", "/api/v1/webhooks/events", f"/api/v1/webhooks/{endpoint_id}/stats",
                 f"/api/v1/webhooks/{endpoint_id}/secret/"]:
        assert api_client.get(path).status_code == 200, path
    assert api_client.post("/api/v1/webhooks/", {"url": URL}, format="json").status_code == 201


def test_list_shows_only_the_callers_live_endpoints(api_client, other_api_client):
    mine = create(api_client).json()["id"]
    gone = create(api_client).json()["id"]
    create(other_api_client)
    assert api_client.delete(f"/api/v1/webhooks/{gone}").status_code == 204
    body = api_client.get("/api/v1/webhooks").json()
    assert [e["id"] for e in body["results"]] == [mine]
    assert "secret" not in body["results"][0]


def test_the_list_filters_by_state_and_scheme_and_refuses_bad_filter_values(api_client):
    on = create(api_client).json()["id"]
    off = create(api_client, is_active=False, signature_scheme="hmac-sha256-hex").json()["id"]

    def ids(**params):
        response = api_client.get("/api/v1/webhooks", params)
        assert response.status_code == 200, response.content
        return [e["id"] for e in response.json()["results"]]

    assert ids(is_active="true") == ids(is_active="1") == [on]
    assert ids(is_active="false") == [off]
    assert ids(signature_scheme="hmac-sha256-hex") == [off]
    for params, field in [({"is_active": "maybe"}, "is_active"), ({"signature_scheme": "md5"}, "signature_scheme")]:
        response = api_client.get("/api/v1/webhooks", params)
        assert response.status_code == 400 and field in response.json(), response.content


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"url": "ftp://hooks.example.com/x"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "http://127.0.0.1:9/x"}, "url"),
        ({"url": "http://intranet.example.net/x"}, "url"),
        ({"url": "http://169.254.169.254/latest/meta-data"}, "url"),
        ({"url": "http://2130706433/"}, "url"),
        ({"url": "http://0x7f.1/"}, "url"),
        ({"url": "http://[::ffff:127.0.0.1]/"}, "url"),
        ({"url": "http://[2002:7f00:1::]/"}, "url"),
        ({"url": "http://hooks.example.com@127.0.0.1/"}, "url"),
        ({"url": "gopher://hooks.example.com/"}, "url"),
        ({"url": "https://" + "a" * 2000 + ".example.com/"}, "url"),
        ({"url": None}, "url"),
        ({"events": ["stream.live", "no.such.type"]}, "events"),
        ({"events": "stream.live"}, "events"),
        ({"events": ["nothing.*"]}, "events"),
        ({"events": ["stream*"]}, "events"),
        ({"events": ["*"]}, "events"),
        ({"events": [".*"]}, "events"),
        ({"events": [{"a": 1}]}, "events"),
        ({"retry_schedule": [5, -0.5]}, "retry_schedule"),
        ({"retry_schedule": [-1]}, "retry_schedule"),
        ({"retry_schedule": [None]}, "retry_schedule"),
        ({"retry_schedule": [86401]}, "retry_schedule"),
        ({"retry_schedule": ["5"]}, "retry_schedule"),
        ({"retry_schedule": [True]}, "retry_schedule"),
        ({"retry_schedule": 5}, "retry_schedule"),
        ({"retry_schedule": [1] * 21}, "retry_schedule"),
        ({"rate_limit": 0}, "rate_limit"),
        ({"rate_limit": 1e-300}, "rate_limit"),
        ({"rate_limit": -2}, "rate_limit"),
        ({"rate_limit": "fast"}, "rate_limit"),
        ({"rate_limit": 1e308}, "rate_limit"),
        ({"signature_scheme": "md5"}, "signature_scheme"),
        ({"payload_style": "xml"}, "payload_style"),
        ({"signature_header": "X Bad Header"}, "signature_header"),
        ({"signature_header": "X-Sig\r\nX-Injected: 1"}, "signature_header"),
        ({"signature_header": "X-Sig:"}, "signature_header"),
        ({"signature_header": "X-Sig\u00e9"}, "signature_header"),
        ({"signature_header": "webhook-signature"}, "signature_header"),
        ({"signature_header": ""}, "signature_header"),
        ({"is_active": "maybe"}, "is_active"),
        ({"description": "d" * 501}, "description"),
    ],
)
def test_bad_input_gets_400_naming_the_field(api_client, settings, fields, field):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False  # as in production
    response = create(api_client, **fields)
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert Endpoint.objects.count() == 0


def test_private_targets_are_refused_when_the_deployment_does_not_allow_them(api_client, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    response = create(api_client, url="http://127.0.0.1:8000/hook")
    assert response.status_code == 400 and "url" in response.json()
    settings.WEBHOOKS_ALLOWED_HOSTS = ["127.0.0.1"]  # port 80 only
    assert create(api_client, url="http://127.0.0.1:8000/hook").status_code == 400
    settings.WEBHOOKS_ALLOWED_HOSTS = ["127.0.0.1:8000"]
    assert create(api_client, url="http://127.0.0.1:8000/hook").status_code == 201
    assert create(api_client, url="http://127.0.0.1:6379/hook").status_code == 400


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "null", "{", "", "\x00"])
def test_malformed_bodies_get_400_not_500(api_client, body):
    response = api_client.post("/api/v1/webhooks", body, content_type="application/json")
    assert response.status_code == 400, response.content


def test_missing_url_is_named(api_client):
    response = api_client.post("/api/v1/webhooks", {}, format="json")
    assert response.status_code == 400 and "url" in response.json()


def test_patch_changes_only_the_given_fields_and_revalidates_the_url(api_client, settings):
    endpoint_id = create(api_client, events=["stream.live"]).json()["id"]
    response = api_client.patch(f"/api/v1/webhooks/{endpoint_id}", {"events": ["stream.offline"]}, format="json")
    assert response.status_code == 200 and response.json()["events"] == ["stream.offline"]
    assert response.json()["url"] == URL
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    response = api_client.patch(f"/api/v1/webhooks/{endpoint_id}", {"url": "http://10.1.2.3/"}, format="json")
    assert response.status_code == 400 and "url" in response.json()
    assert Endpoint.objects.get(pk=endpoint_id).url == URL


def test_put_replaces_settings(api_client):
    endpoint_id = create(api_client, description="old", rate_limit=3).json()["id"]
    response = api_client.put(f"/api/v1/webhooks/{endpoint_id}",
                              {"url": URL + "/v2", "events": [], "rate_limit": None}, format="json")
    assert response.status_code == 200, response.content
    endpoint = Endpoint.objects.get(pk=endpoint_id)
    assert (endpoint.url, endpoint.rate_limit, endpoint.description) == (URL + "/v2", None, "old")


def test_read_only_fields_and_secret_cannot_be_written(api_client):
    endpoint_id = create(api_client).json()["id"]
    secret = reveal(Endpoint.objects.get(pk=endpoint_id).secret)
    response = api_client.patch(f"/api/v1/webhooks/{endpoint_id}",
                                {"secret": "whsec_mine", "disabled_reason": "x", "id": 999}, format="json")
    assert response.status_code == 200
    endpoint = Endpoint.objects.get(pk=endpoint_id)
    assert (endpoint.pk, reveal(endpoint.secret), endpoint.disabled_reason) == (endpoint_id, secret, "")


def test_disabling_and_enabling_through_is_active(api_client):
    endpoint_id = create(api_client).json()["id"]
    body = api_client.patch(f"/api/v1/webhooks/{endpoint_id}", {"is_active": False}, format="json").json()
    assert body["is_active"] is False and body["disabled_at"] and body["disabled_reason"]
    Endpoint.objects.filter(pk=endpoint_id).update(failing_since=timezone.now())
    body = api_client.patch(f"/api/v1/webhooks/{endpoint_id}", {"is_active": True}, format="json").json()
    assert body["is_active"] is True and body["disabled_at"] is None and body["disabled_reason"] == ""
    assert Endpoint.objects.get(pk=endpoint_id).failing_since is None


def test_delete_is_soft_and_keeps_the_history(api_client, tenant):
    endpoint_id = create(api_client).json()["id"]
    event = Event.objects.create(tenant=tenant, type="stream.live", data={}, created_at=timezone.now())
    Delivery.objects.create(tenant=tenant, event=event, endpoint_id=endpoint_id, status="succeeded")
    assert api_client.delete(f"/api/v1/webhooks/{endpoint_id}").status_code == 204
    endpoint = Endpoint.objects.get(pk=endpoint_id)
    assert endpoint.deleted_at is not None and endpoint.is_active is False
    assert Delivery.objects.filter(endpoint_id=endpoint_id).count() == 1
    for method, path in [("get", ""), ("patch", ""), ("delete", ""), ("get", "/deliveries"), ("get", "/stats"),
                         ("get", "/secret"), ("post", "/rotate-secret"), ("post", "/test")]:
        response = getattr(api_client, method)(f"/api/v1/webhooks/{endpoint_id}{path}", {}, format="json")
        assert response.status_code == 404, (method, path)


def test_secret_and_rotation(api_client):
    created = create(api_client).json()
    endpoint_id, first = created["id"], created["secret"]
    assert api_client.get(f"/api/v1/webhooks/{endpoint_id}/secret").json() == {"secret": first}
    rotated = api_client.post(f"/api/v1/webhooks/{endpoint_id}/rotate-secret").json()["secret"]
    assert rotated.startswith("whsec_") and rotated != first
    assert api_client.get(f"/api/v1/webhooks/{endpoint_id}/secret").json() == {"secret": rotated}
    endpoint = Endpoint.objects.get(pk=endpoint_id)
    assert reveal(endpoint.previous_secret) == first
    overlap = endpoint.previous_secret_expires_at - timezone.now()
    assert timedelta(hours=23, minutes=59) < overlap <= timedelta(hours=24)


def test_rotation_overlap_comes_from_the_setting(tenant, settings):
    settings.WEBHOOKS_SECRET_ROTATION_OVERLAP = 60
    endpoint = services.endpoint_create(tenant=tenant, url=URL)
    now = timezone.now()
    services.endpoint_rotate_secret(endpoint=endpoint, now=now)
    assert endpoint.previous_secret_expires_at == now + timedelta(seconds=60)


def test_event_catalogue_lists_every_registered_type_with_an_example(api_client):
    response = api_client.get("/api/v1/webhooks/events")
    assert response.status_code == 200
    by_name = {t["name"]: t for t in response.json()}
    assert {"webhook.test", "endpoint.disabled", "user.created", "stream.live"} <= set(by_name)
    assert set(by_name["webhook.test"]) == {"name", "description", "durable", "declared", "schema", "example"}
    assert by_name["webhook.test"]["durable"] is True and by_name["webhook.test"]["example"]
    if "audio.level" in by_name:
        assert by_name["audio.level"]["durable"] is False


@pytest.mark.parametrize("path", ["", "/secret", "/stats", "/deliveries"])
def test_another_tenants_endpoint_reads_404(api_client, other_api_client, path):
    endpoint_id = create(other_api_client).json()["id"]
    assert api_client.get(f"/api/v1/webhooks/{endpoint_id}{path}").status_code == 404
    assert other_api_client.get(f"/api/v1/webhooks/{endpoint_id}{path}").status_code == 200


@pytest.mark.parametrize("method, path, body", [
    ("patch", "", {"description": "hijacked"}),
    ("put", "", {"url": URL}),
    ("delete", "", None),
    ("post", "/rotate-secret", None),
    ("post", "/test", {"event_type": "stream.live"}),
    ("post", "/recover", {"since": "2026-01-01T00:00:00Z"}),
])
def test_another_tenants_endpoint_cannot_be_changed(api_client, other_api_client, method, path, body):
    created = create(other_api_client).json()
    response = getattr(api_client, method)(f"/api/v1/webhooks/{created['id']}{path}", body, format="json")
    assert response.status_code == 404
    endpoint = Endpoint.objects.get(pk=created["id"])
    assert (reveal(endpoint.secret), endpoint.description, endpoint.deleted_at) == (created["secret"], "", None)
    assert not Event.objects.exclude(type="user.created").exists()


def test_unknown_and_malformed_ids_answer_404(api_client):
    for path in ["/api/v1/webhooks/999999", "/api/v1/webhooks/abc", "/api/v1/webhooks/1.5/stats",
                 "/api/v1/webhooks/99999999999999999999999/secret", "/api/v1/deliveries/999/redeliver"]:
        response = api_client.get(path) if "redeliver" not in path else api_client.post(path)
        assert response.status_code == 404, path


def test_anonymous_callers_are_refused(client):
    assert client.get("/api/v1/webhooks").status_code in (401, 403)
    assert client.post("/api/v1/webhooks", {"url": URL}).status_code in (401, 403)


def test_openapi_documents_every_subscription_operation(client):
    """`/api/schema/` as a client fetches it: every action is there with a summary, a typed success
    answer, a request body where one is read, and its error answers."""
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    ours = {p: ops for p, ops in schema["paths"].items() if p.startswith(("/api/v1/webhooks", "/api/v1/deliveries"))}
    operations = {(method, path): op for path, ops in ours.items() for method, op in ops.items()
                  if method in ("get", "post", "put", "patch", "delete")}
    assert set(operations) == {
        ("get", "/api/v1/webhooks"), ("post", "/api/v1/webhooks"), ("get", "/api/v1/webhooks/events"),
        ("get", "/api/v1/webhooks/profiles"),
        ("get", "/api/v1/webhooks/{id}"), ("put", "/api/v1/webhooks/{id}"), ("patch", "/api/v1/webhooks/{id}"),
        ("delete", "/api/v1/webhooks/{id}"), ("post", "/api/v1/webhooks/{id}/test"),
        ("get", "/api/v1/webhooks/{id}/deliveries"), ("get", "/api/v1/webhooks/{id}/stats"),
        ("get", "/api/v1/webhooks/{id}/secret"), ("post", "/api/v1/webhooks/{id}/rotate-secret"),
        ("post", "/api/v1/webhooks/{id}/recover"), ("get", "/api/v1/deliveries/{id}"),
        ("post", "/api/v1/deliveries/{id}/redeliver"),
    }
    with_body = {("post", "/api/v1/webhooks"), ("put", "/api/v1/webhooks/{id}"), ("patch", "/api/v1/webhooks/{id}"),
                 ("post", "/api/v1/webhooks/{id}/test"), ("post", "/api/v1/webhooks/{id}/recover")}
    for (method, path), operation in operations.items():
        where = (method, path)
        assert operation.get("summary"), where
        success = [code for code in operation["responses"] if code.startswith("2")]
        assert len(success) == 1, where
        if success != ["204"]:
            assert operation["responses"][success[0]]["content"]["application/json"]["schema"], where
        if "{id}" in path:
            assert "404" in operation["responses"], where
        assert ("requestBody" in operation) == (where in with_body), where
        if where in with_body:
            assert "400" in operation["responses"], where
            assert operation["requestBody"]["content"]["application/json"]["schema"], where
    created = ours["/api/v1/webhooks"]["post"]["responses"]["201"]["content"]["application/json"]
    assert created["examples"]
    assert "secret" in schema["components"]["schemas"]["EndpointCreated"]["properties"]
    assert "secret" not in schema["components"]["schemas"]["Endpoint"]["properties"]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)
_fields = st.sampled_from(["url", "description", "events", "is_active", "signature_scheme", "signature_header",
                           "payload_style", "retry_schedule", "rate_limit", "secret", "id"])
_urls = st.sampled_from([URL, "http://[::1]:99999/x", "https://exa mple.com", "https://ex%61mple.com/", "http://",
                         "https://xn--nxasmq6b.example.com/", "https://例え.example.com/", "http://0x7f000001/",
                         "http://user:pw@hooks.example.com/", "javascript:alert(1)", "https://hooks.example.com:0/"])


@hypothesis.settings(max_examples=150, deadline=None,
                     suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
@hypothesis.given(body=st.dictionaries(_fields, _json | _urls, max_size=6), method=st.sampled_from(["post", "patch"]))
def test_no_input_gets_a_500(api_client, tenant, settings, body, method):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    if method == "post":
        response = api_client.post("/api/v1/webhooks", body, format="json")
    else:
        endpoint = services.endpoint_create(tenant=tenant, url=URL)
        response = api_client.patch(f"/api/v1/webhooks/{endpoint.pk}", body, format="json")
    assert response.status_code in (200, 201, 400), (response.status_code, response.content[:500])
    if response.status_code == 400:
        assert set(response.json()) <= set(body) | {"url", "non_field_errors"}
