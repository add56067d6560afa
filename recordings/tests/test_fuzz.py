"""Hypothesis throws payload shapes at the recorder webhook: never a 5xx, and data changes only on success."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recordings.models import Recording
from recordings.tests.factories import RECORDER_FULL_EXAMPLE, add_member, recorder_source
from webhooks.inbound.models import InboundMessage

pytestmark = pytest.mark.django_db

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
RECORDER_KEYS = [*RECORDER_FULL_EXAMPLE, "unexpected"]
emails = st.one_of(st.sampled_from(["souvik@fyelabs.com", "SOUVIK@fyelabs.com", "nobody@x.test", ""]), json_values)
user_info = st.one_of(json_values, st.fixed_dictionaries({}, optional={"email": emails, "username": json_values}))
payloads = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            **{k: json_values for k in RECORDER_KEYS},
            "recording_id": st.one_of(st.integers(min_value=0, max_value=5),
                                      st.sampled_from(["1", "2", "", "  ", " 2 "]), json_values),
            "user_info": user_info,
            "created_at": st.one_of(st.sampled_from(["2025-10-25 01:55:59.374860", "2025-13-45 99:00",
                                                     "2025-10-24T21:57:22Z"]), json_values),
            "file_info": st.one_of(json_values, st.fixed_dictionaries(
                {}, optional={"total_size_mb": json_values,
                              "individual_sizes_mb": st.dictionaries(st.text(max_size=8), json_values, max_size=3)})),
        },
    ),
)


@pytest.fixture
def key(tenant):
    add_member(tenant, "souvik@fyelabs.com")
    return recorder_source(tenant, rate_limit=1_000_000)[1]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=payloads)
def test_recorder_webhook_never_5xx_and_changes_only_on_success(client, key, payload):
    before = {r.pk: (r.updated_at, r.title) for r in Recording.objects.all()}
    messages_before = InboundMessage.objects.count()
    body = json.dumps(payload).encode()
    response = client.generic("POST", "/recordings/webhook/", body, content_type="application/json",
                              HTTP_X_API_KEY=key)
    assert response.status_code in {200, 201, 400, 404, 409}, (response.status_code, response.content)
    answer = response.json()
    after = {r.pk: (r.updated_at, r.title) for r in Recording.objects.all()}
    assert InboundMessage.objects.count() == messages_before + 1
    if response.status_code in (200, 201):
        assert answer["status"] == "success"
        assert answer["action"] == ("created" if response.status_code == 201 else "updated")
        assert set(after) - set(before) == ({answer["pk"]} if response.status_code == 201 else set())
    else:
        assert answer["status"] == "error" and answer["message"]
        assert after == before  # a refused payload changes no recording
    assert not Recording.objects.filter(recording_id__regex=r"^\s*$").exists()  # never an empty id


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_never_5xx(client, key, raw):
    response = client.generic("POST", "/recordings/webhook/", raw, content_type="application/json",
                              HTTP_X_API_KEY=key)
    assert response.status_code < 500
    assert response.json()["status"] in ("error", "success")
