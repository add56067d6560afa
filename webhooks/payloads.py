"""What an endpoint receives for an event: the body (envelope and style) and any extra request headers.

The one place a delivery's content is decided, so that every sender (durable deliveries, ephemeral
levels, test sends) gives a subscriber the same bytes for the same event. The endpoint's template
(its own, or its profile's) reshapes `data` here, before the body is signed.
"""

import json
from datetime import datetime

from core.eventtime import format_timestamp
from webhooks import signing
from webhooks.http import USER_AGENT
from webhooks.models import Endpoint, Event
from webhooks.profiles import effective_template
from webhooks.templates import EventContext, apply_template


def body_for(*, event: Event, endpoint: Endpoint) -> bytes:
    """The request body of `event` for `endpoint`, before signing."""
    return signing.encode_body(delivered_payload(event=event, endpoint=endpoint))


def delivered_payload(*, event: Event, endpoint: Endpoint) -> dict:
    """The body as an object: the envelope of the endpoint's style around its templated `data`."""
    template = effective_template(template=endpoint.template, profile=endpoint.profile)
    data = event.data
    if template:
        timestamp = format_timestamp(event.created_at)
        context = EventContext(type=event.type, id=event.id, timestamp=timestamp,
                               tenant=lambda: event.tenant.slug)
        data = apply_template(template, data=data, context=context)
    return signing.envelope(event_type=event.type, created_at=event.created_at, data=data,
                            style=endpoint.payload_style)


def body_key(endpoint: Endpoint) -> tuple:
    """Endpoints with equal keys get equal bodies for the same event, so a batch encodes each body once."""
    template = effective_template(template=endpoint.template, profile=endpoint.profile)
    if template is None:
        return (endpoint.payload_style,)
    if endpoint.template is None:
        return (endpoint.payload_style, "profile", endpoint.profile)
    return (endpoint.payload_style, "template", json.dumps(template, sort_keys=True))


def extra_headers(endpoint: Endpoint) -> dict[str, str]:
    """Request headers the endpoint asks for beyond the content type and the signature."""
    return dict(endpoint.headers or {})


def build_request(*, event: Event, endpoint: Endpoint, now: datetime, body: bytes | None = None,
                  secrets: list[str] | None = None) -> tuple[bytes, dict[str, str]]:
    """The body and headers of `event` for `endpoint`, signed at `now` with every secret still honoured.

    `secrets`: `endpoint.signing_secrets(now)`, when the caller keeps them decrypted (a sender that signs
    ten values a second for the same endpoint)."""
    if body is None:
        body = body_for(event=event, endpoint=endpoint)
    headers = {
        **extra_headers(endpoint),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signing.signature_headers(
            scheme=endpoint.signature_scheme, secrets=secrets or endpoint.signing_secrets(now), msg_id=event.id,
            timestamp=int(now.timestamp()), body=body, header=endpoint.signature_header,
        ),
    }
    return body, headers
