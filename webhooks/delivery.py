"""The delivery engine: claim deliveries, send them concurrently, log attempts, schedule retries.

The database is the source of truth. A delivery is `pending` until it succeeds or fails for good;
a worker works on it only while it holds the lease (`locked_until`), which it takes with a
race-safe claim: `select_for_update(skip_locked=True)` on PostgreSQL, a conditional UPDATE
whose row count is checked elsewhere. A killed worker's lease lapses and the beat sweep claims
the row again, so every delivery is sent at least once.

Throughput comes from batching: a batch of claimed deliveries is sent by a thread pool over
kept-alive connections (`webhooks.http`), and its attempt rows and outcomes are written with a
handful of bulk statements.

Outcomes (DESIGN.md section 5): 2xx succeeds; 410 fails and disables the endpoint; 408, 425,
429, 5xx, timeouts and connection errors are retried on the schedule; any other status
(3xx included: redirects are not followed) fails without retry.
"""

import logging
import os
import random
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import Enum

from django.db import connection, transaction
from django.db.models import Case, F, Q, When
from django.utils import timezone

from webhooks import conf, http, payloads, ratelimit, signing
from webhooks.models import Attempt, Delivery, Endpoint, Event
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


# --- Building the request -------------------------------------------------------------------


def build_request(*, event: Event, endpoint: Endpoint, now: datetime, body: bytes | None = None
                  ) -> tuple[bytes, dict[str, str]]:
    """The body and headers of `event` for `endpoint`, signed with every secret still honoured."""
    if body is None:
        body = payloads.body_for(event=event, endpoint=endpoint)
    headers = {
        **payloads.extra_headers(endpoint),
        "Content-Type": "application/json",
        "User-Agent": http.USER_AGENT,
        **signing.signature_headers(
            scheme=endpoint.signature_scheme, secrets=endpoint.signing_secrets(now), msg_id=event.id,
            timestamp=int(now.timestamp()), body=body, header=endpoint.signature_header,
        ),
    }
    return body, headers


# --- Claiming ---------------------------------------------------------------------------------


def _claimable(now: datetime) -> Q:
    return Q(status=Delivery.Status.PENDING) & (Q(locked_until__isnull=True) | Q(locked_until__lt=now))


def _claim(queryset, *, limit: int, now: datetime) -> list[int]:
    """Lease up to `limit` rows of `queryset` (already filtered to claimable rows) to this worker."""
    until = lease_until(now)
    with engine_atomic():
        if connection.features.has_select_for_update_skip_locked:
            ids = list(queryset.select_for_update(skip_locked=True).values_list("id", flat=True)[:limit])
            if ids:
                Delivery.objects.filter(id__in=ids).update(locked_until=until)
            return ids
        # SQLite: one conditional UPDATE per row; a row another worker took first matches 0 rows.
        claimed = []
        for pk in queryset.values_list("id", flat=True)[:limit]:
            if Delivery.objects.filter(_claimable(now), pk=pk).update(locked_until=until):
                claimed.append(pk)
        return claimed


def claim_ids(*, delivery_ids: list[int], now: datetime) -> list[int]:
    qs = Delivery.objects.filter(_claimable(now), id__in=delivery_ids, next_attempt_at__lte=now + CLAIM_SLACK)
    return _claim(qs.order_by("id"), limit=len(delivery_ids), now=now)


def claim_due(*, limit: int, now: datetime, grace: float = 0.0) -> list[int]:
    """Due rows not in flight; rows younger than `grace` are left to the task enqueued for them."""
    qs = Delivery.objects.filter(_claimable(now), next_attempt_at__lte=now - timedelta(seconds=grace))
    return _claim(qs.order_by("next_attempt_at"), limit=limit, now=now)


# --- Sending ----------------------------------------------------------------------------------

_executor: ThreadPoolExecutor | None = None
_executor_pid = 0
_executor_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """One thread pool per worker process (created after the fork, never inherited)."""
    global _executor, _executor_pid
    if _executor is None or _executor_pid != os.getpid():
        with _executor_lock:
            if _executor is None or _executor_pid != os.getpid():
                _executor = ThreadPoolExecutor(conf.get("WEBHOOKS_SEND_THREADS"), thread_name_prefix="webhook-send")
                _executor_pid = os.getpid()
    return _executor


@dataclass
class _Job:
    delivery: Delivery
    target: http.VettedTarget | None
    body: bytes
    headers: dict[str, str]
    started_at: datetime
    response: http.Response | None = None


@dataclass
class SendReport:
    sent: int = 0
    succeeded: int = 0
    retrying: int = 0
    failed: int = 0
    deferred: int = 0  # held back by the endpoint's rate limit


def deliveries_send(*, delivery_ids: list[int], now: datetime | None = None) -> SendReport:
    """Claim the given deliveries (those still pending, due and not in flight) and send them."""
    now = now or timezone.now()
    claimed = claim_ids(delivery_ids=delivery_ids, now=now)
    return deliveries_send_claimed(deliveries=_load(claimed), now=now)


def deliveries_send_due(*, now: datetime | None = None, grace: float | None = None,
                        budget: float | None = None) -> SendReport:
    """The sweep's half: claim due deliveries batch after batch until none are left or time is up."""
    import time

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
        report = deliveries_send_claimed(deliveries=_load(claimed), now=now)
        for field in ("sent", "succeeded", "retrying", "failed", "deferred"):
            setattr(total, field, getattr(total, field) + getattr(report, field))
        if len(claimed) < batch:
            break
    return total


