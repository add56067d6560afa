"""The benchmark receiver's behaviours: what the delivery benchmark's figures rest on."""

import json
import socket
import time
import urllib.request

import pytest

from bench.receiver import ReceiverProcess


@pytest.fixture
def slow_receiver():
    receiver = ReceiverProcess().start(delay=0.3)
    yield receiver
    receiver.stop()


def post(url: str, body: dict, headers: dict | None = None, timeout: float = 5) -> float:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers or {})
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=timeout) as response:
        assert response.read() == b"ok"
    return time.monotonic() - started


def test_delay_answers_late_but_records_arrival_with_emit_time(slow_receiver):
    emitted = time.time()
    took = post(slow_receiver.url("/e0"), {"type": "webhook.test", "data": {"n": 1, "emitted_at": emitted}},
                {"webhook-id": "msg_a"})
    assert took >= 0.3
    (record,) = slow_receiver.records()
    assert record[:3] == ["/e0", "msg_a", emitted]
    assert record[3] - emitted < 0.3  # stamped on arrival, not on answer


def test_delay_path_overrides_the_default(slow_receiver):
    assert post(slow_receiver.url("/delay/0.6-0.7/e1"), {"object": {"n": 7, "emitted_at": 1.5}}) >= 0.6
    assert slow_receiver.records()[0][1:3] == ["n7", 1.5]  # no webhook-id: the body's event number


def test_hang_path_never_answers(slow_receiver):
    with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
        post(slow_receiver.url("/hang/e2"), {"data": {"n": 2}}, timeout=1)
    assert slow_receiver.records()[0][0] == "/hang/e2"


def test_stats_count_senders_connections_and_reset(slow_receiver):
    for n in range(3):
        post(slow_receiver.url("/e3"), {"data": {"n": n}})
    assert slow_receiver.stats()["connections"] == 3
    assert slow_receiver.stats()["connections"] == 0
