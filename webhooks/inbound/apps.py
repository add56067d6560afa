from django.apps import AppConfig


class InboundConfig(AppConfig):
    """Receiving webhooks: sources, raw messages, verification, replay.

    A Django app of its own inside `webhooks/` so its migrations evolve independently
    of the outbound side's.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks.inbound"
    label = "webhooks_inbound"
    verbose_name = "Inbound webhooks"

    def ready(self) -> None:
        from celery import current_app

        # Async messages whose Celery message was lost (broker down at arrival) are picked up here.
        current_app.conf.beat_schedule.setdefault(
            "webhooks-inbound-sweep-received",
            {"task": "webhooks_inbound.sweep_received", "schedule": 60.0},
        )
