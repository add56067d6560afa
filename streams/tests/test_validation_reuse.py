"""The handlers validate on a serializer kept per thread: the answers are a fresh serializer's, every time."""

import json
import threading

import pytest
from rest_framework.exceptions import ValidationError

from bench.ingest import _track
from streams import inbound
from streams.handlers import _valid


def _fresh(serializer_class, payload):
    serializer = serializer_class(data=payload)
    if serializer.is_valid():
        return "ok", serializer.validated_data
    return "errors", serializer.errors


def _reused(serializer_class, payload):
    try:
        return "ok", _valid(serializer_class, payload)
    except ValidationError as exc:
        return "errors", exc.detail


GOOD = json.loads(_track(7))
PAYLOADS = [
    GOOD,
    {**GOOD, "track_data": {"artist": "", "bpm": "fast"}},  # nested errors
    {**GOOD, "timestamp": "yesterday", "dj_stream": {"viewer_count": -1}},
    {},
    None,  # not an object at all
    ["a", "list"],
    GOOD,  # good again after bad ones: nothing carried over
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_reused_serializer_answers_what_a_fresh_one_does(payload):
    assert _reused(inbound.TrackClassified, payload) == _fresh(inbound.TrackClassified, payload)


def test_a_sequence_of_good_and_bad_payloads_keeps_no_state_between_them():
    answers = [_reused(inbound.TrackClassified, p) for p in PAYLOADS]
    assert answers == [_fresh(inbound.TrackClassified, p) for p in PAYLOADS]
    assert answers[0][0] == "ok" and answers[1][0] == "errors" and answers[-1] == answers[0]


def test_threads_validating_at_once_each_get_their_own_answer():
    payloads = [json.loads(_track(n)) for n in range(40)] + [{**GOOD, "track_data": {}}] * 10
    expected = [_fresh(inbound.TrackClassified, p) for p in payloads]
    results: dict[int, list] = {}

    def run(index: int):
        results[index] = [_reused(inbound.TrackClassified, p) for p in payloads]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[i] == expected for i in range(6))
