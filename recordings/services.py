"""Upserting recordings from the recorder and from RealCast, with their events."""

from datetime import datetime

from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError

from accounts.member_lookup import member_by_email
from accounts.models import Tenant
from core.eventtime import format_timestamp
from recordings.inbound import RecorderPayload
from recordings.models import Recording
from webhooks.events import emit


class UserNotFound(LookupError):
    def __init__(self, email: str):
        super().__init__(f"No user found with email: {email}")
        self.email = email


class OwnedByAnotherUser(Exception):
    def __init__(self, recording: Recording):
        super().__init__(f"Recording {recording.recording_id} belongs to another user")
        self.recording = recording


def recording_event_data(recording: Recording, *, user_email: str | None = None) -> dict:
    """The events' data; `user_email` saves a query when the caller already knows it."""
    if user_email is None and recording.user_id is not None:
        user_email = recording.user.email
    return {
        "id": recording.pk,
        "recording_id": recording.recording_id,
        "origin": recording.origin,
        "status": recording.status,
        "title": recording.title,
        "user_email": user_email,
        "username": recording.username,
        "stream_id": recording.stream_id,
        "recorded_at": format_timestamp(recording.recorded_at) if recording.recorded_at else None,
        "duration_seconds": recording.duration_seconds,
        "total_size_mb": recording.total_size_mb,
        "file_size_bytes": recording.file_size_bytes,
        "files": recording.files,
        "bucket_name": recording.bucket_name,
        "region": recording.region,
    }


def _lock_or_create(*, tenant: Tenant, recording_id: str, defaults: dict) -> tuple[Recording, bool]:
    """The locked row for (tenant, recording_id), creating it if needed. Call inside a transaction.

    Two senders racing on a new id: one insert wins, the other hits the unique constraint
    and falls back to locking the winner's row.
    """
    try:
        return Recording.objects.select_for_update().get(tenant=tenant, recording_id=recording_id), False
    except Recording.DoesNotExist:
        pass
    try:
        with transaction.atomic():
            return Recording.objects.create(tenant=tenant, recording_id=recording_id, **defaults), True
    except IntegrityError:
        return Recording.objects.select_for_update().get(tenant=tenant, recording_id=recording_id), False


def recording_upsert_from_recorder(*, tenant: Tenant, data: RecorderPayload, payload: dict) -> tuple[Recording, bool]:
    """The recorder's upsert: create or update by (tenant, recording_id); emits recording.ready / recording.updated.

    An update merges (docs/sources/recorder.md): a field the re-post leaves out (or sends as null)
    keeps its stored value; `uploaded_files` and `file_info.individual_sizes_mb` merge by name, a
    name sent again replacing its URL or size; `raw_payload` merges by top-level key.
    Raises UserNotFound (404) or OwnedByAnotherUser (409).
    """
    fields = {
        "origin": Recording.Origin.RECORDER, "status": Recording.Status.READY,
        "username": data.username, "title": data.title, "recorded_at": data.recorded_at,
        "duration_seconds": data.duration_seconds, "duration_database": data.duration_database,
        "total_size_mb": data.total_size_mb, "file_sizes_mb": data.file_sizes_mb, "files": data.files,
        "uploaded_at": data.uploaded_at, "upload_source": data.upload_source, "bucket_name": data.bucket_name,
        "region": data.region, "raw_payload": payload,
    }
    with transaction.atomic(savepoint=False):
        user = member_by_email(tenant=tenant, email=data.email)
        if user is None:
            raise UserNotFound(data.email)
        recording, created = _lock_or_create(tenant=tenant, recording_id=data.recording_id,
                                             defaults={**fields, "user": user})
        if not created:
            if recording.user_id not in (None, user.pk):
                raise OwnedByAnotherUser(recording)
            _merge_recorder_post(recording, fields, given=data.given, user=user)
        emit("recording.ready" if created else "recording.updated",
             recording_event_data(recording, user_email=user.email), tenant=tenant)
    return recording, created


# Written on update only when the post says them (`RecorderPayload.given`).
_RECORDER_MERGED = ["username", "title", "recorded_at", "duration_seconds", "duration_database", "total_size_mb",
                    "uploaded_at", "upload_source", "bucket_name", "region"]
# JSON objects merged key by key, the post's keys winning.
_RECORDER_JSON_MERGED = ["file_sizes_mb", "files", "raw_payload"]


