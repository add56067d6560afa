"""Platform events raised by tenancy: tenancy sends a signal, we turn it into a webhook.

Tenancy must not import webhooks (dependencies point one way: domain apps → webhooks → accounts),
so `accounts` announces new users with a signal and this module emits `user.created`.
"""

from django.dispatch import receiver

from accounts.signals import user_created
from webhooks.events import emit


@receiver(user_created, dispatch_uid="webhooks.user_created")
def emit_user_created(sender, *, user, tenant, **kwargs) -> None:
    emit("user.created", {"user_id": user.pk, "username": user.get_username(), "email": user.email}, tenant=tenant)
