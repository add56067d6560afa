from django.apps import AppConfig


class RetentionConfig(AppConfig):
    """Retention: purging what is past its tenant's retention, and the rollups that outlive it.

    A Django app of its own inside `webhooks/` so its migrations and tasks evolve independently
    of the delivery engine's.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks.retention"
    label = "webhooks_retention"
    verbose_name = "Retention"
