"""The delivery engine: claim deliveries, hand them to the sender, record each outcome, schedule retries.

The database is the source of truth. A delivery is `pending` until it succeeds or fails for good;
a worker works on it only while it holds the lease (`locked_until`), which it takes with a
race-safe claim: `select_for_update(skip_locked=True, no_key=True)` on PostgreSQL, a conditional UPDATE
whose row count is checked elsewhere. A killed worker's lease lapses and the beat sweep claims
the row again, so every delivery is sent at least once.

Isolation: claimed deliveries go to this process's sender (`webhooks.sender`), which sends each
endpoint's within its own in-flight cap on one event loop. Each finished request goes to the
recorder thread, which writes whatever has finished since its last write (attempt rows,
outcomes, circuit and health) in a few bulk statements: no outcome waits for a slower send.
A lease outlasts the request by `sender.LEASE_MARGIN`, so without a crash nothing is in flight
when the sweep could take it for abandoned.

Outcomes (docs/webhooks-delivery.md, "Outcomes and retries"): 2xx succeeds; 410 fails and
disables the endpoint; 408, 425, 429, 5xx, timeouts and connection errors are retried on the
schedule; any other status (3xx included: redirects are not followed) fails without retry.
"""

import logging
import queue
import random
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import Enum

from django.db import connection, transaction
from django.db.models import Case, F, Q, When
from django.utils import timezone

from core.bulk import rows_append
from core.eventtime import format_timestamp
from core.per_process import PerProcess
from webhooks import conf, enqueue, http, payloads, ratelimit, sender, signing
from webhooks.circuit import circuit_probe_abandon, circuit_record, circuits_to_probe
from webhooks.events import emit
from webhooks.models import Attempt, Delivery, Endpoint
from webhooks.sender import Job
from webhooks.ssrf import UnsafeTargetURL

logger = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({408, 425, 429})
# A countdown task may wake a little before the row's `next_attempt_at` (clocks, rounding).
CLAIM_SLACK = timedelta(seconds=1)


class Outcome(Enum):
    SUCCEEDED = "succeeded"
    RETRY = "retry"
    FAILED = "failed"
    GONE = "gone"  # 410: fail and disable the endpoint


def classify(status: int | None) -> Outcome:
    """The outcome of one HTTP try; `None` means no response (timeout, connection error)."""
    if status is None:
        return Outcome.RETRY
    if 200 <= status < 300:
        return Outcome.SUCCEEDED
    if status == 410:
        return Outcome.GONE
    if status in RETRYABLE_STATUSES or status >= 500:
        return Outcome.RETRY
    return Outcome.FAILED


def failure_text(response: http.Response) -> str:
    """What went wrong, for `last_error`; a redirect says where it pointed, since that is the fix."""
    if response.error:
        return response.error
    if 300 <= response.status < 400:
        location = response.headers.get("Location") or response.headers.get("location")
        where = f" to {location[:500]}" if location else ""
        return f"HTTP {response.status}: redirect{where} not followed; set the endpoint's URL to the final address"
    return f"HTTP {response.status}"


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds asked for by a `Retry-After` header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, (moment - now).total_seconds())


def retry_delay(*, schedule: list[float], retry_index: int, retry_after: float | None = None,
                rng: random.Random | None = None) -> float | None:
    """Seconds until the next try, or None when the schedule is exhausted.

    `retry_index` 0 is the first retry. Each scheduled wait gets ±20 % jitter; a `Retry-After`
    replaces it, capped at WEBHOOKS_RETRY_AFTER_CAP.
    """
    if retry_index >= len(schedule):
        return None
    if retry_after is not None:
        return min(retry_after, conf.get("WEBHOOKS_RETRY_AFTER_CAP"))
    return float(schedule[retry_index]) * (rng or random).uniform(0.8, 1.2)


def schedule_for(endpoint: Endpoint) -> list[float]:
    if endpoint.retry_schedule is None:
        return conf.get("WEBHOOKS_RETRY_SCHEDULE")
    return endpoint.retry_schedule


