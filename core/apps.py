from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares and no app owns; depends on nothing of ours, so every app may import it."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
    verbose_name = "Core"