def _load(ids: list[int]) -> list[Delivery]:
    if not ids:
        return []
    return list(Delivery.objects.filter(id__in=ids).select_related("event", "endpoint").order_by("id"))


def deliveries_send_claimed(*, deliveries: list[Delivery], now: datetime | None = None) -> SendReport:
    """Send deliveries this worker holds the lease on, then record every outcome in bulk."""
    now = now or timezone.now()
    report = SendReport()
    if not deliveries:
        return report
    jobs: list[_Job] = []
    finished: list[tuple[Delivery, _Job | None, str]] = []  # failed before or instead of sending
    deferred: list[tuple[Delivery, float]] = []
    bodies: dict[tuple, bytes] = {}
    for delivery in deliveries:
        endpoint = delivery.endpoint
        if not endpoint.is_active or endpoint.deleted_at is not None:
            finished.append((delivery, None, "endpoint disabled"))
            continue
        if endpoint.rate_limit:
            wait = ratelimit.acquire(endpoint.pk, endpoint.rate_limit)
            if wait > 0:
                deferred.append((delivery, wait))
                continue
        key = (delivery.event_id, *payloads.body_key(endpoint))
        if key not in bodies:
            bodies[key] = payloads.body_for(event=delivery.event, endpoint=endpoint)
        body, headers = build_request(event=delivery.event, endpoint=endpoint, now=now, body=bodies[key])
        try:
            target = http.vetted(endpoint.url)
        except UnsafeTargetURL as exc:
            # Refused at send time (the host now resolves inside our network): never retried.
            job = _Job(delivery, None, body, headers, timezone.now(),
                       http.Response(None, {}, "", 0, error=f"refused target: {exc}"))
            finished.append((delivery, job, job.response.error))
            continue
        jobs.append(_Job(delivery, target, body, headers, timezone.now()))

    if len(jobs) == 1:
        jobs[0].response = http.post(jobs[0].target, jobs[0].body, jobs[0].headers)
    elif jobs:
        for job, response in zip(jobs, _pool().map(lambda j: http.post(j.target, j.body, j.headers), jobs),
                                 strict=True):
            job.response = response
    _record(jobs=jobs, finished=finished, deferred=deferred, now=timezone.now(), report=report)
    return report


def _record(*, jobs: list[_Job], finished, deferred, now: datetime, report: SendReport) -> None:
    attempts: list[Attempt] = []
    succeeded_by_code: dict[int, list[int]] = defaultdict(list)
    changed: list[Delivery] = []
    countdowns: dict[float, list[int]] = defaultdict(list)
    endpoint_ok: dict[int, Endpoint] = {}
    endpoint_failed: dict[int, Endpoint] = {}
    gone: dict[int, tuple[Endpoint, str]] = {}

    def attempt(job: _Job, succeeded: bool) -> None:
        delivery, response = job.delivery, job.response
        attempts.append(Attempt(
            delivery_id=delivery.pk, number=delivery.attempt_count + 1, started_at=job.started_at,
            duration_ms=response.duration_ms, url=delivery.endpoint.url,
            request_headers=signing.redact_headers(job.headers, delivery.endpoint.signature_header),
            status_code=response.status, response_body=response.body, error=response.error[:2000],
            succeeded=succeeded,
        ))

    for job in jobs:
        delivery, response = job.delivery, job.response
        outcome = classify(response.status)
        report.sent += 1
        attempt(job, outcome is Outcome.SUCCEEDED)
        endpoint = delivery.endpoint
        if outcome is Outcome.SUCCEEDED:
            report.succeeded += 1
            succeeded_by_code[response.status].append(delivery.pk)
            endpoint_ok[endpoint.pk] = endpoint
            continue
        delivery.attempt_count += 1
        delivery.last_status_code = response.status
        delivery.last_error = failure_text(response)
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
        Attempt.objects.bulk_create(attempts, batch_size=500)
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
        _update_endpoint_health(ok=endpoint_ok, failed=endpoint_failed, gone=gone, now=now)
        for delay, ids in countdowns.items():
            delivery_enqueue(delivery_ids=ids, countdown=delay)


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
                             reason=f"every delivery failed since {signing.format_timestamp(endpoint.failing_since)}"
                                    f" ({days:g} days)")


def endpoint_disable(*, endpoint: Endpoint, reason: str, now: datetime | None = None) -> bool:
    """Disable `endpoint` and emit `endpoint.disabled`; False when it was already inactive."""
    from webhooks.events import emit

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
            "disabled_at": signing.format_timestamp(now),
        }, tenant=endpoint.tenant)
    return True


# --- Public services: enqueue, redeliver, recover ---------------------------------------------


def delivery_enqueue(*, delivery_ids: list[int], countdown: float | None = None) -> None:
    """Ask a worker to send these deliveries soon (after the current transaction commits).

    The message only wakes a worker: if it is lost, the sweep sends the rows anyway.
    """
    if not delivery_ids:
        return
    from webhooks.tasks import deliver

    batch = conf.get("WEBHOOKS_BATCH_SIZE")
    chunks = [list(delivery_ids[i:i + batch]) for i in range(0, len(delivery_ids), batch)]

    def send() -> None:
        for chunk in chunks:
            try:
                deliver.apply_async((chunk,), countdown=countdown)
            except Exception:
                logger.warning("could not enqueue deliveries %s; the sweep will send them", chunk[:5], exc_info=True)

    transaction.on_commit(send)


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
