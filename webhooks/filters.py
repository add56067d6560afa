"""Query-string filters of the endpoint and delivery lists. An invalid value is a 400 naming the
filter, never silently ignored (a typo must not return everything)."""

import django_filters

from accounts.filters import time_window
from webhooks.models import Delivery, Endpoint

BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


class EndpointFilter(django_filters.FilterSet):
    is_active = django_filters.TypedChoiceFilter(
        choices=[(k, k) for k in BOOLEANS], coerce=lambda value: BOOLEANS[value],
        help_text="`true` or `false`.",
    )
    signature_scheme = django_filters.ChoiceFilter(choices=Endpoint.Scheme.choices)

    class Meta:
        model = Endpoint
        fields = ["is_active", "signature_scheme"]


class DeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Delivery.Status.choices)
    event_type = django_filters.CharFilter(field_name="event__type", max_length=100)
    since, until = time_window("created_at", "Created")

    class Meta:
        model = Delivery
        fields = ["status", "event_type", "since", "until"]
