"""`emit()`: the one way the rest of Streamhook announces that something happened.

The event is an outbox row written in the caller's transaction, so it exists exactly when
the change it describes does. Fan-out is scheduled with `on_commit`; if that message is
lost, the beat sweep finds the row (`fanned_out_at IS NULL`) and fans it out later.
Nothing here may break the caller (the outbound-webhook application's guide: "won't fail the main operation"), except
emitting an unknown type, or data its declared schema refuses, under strict mode: those are
programming errors.

Called inside a running event loop (`async def` code), `emit()` can't use the ORM on the loop's
thread; it does its work on a helper thread and waits, so the event is never dropped. Async code
should `await aemit(...)`, which doesn't hold up the loop.
"""

import asyncio
import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from accounts.models import Tenant
from webhooks import conf
from webhooks.catalogue import event_type_for
from webhooks.coalesce import ephemeral_mark_latest
from webhooks.enqueue import ephemeral_soon, fan_out_soon
from webhooks.models import Event
from webhooks.registry import UnknownEventType

logger = logging.getLogger(__name__)


def _strict() -> bool:
    strict = conf.get("WEBHOOKS_STRICT_EVENT_TYPES")
    return settings.DEBUG if strict is None else bool(strict)


class InvalidEventData(ValueError):
    """The data doesn't satisfy the JSON Schema its tenant declared for the type."""


def emit(type: str, data: dict, *, tenant: Tenant) -> Event | None:
    """Record `type` with `data` for `tenant` and schedule its delivery after commit.

    `type` is a built-in type or one `tenant` declared. Returns the event (unsaved for ephemeral
    types), or None if it could not be recorded.
    """
    if _in_event_loop():
        return _emit_off_loop(type, data, tenant=tenant)
    try:
        event_type = event_type_for(tenant=tenant, name=type)
    except UnknownEventType:
        if _strict():
            raise
        logger.error("emit() of unregistered event type %r ignored", type)
        return None
    problems = event_type.data_problems(data)
    if problems:
        if _strict():
            raise InvalidEventData(f"{type} data doesn't match its schema: {'; '.join(problems)}")
        logger.error("emit(%r) refused: the data doesn't match its schema: %s", type, "; ".join(problems))
        return None
    try:
        if not event_type.durable:
            return _emit_ephemeral(type, data, tenant)
        _check_storable(data)
        # No savepoint around the insert (two round trips on every ingest): what could make the
        # database refuse the row is refused above, so an error past this point is the database
        # itself failing, and that fails the caller's transaction whatever emit() does.
        event = Event.objects.create(tenant=tenant, type=type, data=data, created_at=timezone.now())
        # Unless a fan-out task is queued already: it will find this event (webhooks/wake.py).
        transaction.on_commit(lambda: fan_out_soon(event.pk))
        return event
    except Exception:
        logger.exception("emit(%r) failed; the caller's operation goes on", type)
        return None


def _check_storable(data: dict) -> None:
    """Raise for data the outbox row can't hold: not JSON, NaN/Infinity, or a NUL (PostgreSQL's jsonb refuses both)."""
    if not isinstance(data, dict):
        raise TypeError(f"event data must be a dict, not {type(data).__name__}")
    if "\\u0000" in json.dumps(data, allow_nan=False):
        raise ValueError("event data contains a NUL character")


async def aemit(type: str, data: dict, *, tenant: Tenant) -> Event | None:
    """`emit()` for async code: the same, awaited, without holding up the event loop."""
    return await sync_to_async(emit)(type, data, tenant=tenant)


def _in_event_loop() -> bool:
    """True on an event loop's thread, where Django refuses the ORM (unless its own switch allows it there)."""
    if os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE"):
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _emit_off_loop(type: str, data: dict, *, tenant: Tenant) -> Event | None:
    """emit() on a thread of its own, for a caller on an event loop's thread (where the ORM refuses to run).

    Outside any transaction of the caller's (async code can't hold one open on the loop's thread),
    so the event commits at once. The thread's database connection is closed when it is done.
    """
    def run() -> Event | None:
        try:
            return emit(type, data, tenant=tenant)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="emit") as pool:
        return pool.submit(run).result()


def _emit_ephemeral(type: str, data: dict, tenant: Tenant) -> Event:
    event = Event(tenant=tenant, type=type, data=data, created_at=timezone.now())

    def send() -> None:
        try:
            # Tasks still queued for older values of this type will see they are superseded.
            ephemeral_mark_latest(tenant_id=tenant.pk, type=type, event_id=event.pk)
            ephemeral_soon(tenant_id=tenant.pk, event_id=event.pk, type=type, data=data,
                           created_at=event.created_at.isoformat())
        except Exception:
            logger.warning("ephemeral %s %s dropped: broker unavailable", type, event.pk)

    transaction.on_commit(send)
    return event
