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
        from webhooks.inbound import beat, source_cache  # noqa: F401  (source_cache: its signal receivers)

        beat.register()
