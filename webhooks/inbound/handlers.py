"""The handler registry: domain apps register what to do with an inbound message, by name.

A handler is `fn(message: InboundMessage, payload: dict) -> HandlerResult`. It gets
`message.tenant`, `.source`, `.received_at`, `.message_id` and the parsed JSON object. It runs
inside a transaction together with the message's row, so its writes and "processed" commit
together. (`message.pk` is None during a sync message without a sender id: that row is inserted
once, after the handler, with its result.) It must be idempotent: replays and the sweep may
run it again on the same raw bytes.

A handler refuses a message by raising `InboundRejected(status, body)` (the sender gets that
answer in sync mode; the message is marked failed) or a DRF `ValidationError` (answered 400).
"""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class HandlerResult:
    status: int = 200  # HTTP status to answer (sync mode)
    body: dict = field(default_factory=lambda: {"status": "ok"})  # JSON body to answer


class InboundRejected(Exception):
    """Raised by a handler: answer `status` with `body`; the message is marked failed."""

    def __init__(self, status: int, body: dict):
        super().__init__(body.get("message") or f"rejected with {status}")
        self.status = status
        self.body = body


class UnknownHandler(LookupError):
    pass


Handler = Callable[..., HandlerResult]
_HANDLERS: dict[str, Handler] = {}


def inbound_handler(name: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler called `name` (re-registering the same one is harmless)."""

    def register(fn: Handler) -> Handler:
        existing = _HANDLERS.get(name)
        if existing is not None and existing.__qualname__ != fn.__qualname__:
            raise ValueError(f"inbound handler {name!r} is already registered to {existing.__qualname__}")
        _HANDLERS[name] = fn
        return fn

    return register


def get_handler(name: str) -> Handler:
    try:
        return _HANDLERS[name]
    except KeyError:
        raise UnknownHandler(f"no inbound handler named {name!r}") from None


def registered_handlers() -> list[str]:
    return sorted(_HANDLERS)


# --- Events inside one sender's messages, processed by the app that owns what they describe ---------

EventProcessor = Callable[..., None]
_EVENT_PROCESSORS: dict[tuple[str, str], EventProcessor] = {}


def event_processor(sender: str, event: str) -> Callable[[EventProcessor], EventProcessor]:
    """Register `fn(tenant, event, payload)` for `sender`'s `event` (e.g. RealCast's `recording.ready`).

    One sender's messages can describe several apps' rows: RealCast's stream events belong to
    `streams`, its recording events to `recordings`. Each app registers its own events here, so
    the app that receives the message needn't import the others."""

    def register(fn: EventProcessor) -> EventProcessor:
        _EVENT_PROCESSORS[(sender, event)] = fn
        return fn

    return register


def get_event_processor(sender: str, event: str) -> EventProcessor | None:
    return _EVENT_PROCESSORS.get((sender, event))


def registered_events(sender: str) -> list[str]:
    return sorted(event for (name, event) in _EVENT_PROCESSORS if name == sender)
