"""A producer's own way out for ephemeral events (`EphemeralStream`, the audio sampler's levels): a thread,
a one-value mailbox and a kept-alive connection per subscriber. Real receivers on 127.0.0.1."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.ids import new_message_id
from webhooks import http
from webhooks.ephemeral import EphemeralStream
from webhooks.models import Endpoint
from webhooks.services import endpoint_create
from webhooks.tests.engine import endpoint_make, private_cache
from webhooks.verify import verify

pytestmark = pytest.mark.django_db
TYPE = "audio.level"


class Receiver:
    """An HTTP/1.1 receiver that keeps connections alive and remembers every request with its connection.

    `delay`: seconds before each answer. `drop_idle`: close the connection after each answer without
    saying so (what a receiver whose keep-alive timeout ran out does). `chunked`: answer with a chunked body.
    """

    def __init__(self, *, delay: float = 0.0, drop_idle: bool = False, chunked: bool = False) -> None:
        self.requests: list[tuple[int, dict[str, str], bytes]] = []
        self.user_agents: list[list[str]] = []  # every User-Agent line of each request (a dict keeps one)
        self.connections = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with receiver.lock:
                    receiver.connections += 1
                    self.number = receiver.connections

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if delay:
                    time.sleep(delay)
                with receiver.lock:
                    receiver.requests.append((self.number, dict(self.headers), body))
                    receiver.user_agents.append(self.headers.get_all("User-Agent"))
                # One write, as most servers answer: a head and a body in two small packets would wait
                # for the client's delayed ACK (Nagle), 40 ms a request.
                framing = b"Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n" if chunked \
                    else b"Content-Length: 2\r\n\r\nok"
                self.wfile.write(b"HTTP/1.1 200 OK\r\n" + framing)
                if drop_idle:
                    self.close_connection = True

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def levels(self) -> list:
        with self.lock:
            return [json.loads(body)["data"]["level"] for _, _, body in self.requests]

    def wait_for(self, count: int, timeout: float = 5.0) -> list:
        """The levels received, once there are `count` of them and nothing more came just after."""
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        return self.levels()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def _setup(settings):
    private_cache(settings)
    http.reset()


@pytest.fixture
def receivers():
    made: list[Receiver] = []

    def make(**options) -> Receiver:
        made.append(Receiver(**options))
        return made[-1]

    yield make
    for receiver in made:
        receiver.stop()


@pytest.fixture
def stream(tenant):
    stream = EphemeralStream(tenant_id=tenant.pk, type=TYPE)
    yield stream
    stream.close(timeout=0)


def send_spaced(stream: EphemeralStream, levels, gap: float = 0.03) -> float:
    """Send each level `gap` apart; the longest any `send()` took."""
    longest = 0.0
    for level in levels:
        began = time.monotonic()
        stream.send({"level": level})
        longest = max(longest, time.monotonic() - began)
        time.sleep(gap)
    return longest


def test_each_subscriber_gets_its_own_signed_bodies_in_order_over_one_kept_alive_connection(tenant, stream,
                                                                                            receivers):
    standard, vendor = receivers(), receivers()
    first = endpoint_make(tenant, standard.url(), events=[TYPE])
    second = endpoint_make(tenant, vendor.url(), events=[TYPE], secret="plain-secret", payload_style="underscore",
                           signature_scheme="hmac-sha256-hex", signature_header="X-Level-Signature")
    stream.subscribe([first, second])
    send_spaced(stream, range(5))
    assert standard.wait_for(5) == [0, 1, 2, 3, 4]
    assert vendor.wait_for(5) == [0, 1, 2, 3, 4]
    assert standard.connections == 1 and vendor.connections == 1
    for _, headers, body in standard.requests:
        payload = verify(first.secret, headers, body)
        assert payload["type"] == "audio.level" and headers["Host"] == f"127.0.0.1:{standard.port}"
        assert headers["Content-Type"] == "application/json" and headers["User-Agent"] == http.USER_AGENT
    assert standard.user_agents == [[http.USER_AGENT]] * 5  # once, not the connection's and the delivery's
    ids = [headers["webhook-id"] for _, headers, _ in standard.requests]
    assert len(set(ids)) == 5
    for _, headers, body in vendor.requests:
        payload = verify("plain-secret", headers, body, scheme="hmac-sha256-hex", signature_header="X-Level-Signature")
        assert payload["type"] == "audio_level"
    assert [h["X-Webhook-Id"] for _, h, _ in vendor.requests] == ids  # one event, two shapes


def test_the_audio_frontend_profile_gets_its_envelope(tenant, stream, receivers):
    frontend = receivers()
    endpoint = endpoint_create(tenant=tenant, url=frontend.url(), events=[TYPE], profile="audio-frontend")
    stream.subscribe([endpoint])
    stream.send({"audioLevel": 61.6, "timestamp": "2026-12-06T09:00:00.000Z", "sessionId": "s1", "rmsDbfs": -23.01})
    deadline = time.monotonic() + 5
    while not frontend.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    _, headers, body = frontend.requests[0]
    payload = verify(endpoint.secret, headers, body, scheme=endpoint.signature_scheme,
                     signature_header=endpoint.signature_header)
    assert payload["type"] == "audio_level"
    assert payload["data"] == {"audioLevel": 61.6, "timestamp": "2026-12-06T09:00:00.000Z", "sessionId": "s1"}


def test_a_slow_subscriber_gets_the_newest_value_and_never_delays_the_others_or_the_producer(tenant, stream,
                                                                                          receivers):
    slow, fast = receivers(delay=0.6), receivers()
    stream.subscribe([endpoint_make(tenant, slow.url()), endpoint_make(tenant, fast.url())])
    longest = send_spaced(stream, range(10), gap=0.02)
    assert longest < 0.05
    assert fast.wait_for(10) == list(range(10))
    assert slow.wait_for(2) == [0, 9]  # what came while the first was in flight: only the newest


def test_a_subscriber_nobody_answers_for_never_delays_the_others(tenant, stream, receivers):
    fast = receivers()
    with socket.socket() as unused:  # a port nothing listens on: connections are refused
        unused.bind(("127.0.0.1", 0))
        dead = endpoint_make(tenant, f"http://127.0.0.1:{unused.getsockname()[1]}/hook")
    stream.subscribe([dead, endpoint_make(tenant, fast.url())])
    longest = send_spaced(stream, range(10), gap=0.02)
    assert longest < 0.05
    assert fast.wait_for(10) == list(range(10))


def test_close_drops_what_waits_lets_the_send_in_flight_end_and_sends_nothing_more(tenant, stream, receivers):
    slow = receivers(delay=0.4)
    stream.subscribe([endpoint_make(tenant, slow.url())])
    stream.send({"level": 1})
    time.sleep(0.1)
    stream.send({"level": 2})  # waits behind the first
    began = time.monotonic()
    stream.close(timeout=3)
    assert time.monotonic() - began >= 0.2  # it waited for the send in flight
    assert slow.levels() == [1]  # which had arrived when close() returned
    assert stream.send({"level": 3}) is None
    assert slow.wait_for(2, timeout=1) == [1]


def test_a_value_that_waited_is_dropped_once_a_newer_one_is_the_latest(tenant, stream, receivers):
    """How a stopped listening session's last level stays behind its "stopped": the stop marks a newer id."""
    from webhooks.ephemeral import ephemeral_mark_latest

    slow = receivers(delay=0.4)
    stream.subscribe([endpoint_make(tenant, slow.url())])
    stream.send({"level": 1})
    time.sleep(0.1)
    stream.send({"level": 2})
    ephemeral_mark_latest(tenant_id=tenant.pk, type=TYPE, event_id=new_message_id(now_ms=int(time.time() * 1000) + 1))
    assert slow.wait_for(2, timeout=1.5) == [1]


