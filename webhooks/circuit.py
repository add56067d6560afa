"""The circuit breaker of an endpoint: stop hammering a receiver that is down, find out when it is back.

A run of WEBHOOKS_CIRCUIT_THRESHOLD consecutive failed tries (any try without a 2xx) opens the
circuit. While it is open nothing is sent to the endpoint and nothing is counted against its
deliveries: they wait in the database, due, and the claims skip them. At `circuit_probe_at` the
sweep sends one of them as a probe (the circuit is then half-open); a 2xx closes the circuit and
the backlog flows again, a failure re-opens it with the probe interval doubled (capped).
Transitions happen under the endpoint's row lock, so `endpoint.failing` and `endpoint.recovered`
are emitted once per transition however many workers record outcomes at the same moment.
"""

import logging
from datetime import datetime, timedelta

from django.db.models import F, Q

from core.eventtime import format_timestamp
from webhooks import conf
from webhooks.events import emit
from webhooks.models import Endpoint

logger = logging.getLogger(__name__)

Circuit = Endpoint.Circuit


def probe_interval(probes_failed: int) -> float:
    """Seconds until the next probe after `probes_failed` failed probes: doubling, capped."""
    base = conf.get("WEBHOOKS_CIRCUIT_PROBE_BASE")
    return min(base * (2 ** min(probes_failed, 30)), conf.get("WEBHOOKS_CIRCUIT_PROBE_MAX"))


def circuit_record(*, endpoint: Endpoint, results: list[bool], last_error: str, now: datetime) -> str | None:
    """Count this batch's tries of `endpoint` (True = 2xx, in the order they finished).

    Call inside the transaction that records the attempts. Returns the circuit's new state when it
    changed, else None. Nothing is written when every try succeeded on a closed, clean circuit.
    """
    if not results:
        return None
    if all(results) and endpoint.circuit == Circuit.CLOSED and endpoint.consecutive_failures == 0:
        return None
    # FOR NO KEY UPDATE: a plain FOR UPDATE would wait for every fan-out inserting this endpoint's
    # deliveries (their foreign keys take KEY SHARE), and fan-out would wait for it.
    locked = Endpoint.objects.select_for_update(no_key=True).get(pk=endpoint.pk)
    run = locked.consecutive_failures
    for ok in results:
        run = 0 if ok else run + 1
    changes: dict = {"consecutive_failures": run}
    new_state = None
    if locked.circuit != Circuit.CLOSED and any(results):
        new_state = Circuit.CLOSED
        changes.update(circuit=Circuit.CLOSED, circuit_opened_at=None, circuit_probe_at=None, circuit_probes=0)
    elif locked.circuit == Circuit.CLOSED and run >= conf.get("WEBHOOKS_CIRCUIT_THRESHOLD"):
        new_state = Circuit.OPEN
        changes.update(circuit=Circuit.OPEN, circuit_opened_at=now, circuit_probes=0,
                       circuit_probe_at=now + timedelta(seconds=probe_interval(0)))
    elif locked.circuit == Circuit.HALF_OPEN:  # the probe failed
        new_state = Circuit.OPEN
        changes.update(circuit=Circuit.OPEN, circuit_probes=F("circuit_probes") + 1,
                       circuit_probe_at=now + timedelta(seconds=probe_interval(locked.circuit_probes + 1)))
    Endpoint.objects.filter(pk=endpoint.pk).update(**changes)
    if new_state == Circuit.OPEN and locked.circuit == Circuit.CLOSED:
        _emit_failing(locked, run=run, last_error=last_error, now=now)
    elif new_state == Circuit.CLOSED:
        _emit_recovered(locked, now=now)
    if new_state is not None:
        for name in ("circuit", "consecutive_failures"):
            setattr(endpoint, name, changes[name])
    return new_state


def _emit_failing(endpoint: Endpoint, *, run: int, last_error: str, now: datetime) -> None:
    logger.warning("endpoint %s of tenant %s: circuit opened after %s failed tries", endpoint.pk,
                   endpoint.tenant_id, run)
    emit("endpoint.failing", {
        "endpoint_id": endpoint.pk, "url": endpoint.url, "consecutive_failures": run,
        "last_error": last_error[:500], "opened_at": format_timestamp(now),
        "next_probe_at": format_timestamp(now + timedelta(seconds=probe_interval(0))),
    }, tenant=endpoint.tenant)


def _emit_recovered(endpoint: Endpoint, *, now: datetime) -> None:
    logger.info("endpoint %s of tenant %s: circuit closed", endpoint.pk, endpoint.tenant_id)
    opened = endpoint.circuit_opened_at
    emit("endpoint.recovered", {
        "endpoint_id": endpoint.pk, "url": endpoint.url,
        "opened_at": format_timestamp(opened) if opened else None,
        "recovered_at": format_timestamp(now),
    }, tenant=endpoint.tenant)


def circuits_to_probe(*, now: datetime) -> list[int]:
    """Circuits whose probe is due, each switched to half-open by this caller alone.

    A half-open circuit whose probe was never recorded (its worker died) is due again when the
    probe's lease has lapsed: `circuit_probe_at` holds that deadline while a probe is out.
    """
    due = Q(circuit__in=[Circuit.OPEN, Circuit.HALF_OPEN], circuit_probe_at__lte=now, is_active=True,
            deleted_at__isnull=True)
    taken = []
    for pk, probe_at in Endpoint.objects.filter(due).values_list("pk", "circuit_probe_at")[:100]:
        lease = now + timedelta(seconds=conf.get("WEBHOOKS_LEASE_SECONDS"))
        if Endpoint.objects.filter(due, pk=pk, circuit_probe_at=probe_at).update(circuit=Circuit.HALF_OPEN,
                                                                                  circuit_probe_at=lease):
            taken.append(pk)
    return taken


def circuit_probe_abandon(*, endpoint_id: int, now: datetime) -> None:
    """A half-open circuit with nothing to probe with: open again, probed at the next interval."""
    Endpoint.objects.filter(pk=endpoint_id, circuit=Circuit.HALF_OPEN).update(
        circuit=Circuit.OPEN, circuit_probe_at=now + timedelta(seconds=probe_interval(0)))


def circuit_reset(*, endpoint: Endpoint) -> None:
    """Close the circuit by hand (an operator re-enabling an endpoint): the next delivery goes out."""
    Endpoint.objects.filter(pk=endpoint.pk).update(circuit=Circuit.CLOSED, consecutive_failures=0,
                                                   circuit_opened_at=None, circuit_probe_at=None, circuit_probes=0)
