"""Validation of seed 003's recorder payload, answering in the seed's error shape.

Only shapes and types are checked; unknown keys are ignored (the raw payload is kept whole).
Errors name fields with dots (`user_info.email`) so a sender sees exactly what to fix.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils.dateparse import parse_datetime

REQUIRED = ("recording_id", "user_info.email")
MISSING_MESSAGE = "Missing required fields: recording_id or user_info.email"


class PayloadInvalid(Exception):
    def __init__(self, message: str, errors: dict[str, list[str]]):
        super().__init__(message)
        self.message, self.errors = message, errors


@dataclass(frozen=True)
class RecorderPayload:
    recording_id: str
    recording_id_raw: int | str  # echoed back as sent (the seed answers `"recording_id": 3`)
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


def _number(value, name: str, errors: dict) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value or abs(value) > 1e15:
        errors[name] = ["Must be a number."]
        return None
    if value < 0:
        errors[name] = ["Must not be negative."]
        return None
    return float(value)


def _text(value, name: str, errors: dict, max_length: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[name] = ["Must be a string."]
        return ""
    if len(value) > max_length:
        errors[name] = [f"At most {max_length} characters."]
        return ""
    return value


def _object(value, name: str, errors: dict) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors[name] = ["Must be an object."]
        return {}
    return value


def _datetime(value, name: str, errors: dict) -> datetime | None:
    """Seed format "2025-10-25 01:55:59.374860" or ISO 8601; without an offset it is taken as UTC."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errors[name] = ["Must be a date-time string."]
        return None
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        parsed = None
    if parsed is None:
        errors[name] = ["Not a date-time; expected e.g. '2025-10-25 01:55:59.374860'."]
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


# Recording column → where the recorder's payload says it.
_SOURCES = {
    "username": ("user_info", "username"), "title": ("title",), "recorded_at": ("created_at",),
    "duration_seconds": ("duration_seconds",), "duration_database": ("duration_database",),
    "total_size_mb": ("file_info", "total_size_mb"), "uploaded_at": ("upload_timestamp",),
    "upload_source": ("upload_source",), "bucket_name": ("bucket_name",), "region": ("region",),
}


def _given(payload: dict, file_info: dict, user_info: dict) -> frozenset[str]:
    parents = {"user_info": user_info, "file_info": file_info}
    given = set()
    for column, where in _SOURCES.items():
        container = parents[where[0]] if len(where) == 2 else payload
        value = container.get(where[-1])
        if value is not None and not (column in ("recorded_at", "uploaded_at") and value == ""):
            given.add(column)
    return frozenset(given)


def parse_recorder_payload(payload: dict) -> RecorderPayload:
    errors: dict[str, list[str]] = {}
    missing = []

    raw_id = payload.get("recording_id")
    recording_id = ""
    if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):  # "   " would upsert an empty id
        missing.append("recording_id")
    elif isinstance(raw_id, bool) or not isinstance(raw_id, int | str):
        errors["recording_id"] = ["Must be an integer or a string."]
    elif isinstance(raw_id, str) and len(raw_id.strip()) > 100:
        errors["recording_id"] = ["At most 100 characters."]
    elif isinstance(raw_id, int) and abs(raw_id) >= 10**30:
        errors["recording_id"] = ["Integer too large."]
    else:
        recording_id = str(raw_id).strip()

    user_info = payload.get("user_info")
    email = ""
    username = ""
    if user_info is None:
        missing.append("user_info.email")
    elif not isinstance(user_info, dict):
        errors["user_info"] = ["Must be an object with an email."]
    else:
        raw_email = user_info.get("email")
        if raw_email is None or (isinstance(raw_email, str) and not raw_email.strip()):
            missing.append("user_info.email")
        elif not isinstance(raw_email, str) or len(raw_email) > 254:
            errors["user_info.email"] = ["Must be an email address (a string)."]
        else:
            email = raw_email.strip()
        username = _text(user_info.get("username"), "user_info.username", errors, 150)

    file_info = _object(payload.get("file_info"), "file_info", errors)
    sizes = _object(file_info.get("individual_sizes_mb"), "file_info.individual_sizes_mb", errors)
    file_sizes = {}
    for name, size in sizes.items():
        number = _number(size, f"file_info.individual_sizes_mb.{name}", errors)
        if number is not None:
            file_sizes[str(name)[:200]] = number
    files = {}
    for kind, url in _object(payload.get("uploaded_files"), "uploaded_files", errors).items():
        text = _text(url, f"uploaded_files.{kind}", errors, 2000)
        if text:
            files[str(kind)[:100]] = text

    data = dict(
        recording_id=recording_id, recording_id_raw=raw_id, email=email, username=username,
        title=_text(payload.get("title"), "title", errors, 500),
        recorded_at=_datetime(payload.get("created_at"), "created_at", errors),
        duration_seconds=_number(payload.get("duration_seconds"), "duration_seconds", errors),
        duration_database=_number(payload.get("duration_database"), "duration_database", errors),
        total_size_mb=_number(file_info.get("total_size_mb"), "file_info.total_size_mb", errors),
        file_sizes_mb=file_sizes, files=files,
        uploaded_at=_datetime(payload.get("upload_timestamp"), "upload_timestamp", errors),
        upload_source=_text(payload.get("upload_source"), "upload_source", errors, 100),
        bucket_name=_text(payload.get("bucket_name"), "bucket_name", errors, 200),
        region=_text(payload.get("region"), "region", errors, 100),
    )
    data["given"] = _given(payload, file_info, user_info if isinstance(user_info, dict) else {})
    if missing:
        # The seed's message, word for word (a sender may match on it); `errors` names what is missing.
        all_errors = {name: ["This field is required."] for name in missing} | errors
        raise PayloadInvalid(MISSING_MESSAGE, all_errors)
    if errors:
        raise PayloadInvalid(f"Invalid fields: {', '.join(errors)}", errors)
    return RecorderPayload(**data)