def test_an_answer_slower_than_the_ttl_is_given_up_and_the_next_value_goes_out_on_a_new_connection(
        tenant, stream, receivers, settings):
    settings.WEBHOOKS_EPHEMERAL_TTL = 0.3
    slow = receivers(delay=0.6)
    stream.subscribe([endpoint_make(tenant, slow.url())])
    stream.send({"level": 1})
    time.sleep(0.05)
    stream.send({"level": 2})  # waits, then goes out when the first is given up, 0.3 s in
    assert slow.wait_for(2, timeout=2) == [1, 2]
    assert slow.connections == 2


def test_a_kept_alive_connection_the_receiver_dropped_is_replaced_without_losing_the_value(tenant, stream,
                                                                                          receivers):
    dropping = receivers(drop_idle=True)
    stream.subscribe([endpoint_make(tenant, dropping.url())])
    send_spaced(stream, range(4), gap=0.1)
    assert dropping.wait_for(4) == [0, 1, 2, 3]  # each once
    assert dropping.connections == 4


def test_an_answer_framed_by_chunks_ends_the_connection_not_the_stream(tenant, stream, receivers):
    chunked = receivers(chunked=True)
    stream.subscribe([endpoint_make(tenant, chunked.url())])
    send_spaced(stream, range(3), gap=0.1)
    assert chunked.wait_for(3) == [0, 1, 2]
    assert chunked.connections == 3


def test_an_edited_endpoint_is_sent_to_as_edited_and_a_removed_one_gets_nothing_more(tenant, stream, receivers):
    old, new, other = receivers(), receivers(), receivers()
    moving, staying = endpoint_make(tenant, old.url()), endpoint_make(tenant, other.url())
    stream.subscribe([moving, staying])
    send_spaced(stream, [1])
    Endpoint.objects.filter(pk=moving.pk).update(url=new.url())
    stream.subscribe([Endpoint.objects.get(pk=moving.pk), staying])
    send_spaced(stream, [2])
    stream.subscribe([Endpoint.objects.get(pk=moving.pk)])
    send_spaced(stream, [3])
    assert old.wait_for(1) == [1]
    assert new.wait_for(2) == [2, 3]
    assert other.wait_for(2) == [1, 2]


def test_an_address_the_ssrf_guard_refuses_gets_nothing(tenant, stream, receivers, settings):
    refused, allowed = receivers(), receivers()
    stream.subscribe([endpoint_make(tenant, refused.url()), endpoint_make(tenant, allowed.url())])
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    settings.WEBHOOKS_ALLOWED_HOSTS = [f"127.0.0.1:{allowed.port}"]  # loopback is refused unless listed
    send_spaced(stream, [1, 2])
    assert allowed.wait_for(2) == [1, 2]
    assert refused.levels() == []
