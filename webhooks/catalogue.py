"""The event-type catalogue a tenant sees: the built-in types (webhooks/registry.py) and the ones it declared.

An integrator's application has events of its own (`match.found`, `video.processed`); it
declares them (`EventType` rows, `/api/v1/event-types`) and then subscribes to, test-sends and
emits them like built-in ones. A declared type is visible to its tenant only, is always durable,
and may carry a JSON Schema that every emitted payload and its example must satisfy.

Built-in names win: a tenant can't declare one, nor a name in the platform's own namespaces,
where operational events (`endpoint.failing`, `delivery.exhausted`) are added over time.
"""

import json
import re
from dataclasses import dataclass

import jsonschema_rs
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Tenant
from core.exceptions import Conflict
from webhooks.models import EventType
from webhooks.registry import UnknownEventType, all_event_types, get_event_type

NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
RESERVED_PREFIXES = ("webhook.", "endpoint.", "delivery.")
MAX_SCHEMA_BYTES = 64 * 1024
MAX_EXAMPLE_BYTES = 64 * 1024
MAX_DECLARED_TYPES = 500


@dataclass(frozen=True)
class CatalogueEntry:
    name: str
    description: str
    example: dict
    durable: bool = True
    schema: dict | None = None
    declared: bool = False

    def data_problems(self, data) -> list[str]:
        """How `data` breaks this type's schema (empty when it has none or `data` fits)."""
        return schema_problems(self.schema, data) if self.schema is not None else []


def _declared(row: EventType) -> CatalogueEntry:
    return CatalogueEntry(name=row.name, description=row.description, example=row.example, schema=row.schema,
                          declared=True)


# --- Reads ----------------------------------------------------------------------------------------


def event_type_for(*, tenant: Tenant | int, name: str) -> CatalogueEntry:
    """The type `name` as `tenant` knows it; raises UnknownEventType. Built-in types cost no query."""
    try:
        builtin = get_event_type(name)
    except UnknownEventType:
        row = EventType.objects.filter(tenant=tenant, name=name).first()
        if row is None:
            raise
        return _declared(row)
    return CatalogueEntry(name=builtin.name, description=builtin.description, example=builtin.example,
                          durable=builtin.durable)


def declared_types(*, tenant: Tenant | int):
    return EventType.objects.filter(tenant=tenant).order_by("name")


def catalogue_list(*, tenant: Tenant | int | None) -> list[CatalogueEntry]:
    """Built-in types, then the tenant's declared ones, each group by name."""
    builtin = [CatalogueEntry(name=t.name, description=t.description, example=t.example, durable=t.durable)
               for t in all_event_types()]
    declared = [_declared(row) for row in declared_types(tenant=tenant)] if tenant is not None else []
    return builtin + declared


def known_type_names(*, tenant: Tenant | int | None) -> list[str]:
    """Every name `tenant` may subscribe to or key a template on."""
    names = [t.name for t in all_event_types()]
    if tenant is not None:
        names += list(declared_types(tenant=tenant).values_list("name", flat=True))
    return names


# --- JSON Schema ----------------------------------------------------------------------------------


def _validator(schema: dict):
    """The draft `$schema` names (2020-12 by default), offline, patterns on a linear-time regex engine.

    A schema comes from a tenant over the API: a remote `$ref` must not make us fetch a URL, and a
    pattern like `^(a+)+$` must not tie a worker up backtracking. Raises jsonschema_rs.ValidationError
    for a schema that isn't valid, a `$ref` that can't resolve, or a pattern that engine can't run.
    """
    return jsonschema_rs.validator_for(schema, offline=True, pattern_options=jsonschema_rs.RegexOptions())


def _json_path(path) -> str:
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)


def _message(exc: ValueError) -> str:
    """The first line of a jsonschema-rs error (or of its plain ValueError for a schema nested too deeply)."""
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return text.strip().splitlines()[0]


