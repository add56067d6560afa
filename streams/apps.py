from django.apps import AppConfig


class StreamsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "streams"

    def ready(self) -> None:
        from streams import event_types  # noqa: F401 - registers the stream.*, chat.*, track.* event types
