from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares and no app owns; depends on nothing of ours (DESIGN.md section 2)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
    verbose_name = "Core"