def schema_problems(schema, data) -> list[str]:
    """`data`'s violations of `schema`, each with the path into `data` (`$.items[0].id: ...`)."""
    try:
        validator = _validator(schema)
        errors = sorted(validator.iter_errors(data), key=lambda e: [str(part) for part in e.instance_path])
    except ValueError as exc:  # jsonschema_rs.ValidationError is one, and so is its recursion limit
        return [f"the schema can't be used: {_message(exc)}"]
    return [f"{_json_path(e.instance_path)}: {_message(e)}" for e in errors[:10]]


def _schema_check(schema) -> list[str]:
    if schema is None:
        return []
    if not isinstance(schema, dict):
        return ["A JSON Schema is an object, or null for none."]
    if len(json.dumps(schema)) > MAX_SCHEMA_BYTES:
        return [f"At most {MAX_SCHEMA_BYTES // 1024} KiB of JSON."]
    try:
        _validator(schema)
    except jsonschema_rs.ValidationError as exc:
        return [f"Not a valid JSON Schema at {_json_path(exc.instance_path)}: {_message(exc)} (refs resolve inside "
                "the schema only; patterns may not use look-around or back-references)."]
    except ValueError as exc:
        return [f"Not a usable JSON Schema: {_message(exc)}."]
    return []


# --- Writes -------------------------------------------------------------------------------------


def _name_problems(name: str) -> list[str]:
    if len(name) > 100 or not NAME.fullmatch(name):
        return ["Use a lower-case dot name of at most 100 characters, like match.found or video.processed "
                "(letters, digits and _ in each part, at least one dot)."]
    try:
        get_event_type(name)
        return [f"{name} is a built-in event type; declare a name of your own."]
    except UnknownEventType:
        pass
    if name.startswith(RESERVED_PREFIXES):
        return [f"Names under {', '.join(p + '*' for p in RESERVED_PREFIXES)} are reserved for Streamhook's "
                "own events."]
    return []


def _check(*, schema, example) -> None:
    errors: dict[str, list[str]] = {}
    if problems := _schema_check(schema):
        errors["schema"] = problems
    if not isinstance(example, dict):
        errors["example"] = ["An example `data` object is required."]
    elif len(json.dumps(example)) > MAX_EXAMPLE_BYTES:
        errors["example"] = [f"At most {MAX_EXAMPLE_BYTES // 1024} KiB of JSON."]
    elif schema is not None and "schema" not in errors and (problems := schema_problems(schema, example)):
        errors["example"] = [f"Does not match the schema: {p}" for p in problems]
    if errors:
        raise ValidationError(errors)


def event_type_create(*, tenant: Tenant, name: str, description: str = "", schema: dict | None = None,
                      example: dict | None = None) -> EventType:
    """Declare `name` for `tenant`. Raises ValidationError naming the field at fault."""
    example = {} if example is None else example
    if problems := _name_problems(name):
        raise ValidationError({"name": problems})
    _check(schema=schema, example=example)
    if EventType.objects.filter(tenant=tenant).count() >= MAX_DECLARED_TYPES:
        raise ValidationError({"name": [f"A tenant may declare at most {MAX_DECLARED_TYPES} event types."]})
    try:
        with transaction.atomic():
            return EventType.objects.create(tenant=tenant, name=name, description=description, schema=schema,
                                            example=example)
    except IntegrityError:
        raise Conflict({"name": [f"{name} is declared already."]}) from None


def event_type_update(*, event_type: EventType, **fields) -> EventType:
    """Change the description, schema or example (the name is the type's identity and stays)."""
    unknown = set(fields) - {"description", "schema", "example"}
    if unknown:
        raise TypeError(f"event_type_update() got unexpected fields {sorted(unknown)}")
    _check(schema=fields.get("schema", event_type.schema), example=fields.get("example", event_type.example))
    changed = [name for name, value in fields.items() if getattr(event_type, name) != value]
    for name in changed:
        setattr(event_type, name, fields[name])
    if changed:
        event_type.save(update_fields=[*changed, "updated_at"])
    return event_type


def event_type_delete(*, event_type: EventType) -> None:
    """Events and deliveries of the type stay in the history; it can no longer be emitted or test-sent."""
    event_type.delete()
