from django.apps import AppConfig


class AudioConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "audio"

    def ready(self) -> None:
        from audio import event_types  # noqa: F401  registers listening.status and audio.level
