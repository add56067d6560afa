"""Which event types an endpoint's `events` list subscribes to: the one rule fan-out, ephemeral sends
and the API's validation share.

An entry is a registered type (`stream.live`) or a prefix wildcard ending in `.*` (`recording.*`,
`chat.message.*`), which matches every type below that prefix at any depth, including types
registered later. `[]` means every type. Svix and Stripe have no wildcards; hubs that group events
by resource (and RealCast's guide's "a subscriber of recording.*") do, and a prefix is the form people expect.
"""

from webhooks.registry import all_event_types

WILDCARD_SUFFIX = ".*"


def is_wildcard(entry: str) -> bool:
    return entry.endswith(WILDCARD_SUFFIX)


def entry_matches(entry: str, event_type: str) -> bool:
    if is_wildcard(entry):
        return event_type.startswith(entry[:-1])  # keep the dot: `stream.*` must not match `streamer.x`
    return entry == event_type


def subscribes(events: list[str], event_type: str) -> bool:
    """True when an endpoint with this `events` list receives `event_type` (`[]` = every type)."""
    if not events or event_type in events:
        return True
    return any(is_wildcard(entry) and entry_matches(entry, event_type) for entry in events)


def unknown_entries(events: list[str], *, known: list[str] | None = None) -> list[str]:
    """Entries that name no known type (the registered ones unless `known` is given, e.g. with a tenant's
    declared types): unknown names, and wildcards that match none."""
    registered = known if known is not None else [t.name for t in all_event_types()]
    return [entry for entry in events if not any(entry_matches(entry, name) for name in registered)]
