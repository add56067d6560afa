from django.apps import AppConfig


class StreamsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "streams"

    def ready(self) -> None:
        # Registers the stream.*, viewer.*, chat.*, track.* event types and the inbound handlers.
        from streams import event_types, handlers  # noqa: F401
