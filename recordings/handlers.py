"""The recorder's inbound handler (seed 003): validate, upsert, answer in the seed's shapes."""

from recordings.inbound import PayloadInvalid, parse_recorder_payload
from recordings.services import OwnedByAnotherUser, UserNotFound, recording_upsert_from_recorder
from webhooks.inbound.handlers import HandlerResult, InboundRejected, inbound_handler


def _error(message: str, **extra) -> dict:
    return {"status": "error", "message": message, **extra}


@inbound_handler("recordings.webhook")
def recorder_webhook(message, payload: dict) -> HandlerResult:
    try:
        data = parse_recorder_payload(payload)
    except PayloadInvalid as exc:
        raise InboundRejected(400, _error(exc.message, errors=exc.errors)) from None
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
