"""`inbound_view()`: builds the Django view every inbound webhook path is served by.

The order matters: size (413, before reading) → raw bytes → who is it (401) → may it post here
(403) → rate (429) → store the raw message (dedup on the sender's id) → parse → handle, in the
request (sync) or in Celery (async). Any failure answers a 4xx JSON body with a reason; nothing
a sender can send makes a 500.
"""

import hashlib
import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import ValidationError

from core.crypto import reveal
from core.guessing import credential_failure_record
from core.logredact import redact_source_urls
from webhooks.inbound import conf
from webhooks.inbound.handlers import get_handler
from webhooks.inbound.models import InboundMessage, InboundSource
from webhooks.inbound.services import (
    Outcome,
    PayloadError,
    duplicate_outcome,
    error_paths,
    handle_then_insert,
    message_build,
    message_fail,
    message_insert,
    parse_payload,
    run_handler,
    source_by_id,
    source_by_key,
    source_by_url_secret,
)
from webhooks.inbound.throttling import throttle_check
from webhooks.inbound.verification import VerificationFailed, verify_hmac_hex, verify_standard

logger = logging.getLogger(__name__)

# The sender's message id, first present wins (RealCast, Standard Webhooks, ours, generic).
MESSAGE_ID_HEADERS = ("X-RealCast-Webhook-Id", "webhook-id", "X-Webhook-Id", "Idempotency-Key")
MAX_MESSAGE_ID = 200
# Never stored with a message: credentials and anything that could be replayed from the admin.
_SECRET_HEADER_WORDS = ("authorization", "api-key", "apikey", "signature", "cookie", "token", "secret")
_UNKNOWN_SOURCE = "Invalid signature or unknown source."


