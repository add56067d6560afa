"""drf-spectacular hooks and helpers every app's operations share.

drf-spectacular documents the success answer a view declares; the errors DRF itself gives are left
out, so a client generated from the schema (or a fuzzer checking it) met status codes the schema
never mentioned. These are the ones the API's plumbing answers by itself, operation by operation,
from what the operation takes: a credential, a path id, query parameters, a body.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
    "description": "DRF's error body: `detail` says what is wrong.",
}
INVALID = {
    "type": "object",
    "additionalProperties": {},
    "description": "Each invalid parameter or field (or `non_field_errors`) with its messages.",
    "example": {"page_size": ["Must be between 1 and 500."]},
}
ANSWERS = {
    400: ("Invalid", "A parameter or field is invalid; each one is named."),
    401: ("Error", "No credentials, or a token that is unknown or revoked."),
    403: ("Error", "The credential may not do this (e.g. an account without a tenant)."),
    404: ("Error", "No such object for your tenant, or a page past the last one."),
    413: ("Error", "The body is over the upload limit."),
    415: ("Error", "A body in a media type the operation doesn't read."),
}
METHODS = {"get", "put", "post", "patch", "delete"}
# Django's and DRF's text fields refuse NUL (PostgreSQL can't store it): the schema says so.
NO_NUL = "^[^\\u0000]*$"


def error_response(description: str, example: dict, status: int = 400) -> OpenApiResponse:
    """An operation's own error answer, for `extend_schema(responses=...)`: DRF's body, with an example
    (`{field: [messages]}` for invalid input, `{"detail": ...}` otherwise)."""
    return OpenApiResponse(response=OpenApiTypes.OBJECT, description=description, examples=[
        OpenApiExample(description, value=example, response_only=True, status_codes=[str(status)])])


def _codes(operation: dict) -> list[int]:
    """An authenticated operation's own errors: a credential, a path id, parameters, a body."""
    parameters = operation.get("parameters", [])
    codes = [401, 403]
    if any(parameter["in"] == "path" or parameter["name"] == "page" for parameter in parameters):
        codes.append(404)
    if "requestBody" in operation or any(parameter["in"] == "query" for parameter in parameters):
        codes.append(400)
    if "requestBody" in operation:
        codes += [413, 415]
    return codes


def with_error_responses(result: dict, generator, request, public) -> dict:
    """Adds the errors above to each operation that can meet them, unless it declares its own."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR)
    schemas.setdefault("Invalid", INVALID)
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in METHODS or not any(operation.get("security", [])):
                continue  # a sender's endpoint (key or signature) documents its own answers
            responses = operation.setdefault("responses", {})
            for code in _codes(operation):
                component, description = ANSWERS[code]
                responses.setdefault(str(code), {
                    "description": description,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
                })
    return result


def _free_text(schema: dict) -> bool:
    return schema.get("type") == "string" and not ({"format", "enum", "pattern"} & schema.keys())


def without_nul_in_text(result: dict, generator, request, public) -> dict:
    """Free-text query parameters and request fields say that they can't hold a NUL character."""
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []) if method in METHODS else []:
                if parameter["in"] == "query" and _free_text(parameter.get("schema", {})):
                    parameter["schema"]["pattern"] = NO_NUL
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if not name.endswith("Request"):  # COMPONENT_SPLIT_REQUEST: the request side of each serializer
            continue
        for field in component.get("properties", {}).values():
            if _free_text(field):
                field["pattern"] = NO_NUL
    return result
