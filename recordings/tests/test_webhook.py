"""The recorder's webhook: its document's curl example, every documented answer, and the events it emits."""

import json

import pytest

from recordings.models import Recording
from recordings.tests.factories import (
    RECORDER_CURL_EXAMPLE,
    RECORDER_FULL_EXAMPLE,
    add_member,
    payload,
    recorder_source,
)
from webhooks.inbound.models import InboundMessage
from webhooks.inbound.tests.factories import hmac_hex_header
from webhooks.models import Event

pytestmark = pytest.mark.django_db
URL = "/recordings/webhook/"


@pytest.fixture
def souvik(tenant):
    return add_member(tenant, "souvik@fyelabs.com", "souvik")


@pytest.fixture
def key(tenant):
    return recorder_source(tenant)[1]


def post(client, data, key=None, url=URL, **headers):
    body = data if isinstance(data, bytes | str) else json.dumps(data)
    if key:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client.generic("POST", url, body, content_type="application/json", **headers)


def test_recorder_curl_example_creates_then_updates(client, souvik, key):
    first = post(client, RECORDER_CURL_EXAMPLE, key)
    assert first.status_code == 201
    recording = Recording.objects.get()
    assert first.json() == {"status": "success", "message": "Recording created successfully",
                            "recording_id": 999, "pk": recording.pk, "action": "created"}
    again = post(client, RECORDER_CURL_EXAMPLE, key)
    assert again.status_code == 200
    assert again.json() == {"status": "success", "message": "Recording updated successfully",
                            "recording_id": 999, "pk": recording.pk, "action": "updated"}
    assert Recording.objects.count() == 1
    recording.refresh_from_db()
    assert recording.user == souvik
    assert recording.recording_id == "999"
    assert recording.files == {"video": "https://s3.us-west-1.idrivee2.com/fyemeet/999/video.mkv"}
    assert recording.duration_seconds == 120 and recording.bucket_name == "fyemeet"


def test_recorder_full_example_is_kept_with_parsed_times(client, souvik, key):
    assert post(client, RECORDER_FULL_EXAMPLE, key).status_code == 201
    recording = Recording.objects.get()
    assert recording.recorded_at.isoformat() == "2025-10-25T01:55:59.374860+00:00"
    assert recording.uploaded_at.isoformat() == "2025-10-24T21:57:22.775114+00:00"
    assert recording.title == "Meeting 2025-10-24 21:55"
    assert recording.total_size_mb == 0.51
    assert recording.file_sizes_mb == {"video.mkv": 0.5, "thumbnail.jpg": 0.01, "transcript.txt": 0.0}
    assert recording.files["transcript"].endswith("/3/transcript.txt")
    assert recording.upload_source == "background_thread" and recording.region == "us-west-1"
    assert recording.raw_payload == RECORDER_FULL_EXAMPLE


def test_path_without_trailing_slash_and_x_api_key(client, souvik, key):
    response = post(client, RECORDER_CURL_EXAMPLE, url="/recordings/webhook", HTTP_X_API_KEY=key)
    assert response.status_code == 201


def test_email_matches_case_insensitively(client, souvik, key):
    data = payload(user_info={"email": "Souvik@FyeLabs.COM", "username": "souvik"})
    assert post(client, data, key).status_code == 201
    assert Recording.objects.get().user == souvik


def test_unknown_email_is_404(client, souvik, key):
    response = post(client, payload(user_info={"email": "example@example.com"}), key)
    assert response.status_code == 404
    assert response.json() == {"status": "error", "message": "No user found with email: example@example.com"}
    assert not Recording.objects.exists()


def test_user_of_another_tenant_is_not_found(client, tenant, other_tenant, key):
    add_member(other_tenant, "souvik@fyelabs.com", "souvik")
    assert post(client, RECORDER_CURL_EXAMPLE, key).status_code == 404


