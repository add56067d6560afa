"""The catalogue of event types. Apps register theirs at start-up (in `AppConfig.ready`).

The catalogue feeds `GET /api/v1/webhooks/events`, test sends (the example payload), and
`emit()`'s check that a type exists.
"""

from dataclasses import dataclass, field


class UnknownEventType(LookupError):
    pass


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    example: dict = field(default_factory=dict)
    durable: bool = True


_TYPES: dict[str, EventType] = {}


def register_event_type(name: str, *, description: str, example: dict, durable: bool = True) -> EventType:
    """Register (idempotently) an event type; registering a name twice differently is a bug."""
    event_type = EventType(name=name, description=description, example=example, durable=durable)
    existing = _TYPES.get(name)
    if existing is not None and existing != event_type:
        raise ValueError(f"event type {name!r} is already registered differently")
    _TYPES[name] = event_type
    return event_type


def get_event_type(name: str) -> EventType:
    try:
        return _TYPES[name]
    except KeyError:
        raise UnknownEventType(f"unknown event type {name!r}") from None


def all_event_types() -> list[EventType]:
    return sorted(_TYPES.values(), key=lambda t: t.name)
