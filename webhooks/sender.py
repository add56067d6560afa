"""The per-process sender: a worker process's webhook requests, all on one asyncio loop.

Why it exists: a delivery's outcome must be recorded when its own response arrives, and a slow or
hanging endpoint must hold only its own share of a worker. So requests run on an event loop in a
thread of the worker process, where thousands can wait at once for little memory, and each endpoint
has a lane: at most `max_in_flight` of its requests open at once, a few more waiting behind them.
What doesn't fit is handed back unsent (`released`): the caller's bookkeeping returns it to the
database, never holding it here past its lease. Nothing here touches the database: a finished job
goes to its `on_done` callback (the recorder thread in `webhooks.delivery`, or a waiting caller).

The per-endpoint cap is per worker process; N worker processes may hold N times it.
"""

import asyncio
import concurrent.futures
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from core.per_process import PerProcess
from webhooks import conf, http, payloads
from webhooks.models import Delivery, Endpoint, Event

logger = logging.getLogger(__name__)

# A lane queues this many times its cap behind the requests in flight; more is handed back.
QUEUE_FACTOR = 4
# A leased job is sent only if its lease outlasts the request by this much (seconds): its outcome
# is then recorded before the sweep could take it for abandoned and send it again.
LEASE_MARGIN = 10.0


@dataclass(eq=False)
class Job:
    """One request: a durable delivery (leased to this process until `lease_until`) or an ephemeral event."""

    endpoint: Endpoint
    event: Event
    target: http.VettedTarget
    on_done: Callable[["Job"], object]
    delivery: Delivery | None = None
    lease_until: datetime | None = None
    body: bytes | None = None  # encoded once per batch for endpoints that get the same bytes
    secrets: list[str] | None = None  # the endpoint's signing secrets, decrypted once per batch
    timeout: float | None = None
    connect_timeout: float | None = None
    # Set by the sender:
    headers: dict[str, str] = field(default_factory=dict)
    started_at: datetime | None = None
    response: http.Response | None = None
    released: str = ""  # why it was handed back unsent; "" once it was sent


def lease_needed(timeout: float | None = None) -> float:
    """Seconds of lease a job must have left to be sent: its timeout and the margin, or half the lease
    when a deployment configured a lease shorter than that (the `webhooks.W001` check warns of it)."""
    timeout = timeout or conf.get("WEBHOOKS_TIMEOUT")
    return min(timeout + LEASE_MARGIN, conf.get("WEBHOOKS_LEASE_SECONDS") / 2)


class _Lane:
    __slots__ = ("cap", "in_flight", "waiting")

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.in_flight = 0
        self.waiting: deque[Job] = deque()