@contextmanager
def engine_atomic():
    """A transaction for the engine's bookkeeping, committed without waiting for the WAL flush.

    Safe for at-least-once: if PostgreSQL crashes and loses such a commit, the rows go back to
    what they were (an event not fanned out, a delivery pending under a lapsing lease) and are
    sent again; nothing is lost, a receiver may see a duplicate. Never used for `emit()`.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        yield


def lease_until(now: datetime) -> datetime:
    return now + timedelta(seconds=conf.get("WEBHOOKS_LEASE_SECONDS"))


# --- Claiming ---------------------------------------------------------------------------------


def _claimable(now: datetime) -> Q:
    """Pending, not leased to a live worker, and to an endpoint whose circuit lets deliveries through."""
    return (Q(status=Delivery.Status.PENDING) & (Q(locked_until__isnull=True) | Q(locked_until__lt=now))
            & Q(endpoint__circuit=Endpoint.Circuit.CLOSED))


def _claim(queryset, *, limit: int, now: datetime) -> list[int]:
    """Lease up to `limit` rows of `queryset` (already filtered to claimable rows) to this worker."""
    until = lease_until(now)
    with engine_atomic():
        if connection.features.has_select_for_update_skip_locked:
            # NO KEY: an attempt being recorded refers to its delivery, and that reference's key-share
            # lock must not make a claim skip the row (only another claim's lock should).
            ids = list(queryset.select_for_update(skip_locked=True, no_key=True, of=("self",))
                       .values_list("id", flat=True)[:limit])
            if ids:
                Delivery.objects.filter(id__in=ids).update(locked_until=until)
            return ids
        # SQLite: one conditional UPDATE per row; a row another worker took first matches 0 rows.
        claimed = []
        for pk in queryset.values_list("id", flat=True)[:limit]:
            # The caller's own conditions, not `_claimable`: a probe claims a row of an open circuit.
            if queryset.filter(pk=pk).update(locked_until=until):
                claimed.append(pk)
        return claimed


def claim_ids(*, delivery_ids: list[int], now: datetime) -> list[int]:
    qs = Delivery.objects.filter(_claimable(now), id__in=delivery_ids, next_attempt_at__lte=now + CLAIM_SLACK)
    return _claim(qs.order_by("id"), limit=len(delivery_ids), now=now)


def claim_due(*, limit: int, now: datetime, grace: float = 0.0, skip_endpoints: set[int] | frozenset = frozenset()
              ) -> list[int]:
    """Due rows not in flight; rows younger than `grace` are left to the task enqueued for them, and
    endpoints in `skip_endpoints` (full here) to later or to another worker."""
    qs = Delivery.objects.filter(_claimable(now), next_attempt_at__lte=now - timedelta(seconds=grace))
    if skip_endpoints:
        qs = qs.exclude(endpoint_id__in=skip_endpoints)
    return _claim(qs.order_by("next_attempt_at"), limit=limit, now=now)


def claim_probe(*, endpoint_id: int, now: datetime) -> list[int]:
    """The delivery an open circuit is probed with: its endpoint's oldest pending one, due or not."""
    qs = Delivery.objects.filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now),
                                 endpoint_id=endpoint_id, status=Delivery.Status.PENDING)
    return _claim(qs.order_by("next_attempt_at", "id"), limit=1, now=now)


# --- Preparing and sending ----------------------------------------------------------------------


@dataclass
class SendReport:
    sent: int = 0
    succeeded: int = 0
    retrying: int = 0
    failed: int = 0
    deferred: int = 0  # held back by the endpoint's rate limit
    released: int = 0  # handed back unsent (circuit open, endpoint busy), to be sent later

    def add(self, other: "SendReport") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class _Prepared:
    jobs: list[Job]
    finished: list[tuple[Delivery, Job | None, str]]  # failed for good before sending (or instead of it)
    deferred: list[tuple[Delivery, float]]  # held back by the rate limit for this many seconds
    released: list[Job]  # not sent now (circuit open): back to the database as they were


