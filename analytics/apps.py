from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "analytics"

    def ready(self):
        from django.contrib import admin

        # The admin's "View site" link opens the operators' dashboard.
        admin.site.site_url = "/dashboard/"