def _merge_recorder_post(recording: Recording, fields: dict, *, given: frozenset[str], user) -> None:
    """Fold a re-post into the locked row and save it. `stream_id` and the RealCast figures
    (`file_size_bytes`, `last_event_at`) belong to RealCast and are left alone."""
    recording.status, recording.user = fields["status"], user
    if recording.origin != Recording.Origin.REALCAST:  # a RealCast recording the recorder describes stays one
        recording.origin = fields["origin"]
    merged = [name for name in _RECORDER_MERGED if name in given]
    for name in merged:
        setattr(recording, name, fields[name])
    for name in _RECORDER_JSON_MERGED:
        setattr(recording, name, {**getattr(recording, name), **fields[name]})
    recording.save(update_fields=["status", "user", "origin", *merged, *_RECORDER_JSON_MERGED, "updated_at"])


def _realcast_number(data: dict, name: str, errors: dict, integer: bool = False):
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value or value < 0 or value > 1e18:
        errors[name] = ["Must be a non-negative number."]
        return None
    return int(value) if integer else float(value)


def _realcast_text(data: dict, name: str, errors: dict, max_length: int) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > max_length:
        errors[name] = [f"Must be a string of at most {max_length} characters."]
        return ""
    return value


def recording_upsert_from_realcast(
    *, tenant: Tenant, data: dict, event_time: datetime, event: str | None = None,
) -> Recording:
    """RealCast's `recording.started` / `recording.ready` idempotent and order-tolerant.

    `event` is the RealCast event name; without it, a payload with a `cdn_url` is taken as ready.
    A replayed or older event (by `event_time`) changes nothing and emits nothing; a late
    `recording.started` never turns a ready recording back. Raises DRF ValidationError on bad data.
    """
    errors: dict[str, list[str]] = {}
    raw_id = data.get("recording_id") if isinstance(data, dict) else None
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int) or not str(raw_id).strip():
        errors["recording_id"] = ["A non-empty string is required."]
    elif len(str(raw_id)) > 100:
        errors["recording_id"] = ["At most 100 characters."]
    if errors:
        raise ValidationError(errors)
    stream_id = _realcast_text(data, "stream_id", errors, 200)
    cdn_url = _realcast_text(data, "cdn_url", errors, 2000)
    duration = _realcast_number(data, "duration", errors)
    file_size = _realcast_number(data, "file_size", errors, integer=True)
    if errors:
        raise ValidationError(errors)
    ready = event == "recording.ready" if event else bool(cdn_url)
    status = Recording.Status.READY if ready else Recording.Status.STARTED

    defaults = {
        "origin": Recording.Origin.REALCAST, "status": status, "stream_id": stream_id,
        "duration_seconds": duration, "file_size_bytes": file_size, "files": {"cdn": cdn_url} if cdn_url else {},
        "recorded_at": event_time if not ready else None, "raw_payload": data, "last_event_at": event_time,
    }
    with transaction.atomic(savepoint=False):  # see recording_upsert_from_recorder
        recording, created = _lock_or_create(tenant=tenant, recording_id=str(raw_id).strip(), defaults=defaults)
        if created:
            emit(f"recording.{status}", recording_event_data(recording), tenant=tenant)
            return recording
        if recording.last_event_at is not None and event_time <= recording.last_event_at:
            return recording  # a replay, a retry or an event overtaken by a newer one
        was_ready = recording.status == Recording.Status.READY
        changed = ["last_event_at"]
        recording.last_event_at = event_time
        if stream_id and not recording.stream_id:
            recording.stream_id = stream_id
            changed.append("stream_id")
        if ready:
            recording.status = Recording.Status.READY
            recording.duration_seconds = duration if duration is not None else recording.duration_seconds
            recording.file_size_bytes = file_size if file_size is not None else recording.file_size_bytes
            if cdn_url:
                recording.files = {**recording.files, "cdn": cdn_url}
            recording.raw_payload = data
            changed += ["status", "duration_seconds", "file_size_bytes", "files", "raw_payload"]
        elif recording.recorded_at is None:
            recording.recorded_at = event_time
            changed.append("recorded_at")
        recording.save(update_fields=[*changed, "updated_at"])
        if ready:
            emit("recording.updated" if was_ready else "recording.ready", recording_event_data(recording),
                 tenant=tenant)
    return recording