def _load(ids: list[int]) -> list[Delivery]:
    if not ids:
        return []
    return list(Delivery.objects.filter(id__in=ids).select_related("event", "endpoint").order_by("id"))


def _prepare(deliveries: list[Delivery], *, now: datetime, probes: frozenset[int] = frozenset()) -> _Prepared:
    """Jobs for the sender, and what is decided without sending. Blocking (DNS): never on the loop."""
    prepared = _Prepared([], [], [], [])
    bodies: dict[tuple, bytes] = {}
    # Decrypted once per endpoint and batch, not once per request on the sender's loop.
    secrets: dict[int, list[str]] = {}
    for delivery in deliveries:
        endpoint = delivery.endpoint
        # The lease the row holds, not one computed now: a released job is handed back only if the
        # row still holds exactly this lease, and the fan-out leased its rows a moment earlier.
        until = delivery.locked_until or lease_until(now)
        if not endpoint.is_active or endpoint.deleted_at is not None:
            prepared.finished.append((delivery, None, "endpoint disabled"))
            continue
        if endpoint.circuit != Endpoint.Circuit.CLOSED and delivery.pk not in probes:
            prepared.released.append(Job(endpoint=endpoint, event=delivery.event, target=None, on_done=_noop,
                                         delivery=delivery, lease_until=until, released="circuit open"))
            continue
        if endpoint.rate_limit:
            wait = ratelimit.acquire(endpoint.pk, endpoint.rate_limit)
            if wait > 0:
                prepared.deferred.append((delivery, wait))
                continue
        key = (delivery.event_id, *payloads.body_key(endpoint))
        if key not in bodies:
            bodies[key] = payloads.body_for(event=delivery.event, endpoint=endpoint)
        try:
            target = http.vetted(endpoint.url)
        except UnsafeTargetURL as exc:
            # Refused at send time (the host now resolves inside our network): never retried.
            body, headers = payloads.build_request(event=delivery.event, endpoint=endpoint, now=now,
                                                   body=bodies[key])
            job = Job(endpoint=endpoint, event=delivery.event, target=None, on_done=_noop, delivery=delivery,
                      body=body, headers=headers, started_at=timezone.now(),
                      response=http.Response(None, {}, "", 0, error=f"refused target: {exc}"))
            prepared.finished.append((delivery, job, job.response.error))
            continue
        if endpoint.pk not in secrets:
            secrets[endpoint.pk] = endpoint.signing_secrets(now)
        prepared.jobs.append(Job(endpoint=endpoint, event=delivery.event, target=target, on_done=_noop,
                                 delivery=delivery, lease_until=until, body=bodies[key], secrets=secrets[endpoint.pk]))
    return prepared


def _noop(job: Job) -> None:
    return None


def deliveries_dispatch(*, deliveries: list[Delivery], now: datetime | None = None,
                        probes: frozenset[int] = frozenset()) -> int:
    """Hand deliveries this worker holds the lease on to the sender and return at once (Celery tasks).

    Each outcome is recorded by the recorder thread when its response arrives. Returns how many
    requests were handed over.
    """
    if not deliveries:
        return 0
    now = now or timezone.now()
    prepared = _prepare(deliveries, now=now, probes=probes)
    if prepared.finished or prepared.deferred or prepared.released:
        _record(sent=[], released=prepared.released, finished=prepared.finished, deferred=prepared.deferred,
                now=timezone.now(), report=SendReport())
    recorder = _recorders.get()
    for job in prepared.jobs:
        job.on_done = recorder.put
    sender.get().submit(prepared.jobs)
    return len(prepared.jobs)


def deliveries_send_claimed(*, deliveries: list[Delivery], now: datetime | None = None,
                            probes: frozenset[int] = frozenset()) -> SendReport:
    """Send deliveries this worker holds the lease on, wait for them, and record every outcome in this
    thread (and its transaction): for commands, tests and anything that reports what happened."""
    now = now or timezone.now()
    report = SendReport()
    if not deliveries:
        return report
    prepared = _prepare(deliveries, now=now, probes=probes)
    done = sender.get().send_and_wait(prepared.jobs) if prepared.jobs else []
    _record(sent=[job for job in done if not job.released and job.response is not None],
            released=prepared.released + [job for job in done if job.released or job.response is None],
            finished=prepared.finished, deferred=prepared.deferred, now=timezone.now(), report=report)
    return report


