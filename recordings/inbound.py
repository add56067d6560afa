"""The recorder's payload: a nested DRF serializer, answering in the recorder's error shape.

Only shapes and types are checked; unknown keys are ignored (the raw payload is kept whole).
Errors name fields with dots (`user_info.email`) so a sender sees exactly what to fix, and a
missing `recording_id` or `user_info.email` gets the recorder's document's message word for word.
The OpenAPI schema reads the same serializer (recordings/views.py).
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

REQUIRED = ("recording_id", "user_info.email")
MISSING_MESSAGE = "Missing required fields: recording_id or user_info.email"


class PayloadInvalid(Exception):
    def __init__(self, message: str, errors: dict[str, list[str]]):
        super().__init__(message)
        self.message, self.errors = message, errors


@dataclass(frozen=True)
class RecorderPayload:
    recording_id: str
    recording_id_raw: int | str  # echoed back as sent (the recorder's document answers `"recording_id": 3`)
    email: str
    username: str
    title: str
    recorded_at: datetime | None
    duration_seconds: float | None
    duration_database: float | None
    total_size_mb: float | None
    file_sizes_mb: dict
    files: dict
    uploaded_at: datetime | None
    upload_source: str
    bucket_name: str
    region: str
    # The Recording columns this post said something about (the key present, not null): on an
    # update, the others keep their stored values (`recording_upsert_from_recorder`).
    given: frozenset[str] = frozenset()


# --- Fields: the recorder's types, strictly (JSON's `true` is not a number, `77` not a string) ----------


class Number(serializers.FloatField):
    default_error_messages = {"invalid": "Must be a number.", "negative": "Must not be negative."}

    def __init__(self, **kwargs):
        super().__init__(required=False, allow_null=True, **kwargs)

    def to_internal_value(self, data) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float) or data != data or abs(data) > 1e15:
            self.fail("invalid")
        if data < 0:
            self.fail("negative")
        return float(data)


class Text(serializers.CharField):
    default_error_messages = {"invalid": "Must be a string.", "max_length": "At most {max_length} characters."}

    def __init__(self, max_length: int, **kwargs):
        super().__init__(max_length=max_length, required=False, allow_null=True, allow_blank=True,
                         trim_whitespace=False, **kwargs)

    def to_internal_value(self, data) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return data


@extend_schema_field(OpenApiTypes.STR)
class DateTime(serializers.Field):
    """The recorder's "2025-10-25 01:55:59.374860" or ISO 8601; without an offset it is taken as UTC."""

    default_error_messages = {"invalid": "Not a date-time; expected e.g. '2025-10-25 01:55:59.374860'.",
                              "not_text": "Must be a date-time string."}

    def __init__(self, **kwargs):
        super().__init__(required=False, allow_null=True, **kwargs)

    def to_internal_value(self, data) -> datetime | None:
        if data == "":
            return None  # says nothing, like null
        if not isinstance(data, str):
            self.fail("not_text")
        try:
            parsed = parse_datetime(data.strip())
        except ValueError:
            parsed = None
        if parsed is None:
            self.fail("invalid")
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string", "maxLength": 100}]})
class RecordingId(serializers.Field):
    """An integer or a string; kept as sent, to be echoed back. Blank is missing, as null is."""

    default_error_messages = {"invalid": "Must be an integer or a string.", "null": "This field is required.",
                              "max_length": "At most 100 characters.", "too_large": "Integer too large."}

    def to_internal_value(self, data) -> int | str:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        if isinstance(data, str):
            if not data.strip():  # "   " would upsert an empty id
                self.fail("required")
            if len(data.strip()) > 100:
                self.fail("max_length")
        elif abs(data) >= 10**30:
            self.fail("too_large")
        return data


@extend_schema_field(OpenApiTypes.EMAIL)
class Email(serializers.Field):
    default_error_messages = {"invalid": "Must be an email address (a string).", "null": "This field is required."}

    def to_internal_value(self, data) -> str:
        if isinstance(data, str) and not data.strip():
            self.fail("required")
        if not isinstance(data, str) or len(data) > 254:
            self.fail("invalid")
        return data.strip()