@pytest.mark.parametrize(("data", "missing"), [
    ({k: v for k, v in RECORDER_CURL_EXAMPLE.items() if k != "recording_id"}, ["recording_id"]),
    ({k: v for k, v in RECORDER_CURL_EXAMPLE.items() if k != "user_info"}, ["user_info.email"]),
    (payload(user_info={"username": "souvik"}), ["user_info.email"]),
    ({"title": "nothing else"}, ["recording_id", "user_info.email"]),
    (payload(recording_id="   "), ["recording_id"]),
    (payload(recording_id=""), ["recording_id"]),
    (payload(user_info={"email": "  "}), ["user_info.email"]),
    (payload(recording_id=None, user_info={"email": None}), ["recording_id", "user_info.email"]),
])
def test_missing_fields_are_400_naming_them(client, souvik, key, data, missing):
    response = post(client, data, key)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "error"
    # The recorder document's 400 body word for word, plus `errors` naming exactly the missing fields.
    assert body == {"status": "error", "message": "Missing required fields: recording_id or user_info.email",
                    "errors": {name: ["This field is required."] for name in missing}}
    assert not Recording.objects.exists()


def test_recording_of_another_user_is_409(client, tenant, souvik, key):
    add_member(tenant, "other@fyelabs.com")
    assert post(client, RECORDER_CURL_EXAMPLE, key).status_code == 201
    before = Recording.objects.values().get()
    response = post(client, payload(user_info={"email": "other@fyelabs.com"}, title="Taken over"), key)
    assert response.status_code == 409
    assert response.json() == {"status": "error", "message": "Recording 999 belongs to another user",
                               "recording_id": 999}
    assert Recording.objects.values().get() == before  # not a field changed, not even updated_at
    assert not Event.objects.filter(type="recording.updated").exists()


def test_no_key_is_401_and_nothing_is_stored(client, souvik):
    response = post(client, RECORDER_CURL_EXAMPLE)
    assert response.status_code == 401
    assert response.json()["status"] == "error"
    assert not InboundMessage.objects.exists() and not Recording.objects.exists()


@pytest.mark.parametrize("kind", ["stream-assistant", "realcast"])
def test_key_of_another_kind_is_403(client, tenant, souvik, kind):
    from webhooks.inbound.services import source_create

    _, key = source_create(tenant=tenant, name="other kind", kind=kind)
    response = post(client, RECORDER_CURL_EXAMPLE, key)
    assert response.status_code == 403
    assert response.json() == {"status": "error", "message": f"A {kind!r} source cannot post to this endpoint."}
    assert not Recording.objects.exists() and not InboundMessage.objects.exists()


def test_another_tenants_key_creates_in_that_tenant_only(client, tenant, other_tenant, souvik):
    _, other_key = recorder_source(other_tenant)
    assert post(client, RECORDER_CURL_EXAMPLE, other_key).status_code == 404  # souvik isn't a member there
    assert not Recording.objects.exists()


def test_signed_source_requires_the_signature_too(client, souvik, tenant):
    _, key = recorder_source(tenant, signing_secret="recorder-secret-1", signature_header="X-Recorder-Signature")
    body = json.dumps(RECORDER_CURL_EXAMPLE).encode()
    assert post(client, body, key).status_code == 401
    assert post(client, body, key, HTTP_X_RECORDER_SIGNATURE="sha256=" + "0" * 64).status_code == 401
    signed = post(client, body, key, HTTP_X_RECORDER_SIGNATURE=hmac_hex_header("recorder-secret-1", body))
    assert signed.status_code == 201


def test_message_is_kept_raw_without_credentials(client, souvik, key):
    body = json.dumps(RECORDER_CURL_EXAMPLE, indent=2).encode()
    post(client, body, key)
    message = InboundMessage.objects.get()
    assert bytes(message.body) == body
    assert message.status == "processed" and message.handler == "recordings.webhook"
    assert message.response_status == 201
    assert not any("authorization" in h.lower() for h in message.headers)


