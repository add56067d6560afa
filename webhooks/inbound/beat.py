"""The periodic task of the inbound side, added to Celery beat's schedule at start-up."""

SWEEP = "webhooks-inbound-sweep-received"


def register() -> None:
    from celery import current_app

    # Async messages whose Celery message was lost (broker down at arrival) are picked up here.
    current_app.conf.beat_schedule.setdefault(SWEEP, {"task": "webhooks_inbound.sweep_received", "schedule": 60.0})


def is_registered() -> bool:
    from celery import current_app

    return SWEEP in current_app.conf.beat_schedule
