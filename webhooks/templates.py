"""Payload templates: a declarative reshaping of an event's `data` for one endpoint.

A template maps event types to rules. A key is a type (`stream.live`), a prefix wildcard
(`recording.*`) or `*`; the most specific key that matches an event's type wins, and a type no
key matches keeps its data unchanged. A rule is either

- an object that builds the new `data` field by field: each value is a JMESPath expression
  evaluated against our `data` (`"session_id"`, `"files.cdn || files.video"`), a nested object
  built the same way, or a constant (a number, `true`/`false`, `null`; a string constant is the
  JMESPath raw literal `'text'`); or
- one JMESPath expression whose value is the new `data` (`"merge(@, {stream_id: session_id})"`).

JMESPath (the query language of the AWS CLI) is declarative: no code of the template's author
ever runs. Beside its built-in functions a template may call `context(name)` (the event's
`type`, `id`, `timestamp`, or the `tenant` slug) and the arithmetic JMESPath lacks: `add`,
`subtract`, `multiply`, `divide`, `round` (each gives null when an operand is null).

Templates are checked when saved (`template_problems`), with messages naming the path in the
template. At delivery a field whose expression still fails on some data becomes null rather
than holding the delivery back.
"""

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import jmespath
from jmespath import exceptions as jmespath_errors
from jmespath import functions as jmespath_functions

from webhooks.subscriptions import entry_matches, is_wildcard

logger = logging.getLogger(__name__)

ANY_TYPE = "*"
MAX_TEMPLATE_BYTES = 16 * 1024
MAX_EXPRESSION_LENGTH = 1000
MAX_DEPTH = 6
CONTEXT_NAMES = ("type", "id", "timestamp", "tenant")


class TemplateFunctions(jmespath_functions.Functions):
    """JMESPath's functions, plus the event's context and arithmetic; one instance per event rendered."""

    def __init__(self, context: Callable[[str], str | None] | None = None):
        super().__init__()
        self.context = context or (lambda name: None)

    @jmespath_functions.signature({"types": ["string"]})
    def _func_context(self, name):
        if name not in CONTEXT_NAMES:
            raise jmespath_errors.JMESPathError(f"context() takes one of {', '.join(CONTEXT_NAMES)}, not {name!r}")
        return self.context(name)

    @jmespath_functions.signature({"types": ["number", "null"]}, {"types": ["number", "null"]})
    def _func_add(self, a, b):
        return None if a is None or b is None else a + b

    @jmespath_functions.signature({"types": ["number", "null"]}, {"types": ["number", "null"]})
    def _func_subtract(self, a, b):
        return None if a is None or b is None else a - b

    @jmespath_functions.signature({"types": ["number", "null"]}, {"types": ["number", "null"]})
    def _func_multiply(self, a, b):
        return None if a is None or b is None else a * b

    @jmespath_functions.signature({"types": ["number", "null"]}, {"types": ["number", "null"]})
    def _func_divide(self, a, b):
        return None if a is None or b is None or b == 0 else a / b

    @jmespath_functions.signature({"types": ["number", "null"]})
    def _func_round(self, a):
        return None if a is None else round(a)


FUNCTION_NAMES = frozenset(TemplateFunctions.FUNCTION_TABLE)


# --- Checking a template when it is saved ---------------------------------------------------


def template_problems(template, *, known_types: Iterable[str]) -> list[str]:
    """What is wrong with `template` (an empty list when nothing), each message naming its path.

    `known_types` are the names a key may match (the catalogue the endpoint's tenant sees), so
    that a misspelt type is refused instead of silently never applying.
    """
    if template is None:
        return []
    if not isinstance(template, dict):
        return ["A template is an object mapping event types (or `*`) to rules, or null."]
    if len(json.dumps(template)) > MAX_TEMPLATE_BYTES:
        return [f"A template may be at most {MAX_TEMPLATE_BYTES // 1024} KiB of JSON."]
    known = list(known_types)
    problems = []
    for key, rule in template.items():
        path = f"[{json.dumps(key)}]"
        if key != ANY_TYPE and not any(entry_matches(key, name) for name in known):
            kind = "matches no event type" if is_wildcard(key) else "is not an event type"
            problems.append(f"{path}: {key!r} {kind}; use a name from GET /api/v1/webhooks/events, "
                            "a prefix wildcard like stream.*, or *.")
            continue
        problems += _rule_problems(rule, path)
    return problems