class Sender:
    """An event loop in a daemon thread, its HTTP session, and one lane per endpoint."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.resolver = http.VettedResolver()
        self.lanes: dict[int, _Lane] = {}
        self.closing = False
        self._session = None
        self._session_generation = -1
        self._thread = threading.Thread(target=self._run, name="webhook-sender", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    # --- Called from other threads -------------------------------------------------------------

    def submit(self, jobs: list[Job]) -> None:
        """Queue `jobs` for sending; returns at once. Each job's `on_done` runs when it is finished."""
        if not jobs:
            return
        for job in jobs:
            self.resolver.remember(job.target)
        self.loop.call_soon_threadsafe(self._admit, jobs)

    def send_and_wait(self, jobs: list[Job], timeout: float | None = None) -> list[Job]:
        """Send `jobs` and wait until every one is finished (tests, commands, the admin's test send)."""
        futures = []
        for job in jobs:
            future: concurrent.futures.Future = concurrent.futures.Future()
            job.on_done = future.set_result
            futures.append(future)
        self.submit(jobs)
        limit = timeout or (conf.get("WEBHOOKS_TIMEOUT") + conf.get("WEBHOOKS_CONNECT_TIMEOUT") + LEASE_MARGIN)
        concurrent.futures.wait(futures, timeout=limit * max(1, len(jobs)))
        return jobs

    def release_waiting(self, endpoint_id: int, reason: str) -> None:
        """Hand back every job waiting for `endpoint_id` (its circuit opened): none of them goes out."""
        self.loop.call_soon_threadsafe(self._release_waiting, endpoint_id, reason)

    def busy_endpoints(self) -> set[int]:
        """Endpoints whose lane here is full: claiming more of theirs would only queue or hand back."""
        return self._ask(lambda: {pk for pk, lane in self.lanes.items() if lane.in_flight >= lane.cap})

    def load(self) -> int:
        """Requests in flight or waiting in this process."""
        return self._ask(lambda: sum(lane.in_flight + len(lane.waiting) for lane in self.lanes.values()))

    def drain(self, timeout: float) -> None:
        """Stop taking work, hand back what waits, and give what is in flight up to `timeout` to finish."""
        self.closing = True
        try:
            asyncio.run_coroutine_threadsafe(self._drain(timeout), self.loop).result(timeout + 1)
        except Exception:
            logger.warning("webhook sender did not drain in %s s", timeout, exc_info=True)

    def _ask(self, question: Callable):
        async def answer():
            return question()

        return asyncio.run_coroutine_threadsafe(answer(), self.loop).result(5)

    # --- On the loop ----------------------------------------------------------------------------

    def _lane(self, endpoint: Endpoint) -> _Lane:
        cap = endpoint.max_in_flight or conf.get("WEBHOOKS_MAX_IN_FLIGHT")
        lane = self.lanes.get(endpoint.pk)
        if lane is None:
            lane = self.lanes[endpoint.pk] = _Lane(cap)
        lane.cap = cap  # an edited endpoint's new cap applies from its next delivery
        return lane

    def _admit(self, jobs: list[Job]) -> None:
        for job in jobs:
            lane = self._lane(job.endpoint)
            if self.closing:
                self._finish(job, released="worker shutting down")
            elif lane.in_flight < lane.cap:
                self._start(lane, job)
            elif len(lane.waiting) < lane.cap * QUEUE_FACTOR:
                lane.waiting.append(job)
            else:
                self._finish(job, released="endpoint busy: its in-flight cap is reached")

    def _start(self, lane: _Lane, job: Job) -> None:
        lane.in_flight += 1
        self.loop.create_task(self._send(lane, job))

    async def _send(self, lane: _Lane, job: Job) -> None:
        released = ""
        try:
            now = timezone.now()
            if job.lease_until is not None and (job.lease_until - now).total_seconds() < lease_needed(job.timeout):
                released = "waited too long for the endpoint: its lease would lapse in flight"
            else:
                job.body, job.headers = payloads.build_request(event=job.event, endpoint=job.endpoint, now=now,
                                                               body=job.body, secrets=job.secrets)
                job.started_at = now
                job.response = await http.post(self._http(), job.target, job.body, job.headers,
                                               connect_timeout=job.connect_timeout, timeout=job.timeout)
        except Exception as exc:  # a bug of ours: recorded as a failed try, never a lane that leaks a slot
            logger.exception("sending to endpoint %s failed inside Streamhook", job.endpoint.pk)
            job.started_at = job.started_at or timezone.now()
            job.response = http.Response(None, {}, "", 0, error=f"internal error: {type(exc).__name__}")
        finally:
            lane.in_flight -= 1
            self._pump(lane)
        self._finish(job, released=released)

    def _pump(self, lane: _Lane) -> None:
        while lane.waiting and lane.in_flight < lane.cap and not self.closing:
            self._start(lane, lane.waiting.popleft())

    def _finish(self, job: Job, *, released: str = "") -> None:
        job.released = released
        try:
            job.on_done(job)
        except Exception:
            logger.exception("recording a webhook request failed")

    def _release_waiting(self, endpoint_id: int, reason: str) -> None:
        lane = self.lanes.get(endpoint_id)
        while lane is not None and lane.waiting:
            self._finish(lane.waiting.popleft(), released=reason)

    async def _drain(self, timeout: float) -> None:
        for endpoint_id in list(self.lanes):
            self._release_waiting(endpoint_id, "worker shutting down")
        deadline = self.loop.time() + timeout
        while any(lane.in_flight for lane in self.lanes.values()) and self.loop.time() < deadline:
            await asyncio.sleep(0.05)

    def _http(self):
        if self._session is None or self._session_generation != http.generation():
            old = self._session
            self._session = http.new_session(self.resolver)
            self._session_generation = http.generation()
            if old is not None:
                self.loop.create_task(old.close())
        return self._session


_sender: PerProcess[Sender] = PerProcess(Sender)


def get() -> Sender:
    """This process's sender, started on first use (after a fork, never inherited from the parent)."""
    return _sender.get()


def running() -> Sender | None:
    """This process's sender if it was started, else None (shutdown hooks)."""
    return _sender.current()
