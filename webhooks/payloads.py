"""What an endpoint receives for an event: the body (envelope and style) and any extra request headers.

The one place a delivery's content is decided, so that every sender (durable deliveries, ephemeral
levels, test sends) gives a subscriber the same bytes for the same event.
"""

from webhooks import signing
from webhooks.models import Endpoint, Event


def body_for(*, event: Event, endpoint: Endpoint) -> bytes:
    """The request body of `event` for `endpoint`, before signing."""
    return signing.encode_body(
        signing.envelope(event_type=event.type, created_at=event.created_at, data=event.data,
                         style=endpoint.payload_style)
    )


def body_key(endpoint: Endpoint) -> tuple:
    """Endpoints with equal keys get equal bodies for the same event, so a batch encodes each body once."""
    return (endpoint.payload_style,)


def extra_headers(endpoint: Endpoint) -> dict[str, str]:
    """Request headers the endpoint asks for beyond the content type and the signature."""
    return {}