def deliveries_send(*, delivery_ids: list[int], now: datetime | None = None) -> SendReport:
    """Claim the given deliveries (those still pending, due and not in flight), send them and wait."""
    now = now or timezone.now()
    claimed = claim_ids(delivery_ids=delivery_ids, now=now)
    return deliveries_send_claimed(deliveries=_load(claimed), now=now)


def deliveries_dispatch_ids(*, delivery_ids: list[int], now: datetime | None = None) -> int:
    """Claim the given deliveries and hand them to the sender (the `deliver` task)."""
    now = now or timezone.now()
    return deliveries_dispatch(deliveries=_load(claim_ids(delivery_ids=delivery_ids, now=now)), now=now)


def deliveries_send_due(*, now: datetime | None = None, grace: float | None = None,
                        budget: float | None = None) -> SendReport:
    """Claim due deliveries batch after batch and send them, waiting for each batch (commands, tests)."""
    grace = conf.get("WEBHOOKS_SWEEP_GRACE") if grace is None else grace
    budget = conf.get("WEBHOOKS_SWEEP_BUDGET") if budget is None else budget
    batch = conf.get("WEBHOOKS_BATCH_SIZE")
    total = SendReport()
    deadline = time.monotonic() + budget
    fixed_now = now
    while time.monotonic() < deadline:
        now = fixed_now or timezone.now()
        claimed = claim_due(limit=batch, now=now, grace=grace)
        if not claimed:
            break
        total.add(deliveries_send_claimed(deliveries=_load(claimed), now=now))
        if len(claimed) < batch:
            break
    return total


def deliveries_dispatch_due(*, now: datetime | None = None, grace: float | None = None) -> int:
    """The sweep's half: probe open circuits whose time has come, then hand due deliveries to the
    sender, as many as this process has room for, skipping endpoints whose lane here is full."""
    now = now or timezone.now()
    grace = conf.get("WEBHOOKS_SWEEP_GRACE") if grace is None else grace
    handed = 0
    for endpoint_id in circuits_to_probe(now=now):
        ids = claim_probe(endpoint_id=endpoint_id, now=now)
        if not ids:
            circuit_probe_abandon(endpoint_id=endpoint_id, now=now)
            continue
        handed += deliveries_dispatch(deliveries=_load(ids), now=now, probes=frozenset(ids))
    batch = conf.get("WEBHOOKS_BATCH_SIZE")
    room = conf.get("WEBHOOKS_PROCESS_MAX_PENDING") - sender.get().load()
    busy = sender.get().busy_endpoints()
    while room > 0:
        claimed = claim_due(limit=min(batch, room), now=now, grace=grace, skip_endpoints=busy)
        if not claimed:
            break
        handed += deliveries_dispatch(deliveries=_load(claimed), now=now)
        room -= len(claimed)
        if len(claimed) < batch:
            break
    return handed


# --- The recorder -------------------------------------------------------------------------------


