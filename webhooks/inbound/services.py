"""Inbound sources and messages: creating credentials, storing what arrives, running handlers, replay."""

import json
import logging
import re
import traceback
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.settings import api_settings

from accounts.models import Tenant
from core.crypto import reveal
from core.storable import errors_at, unstorable
from webhooks.inbound import conf
from webhooks.inbound.handlers import HandlerResult, InboundRejected, get_handler
from webhooks.inbound.keys import hash_key, hash_url_secret, new_key, new_url_secret
from webhooks.inbound.models import InboundMessage, InboundSource
from webhooks.inbound.source_cache import forget_source, remembered_source, remembered_source_by_id

logger = logging.getLogger(__name__)

DEFAULT_SIGNATURE_HEADERS = {
    InboundSource.Kind.REALCAST: "X-RealCast-Signature",
}
# A rotation keeps the previous secret accepted beside the new one; older ones are dropped.
MAX_SIGNING_SECRETS = 2


# --- Sources -------------------------------------------------------------------------------


def source_create(
    *, tenant: Tenant, name: str, kind: str, signing_secret: str | None = None,
    signature_scheme: str = InboundSource.Scheme.HMAC_SHA256_HEX, signature_header: str | None = None,
    timestamp_tolerance: int | None = None, rate_limit: int | None = None, is_active: bool = True,
) -> tuple[InboundSource, str]:
    """Create a source; returns it and its API key (not stored, shown once)."""
    key, url_secret = new_key(), new_url_secret()
    source = InboundSource.objects.create(
        tenant=tenant, name=name, kind=kind, key_prefix=key[:12], key_hash=hash_key(key),
        url_secret=url_secret, url_secret_hash=hash_url_secret(url_secret),
        signing_secrets=[signing_secret] if signing_secret else [],
        signature_scheme=signature_scheme,
        signature_header=signature_header or DEFAULT_SIGNATURE_HEADERS.get(kind, "X-Webhook-Signature"),
        timestamp_tolerance=(
            conf.get("WEBHOOKS_INBOUND_TIMESTAMP_TOLERANCE") if timestamp_tolerance is None else timestamp_tolerance
        ),
        rate_limit=rate_limit, is_active=is_active,
    )
    return source, key


def source_rotate_key(*, source: InboundSource) -> str:
    """Replace the source's API key at once (the old one stops working); returns the new key."""
    key = new_key()
    InboundSource.objects.filter(pk=source.pk).update(key_prefix=key[:12], key_hash=hash_key(key),
                                                       updated_at=timezone.now())
    forget_source(source)  # an UPDATE sends no post_save: the old key must stop working at once
    source.key_prefix, source.key_hash = key[:12], hash_key(key)
    return key


def source_rotate_url(*, source: InboundSource) -> str:
    """Give the source a new URL at once (the old one answers 404 from now on); returns the new secret."""
    secret = new_url_secret()
    InboundSource.objects.filter(pk=source.pk).update(url_secret=secret, url_secret_hash=hash_url_secret(secret),
                                                       updated_at=timezone.now())
    forget_source(source)  # as for a rotated key: the old URL must stop working at once
    source.url_secret, source.url_secret_hash = secret, hash_url_secret(secret)
    return secret


def source_delete(*, source: InboundSource) -> None:
    """Retire a source: its key and signatures stop working at once, its messages stay for the record."""
    source.is_active, source.deleted_at = False, timezone.now()
    source.save(update_fields=["is_active", "deleted_at", "updated_at"])  # post_save forgets it (source_cache)


def source_set_signing_secret(*, source: InboundSource, secret: str | None) -> None:
    """A new secret becomes current and the previous one stays accepted (rotation); None removes all."""
    with transaction.atomic():
        locked = InboundSource.objects.select_for_update().get(pk=source.pk)
        if secret is None:
            secrets = []
        else:
            secrets = [secret, *[s for s in locked.signing_secrets if reveal(s) != secret]][:MAX_SIGNING_SECRETS]
        locked.signing_secrets = secrets
        locked.save(update_fields=["signing_secrets", "updated_at"])
    source.signing_secrets = secrets