def _rule_problems(rule, path: str) -> list[str]:
    if isinstance(rule, str):
        return _expression_problems(rule, path)
    if isinstance(rule, dict):
        return _object_problems(rule, path, depth=1)
    return [f"{path}: a rule is an object of fields or one JMESPath expression string."]


def _object_problems(spec: dict, path: str, *, depth: int) -> list[str]:
    if depth > MAX_DEPTH:
        return [f"{path}: nested more than {MAX_DEPTH} levels deep."]
    problems = []
    for name, value in spec.items():
        field_path = f"{path}.{name}" if name.isidentifier() else f"{path}[{json.dumps(name)}]"
        if isinstance(value, str):
            problems += _expression_problems(value, field_path)
        elif isinstance(value, dict):
            problems += _object_problems(value, field_path, depth=depth + 1)
        elif isinstance(value, list):
            problems.append(f"{field_path}: a list is not a field rule; write a JMESPath list like "
                            "\"[a, b]\" or a literal like \"`[1, 2]`\".")
    return problems


def _expression_problems(expression: str, path: str) -> list[str]:
    if not expression.strip():
        return [f"{path}: an empty expression; use a field name like \"session_id\"."]
    if len(expression) > MAX_EXPRESSION_LENGTH:
        return [f"{path}: an expression may be at most {MAX_EXPRESSION_LENGTH} characters."]
    try:
        parsed = jmespath.compile(expression)
        return [f"{path}: {problem}" for problem in _function_problems(parsed.parsed)]
    except jmespath_errors.JMESPathError as exc:
        return [f"{path}: not a valid JMESPath expression ({_first_line(exc)})."]
    except RecursionError:
        return [f"{path}: the expression is nested too deeply."]


def _function_problems(node: dict) -> list[str]:
    """Unknown functions and wrong argument counts, which JMESPath would only find when it evaluates them."""
    problems = []
    if node.get("type") == "function_expression":
        name, given = node["value"], len(node["children"])
        entry = TemplateFunctions.FUNCTION_TABLE.get(name)
        if entry is None:
            problems.append(f"unknown function {name}(); available: {', '.join(sorted(FUNCTION_NAMES))}.")
        else:
            signature = entry["signature"]
            variadic = bool(signature) and signature[-1].get("variadic", False)
            if given != len(signature) and not (variadic and given >= len(signature)):
                problems.append(f"{name}() takes {len(signature)} argument(s), {given} given.")
    for child in node.get("children", []):
        if isinstance(child, dict):
            problems += _function_problems(child)
    return problems


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# --- Applying a template ----------------------------------------------------------------------


@dataclass(frozen=True)
class EventContext:
    """What `context(name)` answers while one event is rendered; `tenant` is looked up only if asked."""

    type: str
    id: str
    timestamp: str
    tenant: Callable[[], str]

    def __call__(self, name: str) -> str | None:
        return self.tenant() if name == "tenant" else getattr(self, name)


def rule_for(template: dict | None, event_type: str):
    """The rule of the most specific key matching `event_type`: the exact type, the longest wildcard, then `*`."""
    if not template:
        return None
    if event_type in template:
        return template[event_type]
    wildcards = [key for key in template if is_wildcard(key) and entry_matches(key, event_type)]
    if wildcards:
        return template[max(wildcards, key=len)]
    return template.get(ANY_TYPE)


def apply_template(template: dict | None, *, data, context: EventContext):
    """`data` reshaped by the rule for `context.type`, or `data` itself when no rule matches."""
    rule = rule_for(template, context.type)
    if rule is None:
        return data
    options = jmespath.Options(custom_functions=TemplateFunctions(context))
    if isinstance(rule, str):
        return _evaluate(rule, data, options, default=data)
    return _build(rule, data, options)


def _build(spec: dict, data, options) -> dict:
    out = {}
    for name, value in spec.items():
        if isinstance(value, str):
            out[name] = _evaluate(value, data, options, default=None)
        elif isinstance(value, dict):
            out[name] = _build(value, data, options)
        else:
            out[name] = value
    return out


def _evaluate(expression: str, data, options, *, default):
    try:
        return jmespath.compile(expression).search(data, options=options)
    except (jmespath_errors.JMESPathError, ArithmeticError, TypeError, ValueError, RecursionError) as exc:
        # A template checked on save can still meet data of another shape (a string where it
        # expected a number): the receiver gets null there, the operator a log line.
        logger.warning("template expression %r failed: %s", expression, _first_line(exc))
        return default