class _Recorder:
    """A thread that writes finished requests: whatever finished since its last write, in one go."""

    MAX_BATCH = 500

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self.idle = threading.Event()
        self.idle.set()
        self.thread = threading.Thread(target=self._run, name="webhook-recorder", daemon=True)
        self.thread.start()

    def put(self, job: Job) -> None:
        self.idle.clear()
        self.queue.put(job)

    def flush(self, timeout: float) -> bool:
        """Wait until everything put so far is written (worker shutdown); whether it was."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.queue.empty() and self.idle.wait(0.05):
                return True
        return False

    def _run(self) -> None:
        while True:
            batch = [self.queue.get()]
            self.idle.clear()
            while len(batch) < self.MAX_BATCH:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)
            if self.queue.empty():
                self.idle.set()

    def _write(self, batch: list[Job]) -> None:
        sent = [job for job in batch if not job.released]
        released = [job for job in batch if job.released]
        for attempt in range(3):
            try:
                _record(sent=sent, released=released, finished=[], deferred=[], now=timezone.now(),
                        report=SendReport())
                return
            except Exception:
                # Not written: the leases lapse and the sweep sends these again (at least once).
                logger.exception("could not record %s webhook requests (try %s of 3)", len(batch), attempt + 1)
                connection.close()  # a broken connection is replaced on the next query
                time.sleep(0.5 * (attempt + 1))


_recorders: PerProcess[_Recorder] = PerProcess(_Recorder)


def engine_shutdown(timeout: float | None = None) -> None:
    """A worker process is stopping: let what is in flight finish and be recorded, hand back the rest."""
    running = sender.running()
    if running is None:
        return
    timeout = conf.get("WEBHOOKS_TIMEOUT") + 1 if timeout is None else timeout
    running.drain(timeout)
    recorder = _recorders.current()
    if recorder is not None:
        recorder.flush(timeout)


# --- Recording outcomes -------------------------------------------------------------------------

# Operational events never announce their own deliveries' failure (that could go on forever).
QUIET_TYPES = frozenset({"delivery.exhausted", "endpoint.failing", "endpoint.recovered", "endpoint.disabled"})


def _record(*, sent: list[Job], released: list[Job], finished, deferred, now: datetime, report: SendReport) -> None:
    attempts: list[dict] = []
    succeeded_by_code: dict[int, list[int]] = defaultdict(list)
    changed: list[Delivery] = []
    countdowns: dict[float, list[int]] = defaultdict(list)
    endpoint_ok: dict[int, Endpoint] = {}
    endpoint_failed: dict[int, Endpoint] = {}
    gone: dict[int, tuple[Endpoint, str]] = {}
    results: dict[int, list[bool]] = defaultdict(list)
    endpoints: dict[int, Endpoint] = {}
    last_errors: dict[int, str] = {}
    exhausted: list[Delivery] = []

    def attempt(job: Job, succeeded: bool) -> None:
        delivery, response = job.delivery, job.response
        attempts.append({
            "delivery_id": delivery.pk, "number": delivery.attempt_count + 1, "started_at": job.started_at,
            "duration_ms": response.duration_ms, "url": delivery.endpoint.url,
            "request_headers": signing.redact_headers(job.headers, delivery.endpoint.signature_header),
            "request_body": (job.body or b"").decode("utf-8", "replace"),
            "status_code": response.status, "response_headers": response.headers, "response_body": response.body,
            "error": response.error[:2000], "succeeded": succeeded,
        })

    for job in sent:
        delivery, response = job.delivery, job.response
        outcome = classify(response.status)
        report.sent += 1
        attempt(job, outcome is Outcome.SUCCEEDED)
        endpoint = delivery.endpoint
        endpoints[endpoint.pk] = endpoint
        results[endpoint.pk].append(outcome is Outcome.SUCCEEDED)
        if outcome is Outcome.SUCCEEDED:
            report.succeeded += 1
            succeeded_by_code[response.status].append(delivery.pk)
            endpoint_ok[endpoint.pk] = endpoint
            continue
        delivery.attempt_count += 1
        delivery.last_status_code = response.status
        delivery.last_error = last_errors[endpoint.pk] = failure_text(response)
        delivery.locked_until = None
        if outcome is Outcome.GONE:
            gone[endpoint.pk] = (endpoint, "HTTP 410 Gone")
        endpoint_failed[endpoint.pk] = endpoint
        delay = None
        if outcome is Outcome.RETRY:
            retry_after = parse_retry_after(response.headers.get("Retry-After") or response.headers.get("retry-after"),
                                            now=now)
            delay = retry_delay(schedule=schedule_for(endpoint),
                                retry_index=delivery.attempt_count - delivery.retry_base - 1,
                                retry_after=retry_after)
        if delay is None:
            report.failed += 1
            delivery.status = Delivery.Status.FAILED
            delivery.completed_at = now
            delivery.next_attempt_at = None
            exhausted.append(delivery)
        else:
            report.retrying += 1
            delivery.next_attempt_at = now + timedelta(seconds=delay)
            if delay <= conf.get("WEBHOOKS_COUNTDOWN_MAX"):
                countdowns[round(delay, 1)].append(delivery.pk)
        changed.append(delivery)

    for delivery, job, error in finished:
        report.failed += 1
        if job is not None:
            report.sent += 1
            attempt(job, False)
            delivery.attempt_count += 1
        delivery.status = Delivery.Status.FAILED
        delivery.last_error = error
        delivery.completed_at = now
        delivery.next_attempt_at = None
        delivery.locked_until = None
        changed.append(delivery)

    for delivery, wait in deferred:
        report.deferred += 1
        delivery.next_attempt_at = now + timedelta(seconds=wait)
        delivery.locked_until = None
        changed.append(delivery)
        if wait <= conf.get("WEBHOOKS_COUNTDOWN_MAX"):
            countdowns[round(wait, 1)].append(delivery.pk)

    with engine_atomic():
        rows_append(Attempt, attempts)
        for code, ids in succeeded_by_code.items():
            Delivery.objects.filter(id__in=ids).update(
                status=Delivery.Status.SUCCEEDED, attempt_count=F("attempt_count") + 1, last_status_code=code,
                last_error="", completed_at=now, next_attempt_at=None, locked_until=None, updated_at=now,
            )
        if changed:
            for delivery in changed:
                delivery.updated_at = now
            Delivery.objects.bulk_update(changed, [
                "status", "attempt_count", "last_status_code", "last_error", "completed_at", "next_attempt_at",
                "locked_until", "updated_at",
            ], batch_size=200)
        report.released += _release(released, now=now)
        _update_endpoint_health(ok=endpoint_ok, failed=endpoint_failed, gone=gone, now=now)
        opened = [pk for pk, oks in results.items()
                  if circuit_record(endpoint=endpoints[pk], results=oks, last_error=last_errors.get(pk, ""),
                                    now=now) == Endpoint.Circuit.OPEN]
        for delivery in exhausted:
            _emit_exhausted(delivery, now=now)
        for delay, ids in countdowns.items():
            enqueue.deliver_after_commit(ids, countdown=delay)
        if opened:
            running = sender.running()
            if running is not None:
                transaction.on_commit(lambda: [running.release_waiting(pk, "circuit open") for pk in opened])


# Released because the endpoint was busy: back after this long, so the sweeps don't hand the same rows
# back and forth while a slow endpoint's lane is full.
BUSY_BACKOFF = timedelta(seconds=5)


def _release(jobs: list[Job], *, now: datetime) -> int:
    """Return unsent deliveries to the database as they were (no attempt counted), if still ours."""
    by_lease: dict[tuple, list[int]] = defaultdict(list)
    for job in jobs:
        busy = job.released.startswith("endpoint busy")
        by_lease[(job.lease_until, busy)].append(job.delivery.pk)
    for (lease, busy), ids in by_lease.items():
        rows = Delivery.objects.filter(id__in=ids, status=Delivery.Status.PENDING, locked_until=lease)
        if busy:
            rows.update(locked_until=None, next_attempt_at=now + BUSY_BACKOFF)
        else:
            rows.update(locked_until=None)
    return len(jobs)


def _emit_exhausted(delivery: Delivery, *, now: datetime) -> None:
    event = delivery.event
    if event.type in QUIET_TYPES:
        return
    emit("delivery.exhausted", {
        "delivery_id": delivery.pk, "event_id": event.pk, "event_type": event.type,
        "endpoint_id": delivery.endpoint_id, "url": delivery.endpoint.url, "attempts": delivery.attempt_count,
        "last_status_code": delivery.last_status_code, "last_error": delivery.last_error[:500],
        "failed_at": format_timestamp(now),
    }, tenant=delivery.endpoint.tenant)


# --- Endpoint health --------------------------------------------------------------------------


def _update_endpoint_health(*, ok: dict[int, Endpoint], failed: dict[int, Endpoint],
                            gone: dict[int, tuple[Endpoint, str]], now: datetime) -> None:
    recovered = [pk for pk, endpoint in ok.items() if endpoint.failing_since is not None]
    if recovered:
        Endpoint.objects.filter(pk__in=recovered).update(failing_since=None)
    for endpoint, reason in gone.values():
        endpoint_disable(endpoint=endpoint, reason=reason, now=now)
    disable_after = timedelta(seconds=conf.get("WEBHOOKS_DISABLE_AFTER"))
    for pk, endpoint in failed.items():
        if pk in ok or pk in gone:
            continue  # one delivery got through: the endpoint is not failing throughout
        if endpoint.failing_since is None:
            Endpoint.objects.filter(pk=pk, failing_since__isnull=True).update(failing_since=now)
        elif now - endpoint.failing_since >= disable_after:
            days = disable_after.total_seconds() / 86400
            endpoint_disable(endpoint=endpoint, now=now,
                             reason=f"every delivery failed since {format_timestamp(endpoint.failing_since)}"
                                    f" ({days:g} days)")


def endpoint_disable(*, endpoint: Endpoint, reason: str, now: datetime | None = None) -> bool:
    """Disable `endpoint` and emit `endpoint.disabled`; False when it was already inactive."""
    now = now or timezone.now()
    with transaction.atomic():
        changed = Endpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
            is_active=False, disabled_reason=reason[:200], disabled_at=now, updated_at=now,
        )
        if not changed:
            return False
        endpoint.is_active, endpoint.disabled_reason, endpoint.disabled_at = False, reason[:200], now
        # The id, not the URL: a subscriber URL often carries its own credential (Slack-style paths, ?token=).
        logger.warning("endpoint %s of tenant %s disabled: %s", endpoint.pk, endpoint.tenant_id, reason)
        emit("endpoint.disabled", {
            "endpoint_id": endpoint.pk, "url": endpoint.url, "reason": reason,
            "disabled_at": format_timestamp(now),
        }, tenant=endpoint.tenant)
    return True


# --- Public services: enqueue, redeliver, recover ---------------------------------------------


def delivery_enqueue(*, delivery_ids: list[int], countdown: float | None = None) -> None:
    """Ask a worker to send these deliveries soon (after the current transaction commits).

    The message only wakes a worker: if it is lost, the sweep sends the rows anyway.
    """
    enqueue.deliver_after_commit(delivery_ids, countdown=countdown)


def delivery_redeliver(*, delivery: Delivery, now: datetime | None = None) -> Delivery:
    """Send `delivery` again: back to pending, same event id (so the same `webhook-id`).

    Attempt numbers continue; the retry schedule starts over from this point. A delivery a worker
    is sending right now keeps that worker's lease: clearing it would let a second worker send the
    same delivery concurrently under the same attempt number. The send in flight is the resend.
    """
    now = now or timezone.now()
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.PENDING, next_attempt_at=now, completed_at=None,
            locked_until=Case(When(locked_until__gt=now, then=F("locked_until")), default=None),
            retry_base=F("attempt_count"), updated_at=now,
        )
        delivery.refresh_from_db()
        delivery_enqueue(delivery_ids=[delivery.pk])
    return delivery


def deliveries_recover(*, endpoint: Endpoint, since: datetime, now: datetime | None = None) -> int:
    """Re-send every delivery of `endpoint` that failed since `since`; returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            Delivery.objects.filter(endpoint=endpoint, status=Delivery.Status.FAILED, created_at__gte=since)
            .values_list("id", flat=True)
        )
        Delivery.objects.filter(id__in=ids).update(
            status=Delivery.Status.PENDING, next_attempt_at=now, locked_until=None, completed_at=None,
            retry_base=F("attempt_count"), updated_at=now,
        )
        delivery_enqueue(delivery_ids=ids)
    return len(ids)
