"""The API's one exception handler: DRF's, plus the errors Django raises that DRF doesn't convert.

Services validate with Django's `ValidationError` (they are called from views, tasks, commands and
the admin alike); the API answers it as DRF's 400 naming each field, here, once, so no view wraps
its service calls to translate errors.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler


class BodyTooLarge(APIException):
    status_code = 413
    default_code = "body_too_large"

    def __init__(self):
        super().__init__(f"Request body too large: the limit is {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")


class Conflict(DjangoValidationError):
    """A well-formed request that clashes with what is stored (already a member, a name taken): the
    API answers 409 naming the field, since the same request may succeed once the other row is gone."""


def as_drf_validation_error(exc: DjangoValidationError) -> ValidationError:
    """`{field: [messages]}` for field errors, `{"non_field_errors": [...]}` for the rest (DRF's own key)."""
    if hasattr(exc, "error_dict"):
        return ValidationError(exc.message_dict)
    return ValidationError({"non_field_errors": exc.messages})


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE gets a JSON 413 like every other API error (Django's
    own answer is an HTML 400 page, which tells an integrator nothing); a service's Django
    `ValidationError` is a 400 naming the field."""
    conflict = isinstance(exc, Conflict)
    if isinstance(exc, RequestDataTooBig):
        exc = BodyTooLarge()
    elif isinstance(exc, DjangoValidationError):
        exc = as_drf_validation_error(exc)
    response = exception_handler(exc, context)
    if conflict and response is not None:
        response.status_code = 409
    return response