def source_drop_previous_secrets(*, source: InboundSource) -> None:
    """End a rotation: only the current secret is accepted from now on."""
    with transaction.atomic():
        locked = InboundSource.objects.select_for_update().get(pk=source.pk)
        locked.signing_secrets = locked.signing_secrets[:1]
        locked.save(update_fields=["signing_secrets", "updated_at"])
    source.signing_secrets = locked.signing_secrets


def source_by_key(key: str) -> InboundSource | None:
    """The active source whose API key this is (remembered for a few seconds, see `source_cache`)."""
    key_hash = hash_key(key)
    return remembered_source("key", key_hash, lambda: _active_sources().filter(key_hash=key_hash).first())


def source_by_url_secret(secret: str) -> InboundSource | None:
    """The active source whose URL carries this secret (remembered like `source_by_key`'s)."""
    if not secret.isascii():
        return None
    secret_hash = hash_url_secret(secret)
    return remembered_source("url", secret_hash,
                             lambda: _active_sources().filter(url_secret_hash=secret_hash).first())


def source_by_id(source_id: int) -> InboundSource | None:
    """The active source with this id (the RealCast URL's; remembered like `source_by_key`'s)."""
    return remembered_source_by_id(source_id, lambda: _active_sources().filter(pk=source_id).first())


def _active_sources():
    return InboundSource.objects.select_related("tenant").filter(is_active=True, tenant__is_active=True)


# --- Payloads ------------------------------------------------------------------------------


