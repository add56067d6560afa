from django.apps import AppConfig


class RecordingsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "recordings"

    def ready(self) -> None:
        from recordings import event_types, handlers  # noqa: F401 - registers recording.* and the inbound handler