class Refused(Exception):
    def __init__(self, status: int, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status, self.message, self.retry_after = status, message, retry_after


def _meta_name(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


def _header(request: HttpRequest, name: str) -> str | None:
    return request.META.get(_meta_name(name))


def _json(status: int, body: dict, retry_after: int | None = None) -> JsonResponse:
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def _error(status: int, message: str, retry_after: int | None = None) -> JsonResponse:
    return _json(status, {"status": "error", "message": message}, retry_after)


# --- Reading the body --------------------------------------------------------------------------


def read_body(request: HttpRequest, limit: int) -> bytes:
    """The raw body, refusing (413) anything over `limit` bytes without reading it all."""
    length = request.META.get("CONTENT_LENGTH") or ""
    if length:
        if not (length.isascii() and length.isdigit()):  # int() would take "-5", " 7" and "1_000"
            raise Refused(400, "Invalid Content-Length.")
        declared = int(length)
        if declared > limit:
            raise Refused(413, f"Body too large: {declared} bytes; the limit is {limit}.")
        body = request.read(declared)
        if len(body) < declared:
            raise Refused(400, "Body shorter than its Content-Length.")
        return body
    # No length: a chunked body. Django would read it as empty, so read the server's stream
    # (gunicorn marks it terminated) a chunk at a time and stop as soon as it exceeds the cap.
    stream = request.META.get("wsgi.input")
    if stream is None or not request.META.get("wsgi.input_terminated"):
        return b""
    chunks, size = [], 0
    while True:
        chunk = stream.read(min(65536, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise Refused(413, f"Body too large; the limit is {limit} bytes.")
    return b"".join(chunks)


# --- Who is it -------------------------------------------------------------------------------


def _presented_key(request: HttpRequest) -> str | None:
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    key = request.META.get("HTTP_X_API_KEY", "").strip()
    return key or None


def _check_signature(request: HttpRequest, source: InboundSource, body: bytes) -> None:
    secrets = [reveal(secret) for secret in source.signing_secrets]
    if source.signature_scheme == InboundSource.Scheme.STANDARD:
        verify_standard(
            secrets=secrets, msg_id=_header(request, "webhook-id"),
            timestamp=_header(request, "webhook-timestamp"), signature=_header(request, "webhook-signature"),
            body=body, tolerance=source.timestamp_tolerance,
        )
    else:
        verify_hmac_hex(secrets=secrets, header_value=_header(request, source.signature_header),
                        body=body)


def _invalid_key(request: HttpRequest) -> Refused:
    """401, or 429 once this address has presented too many wrong keys (core/guessing.py)."""
    wait = credential_failure_record(scope="inbound-key", address=request.META.get("REMOTE_ADDR", ""))
    if wait is not None:
        return Refused(429, "Too many invalid source keys from this address; try again later.", retry_after=wait)
    return Refused(401, "Invalid source key.")


def _authenticate_by_url(request: HttpRequest, body: bytes, url_secret: str, url_source_id) -> InboundSource:
    """The source URL stands in for the key; a source with signing secrets still needs its signature."""
    source = source_by_url_secret(url_secret)
    if source is None or (url_source_id is not None and str(source.pk) != str(url_source_id)):
        # A source URL is a key in the path: guessing it is throttled like guessing a key.
        wait = credential_failure_record(scope="source-url", address=request.META.get("REMOTE_ADDR", ""))
        if wait is not None:
            raise Refused(429, "Too many unknown source URLs from this address; try again later.", retry_after=wait)
        raise Refused(404, "No such source URL.")
    if source.signing_secrets:
        try:
            _check_signature(request, source, body)
        except VerificationFailed as exc:
            raise Refused(401, exc.reason) from None
    return source


def authenticate(
    request: HttpRequest, body: bytes, *, auth: str, url_source_id, url_secret: str | None = None,
) -> InboundSource:
    if url_secret is not None:
        return _authenticate_by_url(request, body, url_secret, url_source_id)
    if auth == "signature":
        # Unknown id, another tenant's id, no secret, bad signature: one answer, so ids can't be probed.
        try:
            source = source_by_id(int(url_source_id))
        except (TypeError, ValueError):
            source = None
        if source is None or not source.signing_secrets:
            raise Refused(401, _UNKNOWN_SOURCE)
        try:
            _check_signature(request, source, body)
        except VerificationFailed:
            raise Refused(401, _UNKNOWN_SOURCE) from None
        return source

    key = _presented_key(request)
    if key is None:
        raise Refused(401, "Missing source key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'.")
    try:
        key.encode("ascii")
    except UnicodeEncodeError:
        raise _invalid_key(request) from None
    source = source_by_key(key)
    if source is None or (url_source_id is not None and str(source.pk) != str(url_source_id)):
        raise _invalid_key(request)
    if source.signing_secrets:  # signing on top of the key, when the source has secrets
        try:
            _check_signature(request, source, body)
        except VerificationFailed as exc:
            raise Refused(401, exc.reason) from None
    return source


def _message_id(request: HttpRequest) -> str:
    for name in MESSAGE_ID_HEADERS:
        value = (_header(request, name) or "").strip()
        if value:
            if len(value) > MAX_MESSAGE_ID:
                raise Refused(400, f"{name} is longer than {MAX_MESSAGE_ID} characters.")
            if "\x00" in value:  # PostgreSQL text can't hold NUL (gunicorn refuses it; other servers may not)
                raise Refused(400, f"{name} must not contain NUL characters.")
            return value
    return ""


def _stored_headers(request: HttpRequest, source: InboundSource) -> dict[str, str]:
    hidden = source.signature_header.lower()
    headers = {}
    for key, value in request.META.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").title()
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key.replace("_", "-").title()
        else:
            continue
        lowered = name.lower()
        if lowered == hidden or any(word in lowered for word in _SECRET_HEADER_WORDS):
            continue
        # A Referer may carry a source URL, a credential: kept, but with its secret redacted.
        value = redact_source_urls(value if isinstance(value, str) else str(value))
        # jsonb can't hold NUL either: keep the header, marked, rather than fail the request with a 503.
        headers[name] = value.replace("\x00", "\ufffd") if "\x00" in value else value
    return headers


# --- The view --------------------------------------------------------------------------------


def inbound_view(
    *, handler: str, kinds: Iterable[str], auth: str = "key", asynchronous: bool = False,
    source_from_url: bool = False, check_on_receipt: Callable[[dict, datetime], None] | None = None,
):
    """A csrf-exempt view receiving webhooks for `handler` from sources of `kinds`.

    auth="key": the source's key (`Authorization: Bearer` or `X-API-Key`), plus its signature if it
    has signing secrets. auth="signature": the signature alone, for the source in the URL's
    `source_id` (needs source_from_url=True). Under a source URL (a `source_secret` in the URL,
    webhooks/inbound/source_url.py) the URL replaces the key or the source id, whatever `auth`
    says, and a source with signing secrets still needs its signature. asynchronous=True stores
    and answers 200 at once, a Celery task runs the handler. `check_on_receipt(payload, received_at)`
    may refuse what must not even be acknowledged (a DRF ValidationError: 400 naming the fields).
    """
    if auth not in ("key", "signature"):
        raise ImproperlyConfigured(f"inbound_view auth must be 'key' or 'signature', not {auth!r}")
    if auth == "signature" and not source_from_url:
        raise ImproperlyConfigured("inbound_view(auth='signature') needs source_from_url=True")
    allowed_kinds = frozenset(kinds)
    unknown = allowed_kinds - set(InboundSource.Kind.values)
    if unknown:
        raise ImproperlyConfigured(f"unknown inbound source kinds: {sorted(unknown)}")

    @csrf_exempt
    def view(request: HttpRequest, **kwargs) -> JsonResponse:
        if request.method != "POST":
            response = _error(405, "Method not allowed; POST a JSON object.")
            response["Allow"] = "POST"
            return response
        try:
            outcome = _receive(request, kwargs.get("source_id") if source_from_url else None,
                               kwargs.get("source_secret"))
        except Refused as exc:
            return _error(exc.status, exc.message, exc.retry_after)
        except DatabaseError:
            logger.exception("inbound %s: database error", handler)
            return _error(503, "Temporarily unavailable; retry later.", retry_after=5)
        except Exception:  # the last line: a sender's request never gets a 500
            logger.exception("inbound %s: unexpected error", handler)
            return _error(400, "The request could not be processed.")
        return _json(outcome.status, outcome.body, outcome.retry_after)

    def _receive(request: HttpRequest, url_source_id, url_secret: str | None) -> Outcome:
        get_handler(handler)  # a typo in a URL conf fails loudly in tests, not silently per message
        body = read_body(request, conf.get("WEBHOOKS_INBOUND_MAX_BODY"))
        source = authenticate(request, body, auth=auth, url_source_id=url_source_id, url_secret=url_secret)
        if source.kind not in allowed_kinds:
            raise Refused(403, f"A {source.kind!r} source cannot post to this endpoint.")
        retry_after = throttle_check(source)
        if retry_after is not None:
            raise Refused(429, "Too many requests from this source; slow down.", retry_after)
        message = message_build(
            source=source, handler=handler, message_id=_message_id(request),
            headers=_stored_headers(request, source), body=body, sha256=hashlib.sha256(body).hexdigest(),
        )
        message.tenant, message.source = source.tenant, source
        try:
            payload = parse_payload(body)
        except PayloadError as exc:
            # It authenticated, so the raw bytes are kept (failed) for inspection.
            outcome = message_fail(message, status=400, reason=str(exc), errors=exc.errors)
            original = message_insert(message)
            return duplicate_outcome(original, message) if original is not None else outcome
        if check_on_receipt is not None:
            try:
                check_on_receipt(payload, message.received_at)
            except ValidationError as exc:
                fields = ", ".join(error_paths(exc.detail))
                outcome = message_fail(message, status=400, reason=f"Invalid payload: {fields}", errors=exc.detail)
                original = message_insert(message)
                return duplicate_outcome(original, message) if original is not None else outcome
        if asynchronous:
            return _receive_async(message)
        return _receive_sync(message, payload)

    def _receive_async(message: InboundMessage) -> Outcome:
        from webhooks.inbound.tasks import received_wake

        original = message_insert(message)  # autocommit: one INSERT, visible to the worker at once
        if original is not None:
            if original.status == InboundMessage.Status.FAILED:
                _enqueue_retry(original)
                return Outcome(200, {"status": "accepted", "id": original.pk}, message)
            return duplicate_outcome(original, message)
        received_wake(trust_recent=True)
        return Outcome(200, {"status": "accepted", "id": message.pk}, message)

    def _receive_sync(message: InboundMessage, payload: dict) -> Outcome:
        if not message.message_id:  # nothing to de-duplicate on: the one-INSERT path
            return handle_then_insert(message, payload)
        with transaction.atomic():
            original = message_insert(message)
            if original is None:
                return run_handler(message, payload)
        if original.status == InboundMessage.Status.FAILED:
            # The sender retries a message we failed (maybe on a transient error): try it again.
            from webhooks.inbound.services import message_process

            outcome = message_process(message_pk=original.pk, force=True)
            if outcome is not None:
                return outcome
        return duplicate_outcome(original, message)

    def _enqueue_retry(original: InboundMessage) -> None:
        from webhooks.inbound.tasks import process_inbound_message

        updated = InboundMessage.objects.filter(pk=original.pk, status=InboundMessage.Status.FAILED).update(
            status=InboundMessage.Status.RECEIVED
        )
        if updated:
            _enqueue(process_inbound_message, original.pk)

    view.inbound_handler, view.inbound_kinds, view.inbound_auth = handler, allowed_kinds, auth  # for tests, docs
    return view


def _enqueue(task, message_pk: int) -> None:
    try:
        task.delay(message_pk)
    except Exception:  # broker down: the row stays 'received' and the sweep picks it up
        logger.warning("could not enqueue inbound message %s; the sweep will", message_pk, exc_info=True)
