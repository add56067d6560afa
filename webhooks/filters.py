"""Query-string filters of the delivery lists (`GET /api/v1/webhooks/{id}/deliveries`)."""

import django_filters

from webhooks.models import Delivery


class DeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Delivery.Status.choices)
    event_type = django_filters.CharFilter(field_name="event__type", max_length=100)
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte",
                                             help_text="ISO 8601; deliveries created at or after it.")
    until = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt",
                                             help_text="ISO 8601; deliveries created before it.")

    class Meta:
        model = Delivery
        fields = ["status", "event_type", "since", "until"]
