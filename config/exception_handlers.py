"""The API's one exception handler: DRF's, plus the errors Django raises before a view sees the data."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import APIException
from rest_framework.views import exception_handler


class BodyTooLarge(APIException):
    status_code = 413
    default_code = "body_too_large"

    def __init__(self):
        super().__init__(f"Request body too large: the limit is {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")


def api_exception_handler(exc, context):
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE gets a JSON 413 like every other API error (Django's
    own answer is an HTML 400 page, which tells an integrator nothing)."""
    if isinstance(exc, RequestDataTooBig):
        exc = BodyTooLarge()
    return exception_handler(exc, context)
