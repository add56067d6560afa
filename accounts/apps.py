from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Tenancy: tenants, who belongs to them, and the API tokens they call us with."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        from accounts import member_lookup, schema  # noqa: F401 - signal receivers; the OpenAPI security scheme