class Names(serializers.DictField):
    """An object whose keys are names the recorder chooses (`video.mkv`); a null value says nothing."""

    default_error_messages = {"not_a_dict": "Must be an object."}

    def __init__(self, **kwargs):
        super().__init__(required=False, allow_null=True, **kwargs)


# --- The payload ----------------------------------------------------------------------------


class RecorderUserInfo(serializers.Serializer):
    default_error_messages = {"invalid": "Must be an object with an email."}

    email = Email(help_text="Matched case-insensitively among the tenant's members.")
    username = Text(150)


class RecorderFileInfo(serializers.Serializer):
    default_error_messages = {"invalid": "Must be an object."}

    total_size_mb = Number()
    individual_sizes_mb = Names(child=Number())


class RecorderWebhook(serializers.Serializer):
    recording_id = RecordingId(help_text="Integer or string; with the tenant, the upsert's key.")
    title = Text(500)
    created_at = DateTime(help_text="'2025-10-25 01:55:59.374860' or ISO 8601; UTC without an offset.")
    duration_seconds = Number()
    duration_database = Number()
    user_info = RecorderUserInfo()
    file_info = RecorderFileInfo(required=False, allow_null=True)
    uploaded_files = Names(child=Text(2000))
    upload_timestamp = DateTime()
    upload_source = Text(100)
    bucket_name = Text(200)
    region = Text(100)

    def to_internal_value(self, data):
        # No `user_info` (or null) is a missing `user_info.email`, the field the recorder's document names.
        if isinstance(data, dict) and data.get("user_info") is None:
            data = {**data, "user_info": {}}
        return super().to_internal_value(data)


def _dotted(detail, name: str = "") -> dict[str, list]:
    """DRF's nested errors as `{"file_info.individual_sizes_mb.video.mkv": [...]}`."""
    if not isinstance(detail, dict):
        return {name: list(detail)}
    errors = {}
    for key, value in detail.items():
        errors |= _dotted(value, name if key == api_settings.NON_FIELD_ERRORS_KEY else f"{name}.{key}".lstrip("."))
    return errors


# Recording column -> where the recorder's payload says it.
_SOURCES = {
    "username": ("user_info", "username"), "title": ("title",), "recorded_at": ("created_at",),
    "duration_seconds": ("duration_seconds",), "duration_database": ("duration_database",),
    "total_size_mb": ("file_info", "total_size_mb"), "uploaded_at": ("upload_timestamp",),
    "upload_source": ("upload_source",), "bucket_name": ("bucket_name",), "region": ("region",),
}


def _said(data: dict, where: tuple[str, ...]) -> bool:
    for key in where:
        data = (data or {}).get(key)
    return data is not None


def parse_recorder_payload(payload: dict) -> RecorderPayload:
    serializer = RecorderWebhook(data=payload)
    if not serializer.is_valid():
        errors = _dotted(serializer.errors)
        missing = [name for name in REQUIRED if name in errors and errors[name][0].code in ("required", "null")]
        errors = {name: [str(message) for message in messages] for name, messages in errors.items()}
        if missing:
            # The document's message, word for word (a sender may match on it); `errors` names what is missing.
            raise PayloadInvalid(MISSING_MESSAGE, {name: ["This field is required."] for name in missing} | errors)
        raise PayloadInvalid(f"Invalid fields: {', '.join(errors)}", errors)
    data = serializer.validated_data
    user, file_info = data["user_info"], data.get("file_info") or {}
    return RecorderPayload(
        recording_id=str(data["recording_id"]).strip(), recording_id_raw=data["recording_id"],
        email=user["email"], username=user.get("username") or "", title=data.get("title") or "",
        recorded_at=data.get("created_at"), duration_seconds=data.get("duration_seconds"),
        duration_database=data.get("duration_database"), total_size_mb=file_info.get("total_size_mb"),
        file_sizes_mb={str(name)[:200]: size for name, size in (file_info.get("individual_sizes_mb") or {}).items()
                       if size is not None},
        files={str(kind)[:100]: url for kind, url in (data.get("uploaded_files") or {}).items() if url},
        uploaded_at=data.get("upload_timestamp"), upload_source=data.get("upload_source") or "",
        bucket_name=data.get("bucket_name") or "", region=data.get("region") or "",
        given=frozenset(column for column, where in _SOURCES.items() if _said(data, where)),
    )
