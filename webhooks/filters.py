"""Query-string filters of the endpoint and delivery lists. An invalid value is a 400 naming the
filter, never silently ignored (a typo must not return everything)."""

import django_filters

from core.filters import BooleanParamFilter, time_window
from webhooks.models import Delivery, Endpoint


class EndpointFilter(django_filters.FilterSet):
    is_active = BooleanParamFilter()
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
