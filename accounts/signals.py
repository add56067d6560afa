"""Signals tenancy sends so that other apps (webhooks) can react without tenancy importing them."""

from django.dispatch import Signal

# Sent with user=<User>, tenant=<Tenant> when a user account is created for a tenant.
user_created = Signal()
