"""The recorder's inbound handler: validate, upsert, answer in the shapes of the recorder's document."""

from datetime import UTC, datetime

from core.eventtime import event_time_problem, event_times_problems
from recordings.inbound import PayloadInvalid, RecorderPayload, parse_recorder_payload
from recordings.services import (
    OwnedByAnotherUser,
    UserNotFound,
    recording_upsert_from_realcast,
    recording_upsert_from_recorder,
)
from webhooks.inbound.handlers import HandlerResult, InboundRejected, event_processor, inbound_handler
from webhooks.inbound.models import InboundSource


def _error(message: str, **extra) -> dict:
    return {"status": "error", "message": message, **extra}


# No recording Streamhook keeps was made before this: it catches placeholders (0001-01-01, 0 read as 1970).
EARLIEST_RECORDING = datetime(2000, 1, 1, tzinfo=UTC)


def _time_errors(data: RecorderPayload, received_at: datetime | None) -> dict[str, list[str]]:
    """`upload_timestamp` is the event (the upload that prompted the post): within the window around
    the message's arrival. `created_at` describes the recording, which a re-post may make long after:
    not later than the window allows, not before `EARLIEST_RECORDING`."""
    received_at = received_at or datetime.now(UTC)
    errors = event_times_problems({"upload_timestamp": data.uploaded_at}, received_at=received_at)
    if data.recorded_at is not None:
        problem = event_time_problem(data.recorded_at, received_at=received_at)
        if data.recorded_at < EARLIEST_RECORDING:
            errors["created_at"] = [f"{data.recorded_at.isoformat()} is before {EARLIEST_RECORDING.year}."]
        elif problem and data.recorded_at > received_at:
            errors["created_at"] = [problem]
    return errors


@inbound_handler("recordings.webhook")
def recorder_webhook(message, payload: dict) -> HandlerResult:
    try:
        data = parse_recorder_payload(payload)
    except PayloadInvalid as exc:
        raise InboundRejected(400, _error(exc.message, errors=exc.errors)) from None
    errors = _time_errors(data, message.received_at)
    if errors:
        raise InboundRejected(400, _error(f"Invalid fields: {', '.join(errors)}", errors=errors))
    try:
        recording, created = recording_upsert_from_recorder(tenant=message.tenant, data=data, payload=payload)
    except UserNotFound as exc:
        raise InboundRejected(404, _error(str(exc))) from None
    except OwnedByAnotherUser as exc:
        raise InboundRejected(409, _error(str(exc), recording_id=data.recording_id_raw)) from None
    action = "created" if created else "updated"
    return HandlerResult(201 if created else 200, {
        "status": "success",
        "message": f"Recording {action} successfully",
        "recording_id": data.recording_id_raw,
        "pk": recording.pk,
        "action": action,
    })


@event_processor(InboundSource.Kind.REALCAST, "recording.started")
@event_processor(InboundSource.Kind.REALCAST, "recording.ready")
def realcast_recording(tenant, event: dict, payload: dict) -> None:
    """RealCast's recording events, validated by its endpoint (`streams.inbound`); the recording keeps
    RealCast's data as sent, keys Streamhook doesn't read included."""
    recording_upsert_from_realcast(tenant=tenant, data=payload["data"], event_time=event["timestamp"],
                                   event=event["event"])
