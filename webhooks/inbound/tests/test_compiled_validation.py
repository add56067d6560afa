"""The compiled check of a serializer accepts only what DRF accepts, and gives DRF's validated data."""

import copy
import datetime
import json
import math

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from bench.ingest import _realcast, _track
from streams import inbound
from webhooks.inbound.compiled_validation import Unsure, compiled

# Seed 000's and seed 004's payloads, and the serializer each goes through.
SEEDS = [
    (inbound.TrackClassified, json.loads(_track(7))),
    (inbound.StreamStats, {"timestamp": "2025-10-25T01:55:59Z", "session_id": "s-1", "event_type": "stream_start",
                           "dj_stream": {"twitch_username": "dj", "stream_title": "T", "viewer_count": 12,
                                         "platform": "twitch"}}),
    (inbound.RealCastEnvelope, json.loads(_realcast(1))),
    (inbound.ViewerCountUpdate, json.loads(_realcast(1))["data"]),
    (inbound.ChatMessageNew, json.loads(_realcast(2))["data"]),
    (inbound.StreamLive, {"stream_id": "stream_1", "title": "Live", "streamer_id": "u1", "app_id": "a",
                          "started_at": "2024-12-09T10:00:00Z"}),
    (inbound.StreamOffline, {"stream_id": "stream_1", "duration": 3600, "peak_viewers": 250,
                             "ended_at": "2024-12-09T11:00:00Z"}),
]

ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["", " ", "\x00", "\ud800", "x" * 600, "track_start", "stream_end", "2024-12-09T10:00:00Z",
                     "2024-13-40", "12", 3.0, -1, 1e999, 2**31, 0.5, 1001.0]),
    st.lists(st.text(max_size=3), max_size=3), st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*prefix, i))


def _mutated(payload, path, action, value):
    out = copy.deepcopy(payload)
    if not path:
        return value if action == "replace" else out
    parent = out
    for key in path[:-1]:
        parent = parent[key]
    if action == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return out


def _same(a, b) -> bool:
    """Equal and of the same types all the way down (1 == 1.0 == True won't do)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, datetime.datetime):
        return a == b and a.utcoffset() == b.utcoffset()
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def _drf(serializer_class, payload):
    try:
        return serializer_class().run_validation(payload)
    except serializers.ValidationError:
        return "refused"


@pytest.mark.parametrize(("serializer_class", "payload"), SEEDS, ids=[s.__name__ for s, _ in SEEDS])
def test_a_seed_payload_passes_the_compiled_check_with_drfs_validated_data(serializer_class, payload):
    check = compiled(serializer_class)
    assert check is not None
    assert _same(check(payload), _drf(serializer_class, payload))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_on_any_payload_the_compiled_check_says_what_drf_says_or_defers_to_it(data):
    serializer_class, seed = data.draw(st.sampled_from(SEEDS))
    payload = seed
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        path = data.draw(st.sampled_from(list(_paths(payload))))
        action = data.draw(st.sampled_from(["replace", "delete"]))
        payload = _mutated(payload, path, action, data.draw(ODD_VALUES))
    drf = _drf(serializer_class, payload)
    try:
        fast = compiled(serializer_class)(payload)
    except Unsure:
        event(f"deferred to DRF, which {'refuses' if drf == 'refused' else 'accepts'}")
        return  # DRF answers: nothing to compare
    event("compiled check accepted")
    assert drf != "refused", f"compiled check accepted what DRF refuses: {payload!r}"
    assert _same(fast, drf), (payload, fast, drf)


def test_a_payload_drf_refuses_is_deferred_to_drf():
    payload = json.loads(_track(3))
    payload["track_data"]["bpm"] = True  # JSON's true is not a number here
    with pytest.raises(Unsure):
        compiled(inbound.TrackClassified)(payload)
    payload["track_data"]["bpm"] = 128
    del payload["session_id"]
    with pytest.raises(Unsure):
        compiled(inbound.TrackClassified)(payload)


def test_a_serializer_with_rules_of_its_own_is_not_compiled():
    class WithMethod(serializers.Serializer):
        name = serializers.CharField(trim_whitespace=False)

        def validate_name(self, value):
            return value.upper()

    class WithDefault(serializers.Serializer):
        name = serializers.CharField(trim_whitespace=False, default="x")

    class Custom(serializers.CharField):
        def to_internal_value(self, data):
            return data[::-1]

    class WithCustomField(serializers.Serializer):
        name = Custom(trim_whitespace=False)

    class Trimming(serializers.Serializer):
        name = serializers.CharField()  # DRF strips whitespace: not copied here

    for cls in (WithMethod, WithDefault, WithCustomField, Trimming):
        assert compiled(cls) is None, cls.__name__
    # The chat interaction's emoji map validates its keys itself: DRF does it all.
    assert compiled(inbound.ChatInteractionIn) is None