class PayloadError(ValueError):
    """The body is not a JSON object; `str(exc)` is the reason shown to the sender, `errors` (when
    one field is to blame) names it the way DRF does: `{"chat_interaction": {"emoji_reactions": [...]}}`."""

    def __init__(self, message: str, errors: dict | None = None):
        super().__init__(message)
        self.errors = errors


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def parse_payload(body: bytes) -> dict:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("Body is not valid UTF-8.") from None
    if not text.strip():
        raise PayloadError("Body is empty; expected a JSON object.")
    try:
        payload = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise PayloadError("Body is not valid JSON: nested too deeply.") from None
    except ValueError as exc:
        raise PayloadError(f"Body is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise PayloadError("JSON body must be an object.")
    # PostgreSQL can't store NUL or a lone UTF-16 surrogate ("\ud800", which JSON can spell but UTF-8
    # can't) in text or jsonb: refuse them here, naming where, rather than fail in a handler.
    if _MAYBE_UNSTORABLE.search(text):  # only escapes and huge exponents spell them: most bodies skip the walk
        try:
            problem = unstorable(payload)
        except RecursionError:
            raise PayloadError("Body is not valid JSON: nested too deeply.") from None
        if problem:
            reason, path = problem
            errors = errors_at(path, reason)
            raise PayloadError(reason, errors if isinstance(errors, dict) else None)
    return payload


_MAYBE_UNSTORABLE = re.compile(r"\\u(?:0000|d[89a-f])|[0-9][eE]\+?[0-9]{3}", re.IGNORECASE)


# --- Messages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What to answer the sender."""

    status: int
    body: dict
    message: InboundMessage | None = None
    retry_after: int | None = None


def message_build(
    *, source: InboundSource, handler: str, message_id: str, headers: dict, body: bytes, sha256: str,
) -> InboundMessage:
    return InboundMessage(
        tenant_id=source.tenant_id, source=source, message_id=message_id, received_at=timezone.now(),
        handler=handler, headers=headers, body=body, sha256=sha256,
    )


def message_insert(message: InboundMessage) -> InboundMessage | None:
    """Insert `message`; if the source already sent its id, record a duplicate and return the original."""
    if not message.message_id:
        message.save(force_insert=True)
        return None
    # Inside a transaction, a savepoint: a duplicate must not break the caller's transaction. In
    # autocommit (the asynchronous acknowledgement), one INSERT, no BEGIN/COMMIT round trips: a
    # failed one leaves nothing to roll back.
    in_transaction = transaction.get_connection().in_atomic_block
    try:
        with transaction.atomic() if in_transaction else nullcontext():
            message.save(force_insert=True)
        return None
    except IntegrityError:
        pass
    original = (
        InboundMessage.objects.filter(source_id=message.source_id, message_id=message.message_id)
        .exclude(status=InboundMessage.Status.DUPLICATE)
        .first()
    )
    if original is None:  # the unique constraint fired for another reason: not ours to hide
        raise IntegrityError("inbound message insert failed")
    now = timezone.now()
    InboundMessage.objects.filter(pk=original.pk).update(
        duplicate_count=F("duplicate_count") + 1, last_duplicate_at=now
    )
    # The duplicate is logged (when, headers, body hash) but its body isn't kept twice.
    message.pk = None
    message.status = InboundMessage.Status.DUPLICATE
    message.duplicate_of = original
    message.body = b""
    message.save(force_insert=True)
    return original


def duplicate_outcome(original: InboundMessage, duplicate: InboundMessage) -> Outcome:
    """A duplicate answers 2xx and isn't processed again: the original's answer if that was a success."""
    if original.response_status and 200 <= original.response_status < 300 and original.response_body is not None:
        return Outcome(original.response_status, original.response_body, duplicate)
    return Outcome(200, {"status": "duplicate", "id": original.pk, "original_status": original.status}, duplicate)


def _error_body(message: str, **extra) -> dict:
    return {"status": "error", "message": message, **extra}


_RESULT_FIELDS = ["status", "error", "traceback", "attempts", "processed_at", "response_status", "response_body"]


def _call(message: InboundMessage, payload: dict) -> HandlerResult:
    result = get_handler(message.handler)(message, payload)
    if not isinstance(result, HandlerResult):
        raise TypeError(f"handler {message.handler!r} returned {type(result).__name__}, not HandlerResult")
    return result


def _record_success(message: InboundMessage, result: HandlerResult) -> Outcome:
    message.status, message.error, message.traceback = InboundMessage.Status.PROCESSED, "", ""
    return _record(message, result.status, result.body)


def error_paths(detail, prefix: str = "") -> list[str]:
    """The dotted path of every field a DRF error names (`track_data.classification.confidence`,
    `characteristics.2`), so the one-line message says exactly what to fix, not just the top key."""
    if isinstance(detail, dict):
        items = detail.items()
    elif isinstance(detail, list) and any(isinstance(d, dict | list) for d in detail):
        items = ((i, d) for i, d in enumerate(detail) if d)  # a list of nested errors, by position
    else:
        return [prefix.rstrip(".")] if prefix else []
    paths: list[str] = []
    for key, value in items:
        # A nested object that isn't one (`"data": "x"`) is named itself, not its `non_field_errors`.
        paths += error_paths(value, prefix if key == api_settings.NON_FIELD_ERRORS_KEY else f"{prefix}{key}.")
    return paths


def _record_failure(message: InboundMessage, exc: Exception) -> Outcome:
    """Classify a handler's exception into the answer and the row's error fields."""
    retry_after = None
    message.status = InboundMessage.Status.FAILED
    message.traceback = ""
    if isinstance(exc, InboundRejected):
        status, body, message.error = exc.status, exc.body, str(exc)
    elif isinstance(exc, ValidationError):
        fields = ", ".join(error_paths(exc.detail))
        status = 400
        body = _error_body(f"Invalid payload: {fields}" if fields else "Invalid payload.", errors=exc.detail)
        message.error = json.dumps(exc.detail)
    elif isinstance(exc, OperationalError | InterfaceError):
        # The database hiccuped: a transient failure, so ask the sender to retry (503, not 500).
        status, retry_after = 503, 5
        body = _error_body("Temporarily unable to process the message; retry later.")
        message.error = f"{type(exc).__name__}: {exc}"
        message.traceback = "".join(traceback.format_exception(exc))
    else:
        logger.error("inbound handler %s failed on message %s", message.handler, message.pk, exc_info=exc)
        status = 422
        body = _error_body("The message could not be processed; it is stored and can be replayed.")
        message.error = f"{type(exc).__name__}: {exc}"
        message.traceback = "".join(traceback.format_exception(exc))
    return _record(message, status, body, retry_after)


def _record(message: InboundMessage, status: int, body: dict, retry_after: int | None = None) -> Outcome:
    if status >= 500 and status != 503:
        status = 422  # never a 500 (docs/inbound.md, "Never a 500"), whatever a handler asks for
    message.processed_at = timezone.now()
    message.response_status, message.response_body = status, body
    return Outcome(status, body, message, retry_after)


def run_handler(message: InboundMessage, payload: dict) -> Outcome:
    """Run the stored message's handler and record the result on its row. Call inside a transaction.

    The handler runs in a savepoint: if it fails, its writes are undone but the failure is recorded.
    """
    message.attempts += 1
    try:
        with transaction.atomic():
            outcome = _record_success(message, _call(message, payload))
    except Exception as exc:
        outcome = _record_failure(message, exc)
    message.save(update_fields=_RESULT_FIELDS)
    return outcome


def handle_then_insert(message: InboundMessage, payload: dict) -> Outcome:
    """A sync message without a sender id: run the handler first, then store the row with its result.

    One INSERT instead of INSERT + SAVEPOINT + RELEASE + UPDATE. Durability is the same: the row and
    the handler's writes commit together; on failure the writes roll back and the row is stored on
    its own as failed. `message.pk` is None while the handler runs.
    """
    message.attempts = 1
    try:
        with transaction.atomic():
            outcome = _record_success(message, _call(message, payload))
            message.save(force_insert=True)
        return outcome
    except Exception as exc:
        message.pk = None  # a row saved inside the rolled-back transaction doesn't exist
        outcome = _record_failure(message, exc)
        message.save(force_insert=True)
        return outcome


def message_fail(message: InboundMessage, *, status: int, reason: str, errors: dict | None = None) -> Outcome:
    """Record a message that authenticated but can't be handled (bad JSON...)."""
    body = _error_body(reason, errors=errors) if errors else _error_body(reason)
    message.status, message.error = InboundMessage.Status.FAILED, reason
    message.response_status, message.response_body = status, body
    message.processed_at = timezone.now()
    return Outcome(status, body, message)


def message_refuse(message: InboundMessage, *, status: int, reason: str, errors: dict | None = None) -> Outcome:
    """Keep a message that authenticated but is refused before its handler runs (not JSON, a time
    RealCast must not be acknowledged for): its raw bytes stay for inspection, and the sender's
    retry of it is recorded as a duplicate of it."""
    outcome = message_fail(message, status=status, reason=reason, errors=errors)
    original = message_insert(message)
    return duplicate_outcome(original, message) if original is not None else outcome


def message_receive(*, message: InboundMessage, payload: dict) -> Outcome:
    """Store the message and run its handler in the request; the answer is the handler's.

    A sender's retry of a message we failed (maybe on a transient error) is tried again; any other
    retry answers what the original did, without running the handler twice.
    """
    if not message.message_id:  # nothing to de-duplicate on: the one-INSERT path
        return handle_then_insert(message, payload)
    with transaction.atomic():
        original = message_insert(message)
        if original is None:
            return run_handler(message, payload)
    if original.status == InboundMessage.Status.FAILED:
        outcome = message_process(message_pk=original.pk, force=True)
        if outcome is not None:
            return outcome
    return duplicate_outcome(original, message)


def message_acknowledge(*, message: InboundMessage) -> Outcome:
    """Store the message and answer at once; a Celery task runs its handler.

    One INSERT in autocommit, so the worker sees the row as soon as it is woken. A retry of a
    message that failed is queued again; any other retry answers as a duplicate.
    """
    from webhooks.inbound.tasks import received_wake

    original = message_insert(message)
    if original is None:
        received_wake()
        return Outcome(200, {"status": "accepted", "id": message.pk}, message)
    if original.status == InboundMessage.Status.FAILED:
        message_requeue(message_pk=original.pk)
        return Outcome(200, {"status": "accepted", "id": original.pk}, message)
    return duplicate_outcome(original, message)


def message_requeue(*, message_pk: int) -> None:
    """Put a failed message back to `received` and queue it. The conditional UPDATE lets only one of
    two racing retries queue it; if the broker is down, the row stays `received` for the sweep."""
    from webhooks.inbound.tasks import process_inbound_message

    updated = InboundMessage.objects.filter(pk=message_pk, status=InboundMessage.Status.FAILED).update(
        status=InboundMessage.Status.RECEIVED
    )
    if not updated:
        return
    try:
        process_inbound_message.delay(message_pk)
    except Exception:
        logger.warning("could not enqueue inbound message %s; the sweep will", message_pk, exc_info=True)


def message_process(*, message_pk: int, force: bool = False, skip_locked: bool = False) -> Outcome | None:
    """Run the handler of a stored message, under a row lock. Skips finished ones unless `force` (replay).

    `skip_locked`: a message another worker holds is left to it (None) rather than waited for.
    """
    with transaction.atomic():
        message = (
            InboundMessage.objects.select_for_update(of=("self",), skip_locked=skip_locked)
            .select_related("tenant", "source")
            .filter(pk=message_pk)
            .exclude(status=InboundMessage.Status.DUPLICATE)
            .first()
        )
        if message is None:
            return None
        if message.status != InboundMessage.Status.RECEIVED and not force:
            return None  # already handled: a redelivered task or a raced sweep
        try:
            payload = parse_payload(bytes(message.body))
        except PayloadError as exc:
            outcome = message_fail(message, status=400, reason=str(exc), errors=exc.errors)
            message.attempts += 1
            message.save(update_fields=["status", "error", "attempts", "processed_at", "response_status",
                                        "response_body"])
            return outcome
        return run_handler(message, payload)


def messages_to_replay(
    *, source_id: int | None = None, status: str | None = None, since: datetime | None = None,
    until: datetime | None = None, tenant: Tenant | None = None,
):
    qs = InboundMessage.objects.exclude(status=InboundMessage.Status.DUPLICATE).order_by("received_at", "id")
    if source_id is not None:
        qs = qs.filter(source_id=source_id)
    if status:
        qs = qs.filter(status=status)
    if since is not None:
        qs = qs.filter(received_at__gte=since)
    if until is not None:
        qs = qs.filter(received_at__lt=until)
    if tenant is not None:
        qs = qs.filter(tenant=tenant)
    return qs


@dataclass
class ReplaySummary:
    total: int = 0
    processed: int = 0
    failed: int = 0


def messages_replay(
    *, message_pks: list[int], progress: Callable[[int, int, Outcome | None], None] | None = None,
) -> ReplaySummary:
    """Re-run handlers on stored raw bytes, one message per transaction, oldest first."""
    summary = ReplaySummary(total=len(message_pks))
    for index, pk in enumerate(message_pks, start=1):
        outcome = message_process(message_pk=pk, force=True)
        if outcome is not None and outcome.message.status == InboundMessage.Status.PROCESSED:
            summary.processed += 1
        else:
            summary.failed += 1
        if progress:
            progress(index, summary.total, outcome)
    return summary


def messages_process_received(*, limit: int) -> int:
    """Process up to `limit` messages waiting in `received`, oldest first; returns how many it looked at.

    Workers that run this at once share the work: each message is taken under its row lock by one
    of them and skipped by the others (`skip_locked`), and a finished one is not run again. A row
    can also be locked for a moment by a sender's retry of it (the duplicate's bookkeeping on the
    original), which runs nothing: so each message skipped is waited for once the batch is done,
    then run if it is still waiting. Otherwise it would sit in `received` until the beat sweep.
    """
    pks = list(InboundMessage.objects.filter(status=InboundMessage.Status.RECEIVED).order_by("pk")
               .values_list("pk", flat=True)[:limit])
    skipped = [pk for pk in pks if message_process(message_pk=pk, skip_locked=True) is None]
    for pk in skipped:
        message_process(message_pk=pk)  # a no-op for one another worker has finished meanwhile
    return len(pks)


def stale_received(older_than_seconds: int) -> Iterator[int]:
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return InboundMessage.objects.filter(status=InboundMessage.Status.RECEIVED, received_at__lt=cutoff).values_list(
        "pk", flat=True
    )[:1000].iterator()