def test_create_emits_ready_and_update_emits_updated(client, souvik, key):
    post(client, RECORDER_CURL_EXAMPLE, key)
    post(client, payload(title="Renamed"), key)
    recording_events = Event.objects.filter(type__startswith="recording.").order_by("created_at")
    events = list(recording_events.values_list("type", "data"))
    assert [t for t, _ in events] == ["recording.ready", "recording.updated"]
    assert events[1][1]["title"] == "Renamed"
    assert events[1][1]["user_email"] == "souvik@fyelabs.com"
    assert events[1][1]["recording_id"] == "999"


@pytest.mark.parametrize("events", [["recording.*"], ["recording.ready", "recording.updated"]])
def test_subscriber_of_recording_events_receives_both(client, tenant, souvik, key, httpserver, events,
                                                      django_capture_on_commit_callbacks):
    from webhooks.delivery import deliveries_send_claimed
    from webhooks.fanout import events_fan_out
    from webhooks.models import Delivery
    from webhooks.services import endpoint_create

    httpserver.expect_request("/hooks", method="POST").respond_with_data("ok")
    endpoint = endpoint_create(tenant=tenant, url=httpserver.url_for("/hooks"), events=events)
    with django_capture_on_commit_callbacks(execute=False):  # no broker in this test: run the services directly
        assert post(client, RECORDER_CURL_EXAMPLE, key).status_code == 201
        assert post(client, RECORDER_CURL_EXAMPLE, key).status_code == 200
    deliveries_send_claimed(deliveries=events_fan_out())  # fan-out leases new rows to its caller
    rows = Delivery.objects.filter(endpoint=endpoint).select_related("event").order_by("id")
    assert [(d.event.type, d.status) for d in rows] == [("recording.ready", "succeeded"),
                                                         ("recording.updated", "succeeded")]
    received = [json.loads(request.get_data()) for request, _ in httpserver.log]
    assert sorted(r["type"] for r in received) == ["recording.ready", "recording.updated"]
    assert {r["data"]["recording_id"] for r in received} == {"999"}



def _with(keys: tuple, value) -> dict:
    """The recorder document's full payload with the field at `keys` (a path of object keys) replaced."""
    data = payload(RECORDER_FULL_EXAMPLE)
    node = data
    for name in keys[:-1]:
        node = node[name]
    node[keys[-1]] = value
    return data


SIZES = ("file_info", "individual_sizes_mb")
# Every field of the recorder document's full payload, each with a value of a type it can't take:
# (named as, path, value).
EVERY_FIELD = [
    (name, keys or tuple(name.split(".")), value) for name, keys, value in [
        ("recording_id", None, [1]), ("recording_id", None, 1.5), ("recording_id", None, {"id": 3}),
        ("title", None, 5), ("title", None, ["t"]), ("created_at", None, 20251025),
        ("created_at", None, "25/10/2025"), ("duration_seconds", None, "77"), ("duration_seconds", None, -1),
        ("duration_seconds", None, True), ("duration_database", None, [77]), ("user_info", None, ["souvik"]),
        ("user_info.email", None, []), ("user_info.email", None, True), ("user_info.username", None, 7),
        ("file_info", None, 0.51), ("file_info.total_size_mb", None, "0.51"),
        ("file_info.individual_sizes_mb", None, ["video.mkv"]),
        ("file_info.individual_sizes_mb.video.mkv", (*SIZES, "video.mkv"), "big"),
        ("uploaded_files", None, "https://x/video.mkv"), ("uploaded_files.video", None, 3),
        ("uploaded_files.thumbnail", None, {"u": 1}), ("upload_timestamp", None, False),
        ("upload_timestamp", None, "yesterday"), ("upload_source", None, ["bg"]), ("bucket_name", None, 1),
        ("region", None, {"r": 1}),
    ]
]


@pytest.mark.parametrize(("field", "keys", "value"), EVERY_FIELD, ids=[f"{f}={v!r}" for f, _, v in EVERY_FIELD])
def test_every_field_of_the_wrong_type_is_400_naming_it(client, souvik, key, field, keys, value):
    response = post(client, _with(keys, value), key)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["status"] == "error" and body["message"].startswith("Invalid fields: ")
    assert field in body["errors"] and field in body["message"], body
    assert not Recording.objects.exists()
