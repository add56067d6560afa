"""What every sender's endpoint says in the OpenAPI schema: how it authenticates and how it refuses.

Each sender's view (`InboundView` subclasses in `streams/views.py`, `recordings/views.py`) adds its
own summary, payload serializer, example and success answer; `config/tests/test_openapi.py` posts
each example to the real endpoint and checks the answer the schema promises.
"""

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

KEY_AUTH = (
    "Authenticated with the inbound source's key (`/api/v1/inbound-sources`): `X-API-Key: <key>` or "
    "`Authorization: Bearer <key>`; a source with signing secrets also needs its signature. Sources of "
    "another kind get 403. Senders that can't send a header use the source's URL instead (its `url` field): "
    "the same path under it, with no key (`{url}/recordings/webhook/`). Every answer is JSON; a malformed "
    "request gets a 4xx naming what is wrong, "
    "never a 500. Without a sender message id (`Idempotency-Key`, `Webhook-Id`) each request is handled."
)

_ERROR = inline_serializer("SenderError", {"status": serializers.CharField(), "message": serializers.CharField()})
_ERRORS = {
    400: "Invalid JSON, or missing or wrong fields (named in `message`/`errors`)",
    401: "No key, an unknown key, or a bad or stale signature",
    403: "A source of another kind",
    404: "No such user (the recorder) or source",
    409: "The recording belongs to another user",
    413: "Body over the size cap (1 MiB by default)",
    422: "Valid, but processing failed; the message is stored and can be replayed",
    429: "Over the source's rate limit; `Retry-After` says when to come back",
}


def sender_errors(*codes: int) -> dict[int, OpenApiResponse]:
    """The refusals a sender's endpoint documents, all in the `{"status": "error", "message": ...}` shape."""
    return {code: OpenApiResponse(_ERROR, description=_ERRORS[code]) for code in codes}
