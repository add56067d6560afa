"""`InboundView`: the view every inbound webhook path is served by, one subclass (or `as_view()`) per path.

The order matters: size (413, before reading) → raw bytes → who is it (401) → may it post here
(403) → rate (429) → store the raw message (dedup on the sender's id) → parse → handle, in the
request (sync) or in Celery (async). Any failure answers a 4xx JSON body with a reason; nothing
a sender can send makes a 500.
"""

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.views import APIView

from core.crypto import reveal
from core.guessing import credential_failure_record
from core.logredact import redact_source_urls
from webhooks.inbound import conf
from webhooks.inbound.handlers import UnknownHandler, get_handler
from webhooks.inbound.models import InboundSource
from webhooks.inbound.services import (
    Outcome,
    PayloadError,
    error_paths,
    message_acknowledge,
    message_build,
    message_receive,
    message_refuse,
    parse_payload,
    source_by_id,
    source_by_key,
    source_by_url_secret,
)
from webhooks.inbound.throttling import throttle_check
from webhooks.inbound.verification import (
    MESSAGE_ID_HEADERS,
    VerificationFailed,
    verify_hmac_hex,
    verify_standard,
)

logger = logging.getLogger(__name__)

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


def _message_id(request: HttpRequest, source: InboundSource) -> str:
    names = MESSAGE_ID_HEADERS
    if source.signing_secrets and source.signature_scheme == InboundSource.Scheme.STANDARD:
        # The id is signed with the body: any other id header could replay the body as a new message.
        names = ("webhook-id",)
    for name in names:
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


class InboundView(APIView):
    """Receives webhooks for `handler` from sources of `kinds`: parse, authenticate, store, one service.

    auth="key": the source's key (`Authorization: Bearer` or `X-API-Key`), plus its signature if it
    has signing secrets. auth="signature": the signature alone, for the source in the URL's
    `source_id` (needs source_from_url=True). Under a source URL (a `source_secret` in the URL,
    webhooks/inbound/source_url.py) the URL replaces the key or the source id, whatever `auth`
    says, and a source with signing secrets still needs its signature. asynchronous=True stores
    and answers 200 at once, a Celery task runs the handler.

    A DRF view so that drf-spectacular documents each sender's path from its subclass and
    `serializer_class` (the payload's serializer, which the handler validates with: a replay or
    a Celery task runs the handler on the stored bytes, without this view). The sender's own
    credentials, rate and error bodies are this view's, so DRF's authentication, permissions,
    throttles and content negotiation are off.
    """

    authentication_classes = permission_classes = throttle_classes = ()
    http_method_names = ["post"]

    handler: str = ""  # the registered handler's name (webhooks/inbound/handlers.py)
    kinds: frozenset[str] = frozenset()  # the source kinds that may post here
    auth = "key"
    asynchronous = False
    source_from_url = False  # the URL carries `source_id`
    serializer_class: type[serializers.Serializer] | None = None

    @classmethod
    def as_view(cls, **initkwargs):
        """The view, its configuration checked once, when the URL conf is loaded (after every app's
        `ready()` has registered its handlers): a typo fails loudly, not silently per message."""
        config = {name: initkwargs.get(name, getattr(cls, name))
                  for name in ("handler", "kinds", "auth", "source_from_url")}
        try:
            get_handler(config["handler"])
        except UnknownHandler as exc:
            raise ImproperlyConfigured(f"{cls.__name__}: {exc}") from None
        if config["auth"] not in ("key", "signature"):
            raise ImproperlyConfigured(f"{cls.__name__}: auth must be 'key' or 'signature', not {config['auth']!r}")
        if config["auth"] == "signature" and not config["source_from_url"]:
            raise ImproperlyConfigured(f"{cls.__name__}: auth='signature' needs source_from_url=True")
        unknown = set(config["kinds"]) - set(InboundSource.Kind.values)
        if unknown or not config["kinds"]:
            raise ImproperlyConfigured(f"{cls.__name__}: unknown or no inbound source kinds: {sorted(unknown)}")
        return super().as_view(**initkwargs)

    @property
    def default_response_headers(self) -> dict:
        return {}  # no `Allow` on every answer: senders get the headers they always got

    def initial(self, request, *args, **kwargs) -> None:
        """Nothing: senders are answered JSON whatever they accept, and authenticated by `post`."""

    def http_method_not_allowed(self, request, *args, **kwargs) -> JsonResponse:
        response = _error(405, "Method not allowed; POST a JSON object.")
        response["Allow"] = "POST"
        return response

    def post(self, request, source_id=None, source_secret: str | None = None) -> JsonResponse:
        try:
            outcome = self.receive(request, source_id if self.source_from_url else None, source_secret)
        except Refused as exc:
            return _error(exc.status, exc.message, exc.retry_after)
        except DatabaseError:
            logger.exception("inbound %s: database error", self.handler)
            return _error(503, "Temporarily unavailable; retry later.", retry_after=5)
        except Exception:  # the last line: a sender's request never gets a 500
            logger.exception("inbound %s: unexpected error", self.handler)
            return _error(400, "The request could not be processed.")
        return _json(outcome.status, outcome.body, outcome.retry_after)

    def receive(self, request: HttpRequest, url_source_id, url_secret: str | None) -> Outcome:
        body = read_body(request, conf.get("WEBHOOKS_INBOUND_MAX_BODY"))
        source = authenticate(request, body, auth=self.auth, url_source_id=url_source_id, url_secret=url_secret)
        if source.kind not in self.kinds:
            raise Refused(403, f"A {source.kind!r} source cannot post to this endpoint.")
        retry_after = throttle_check(source)
        if retry_after is not None:
            raise Refused(429, "Too many requests from this source; slow down.", retry_after)
        message = message_build(
            source=source, handler=self.handler, message_id=_message_id(request, source),
            headers=_stored_headers(request, source), body=body, sha256=hashlib.sha256(body).hexdigest(),
        )
        message.tenant, message.source = source.tenant, source
        try:
            payload = parse_payload(body)
        except PayloadError as exc:
            return message_refuse(message, status=400, reason=str(exc), errors=exc.errors)
        try:
            self.check_on_receipt(payload, message.received_at)
        except ValidationError as exc:
            fields = ", ".join(error_paths(exc.detail))
            return message_refuse(message, status=400, reason=f"Invalid payload: {fields}", errors=exc.detail)
        if self.asynchronous:
            return message_acknowledge(message=message)
        return message_receive(message=message, payload=payload)

    def check_on_receipt(self, payload: dict, received_at: datetime) -> None:
        """Refuse what must not even be acknowledged: raise a DRF ValidationError (400 naming the fields)."""


def is_inbound(callback: Callable) -> bool:
    """Whether a URL pattern's callback is an `InboundView` (for tests and checks that walk the URL conf)."""
    return issubclass(getattr(callback, "cls", type(None)), InboundView)
