"""Query-string filters of the inbound message list (`GET /api/v1/inbound-messages`)."""

import django_filters

from accounts.filters import time_window
from webhooks.inbound.models import InboundMessage


class InboundMessageFilter(django_filters.FilterSet):
    # A plain number, not a model choice: validating against every source would tell a tenant which
    # of another tenant's source ids exist.
    source = django_filters.NumberFilter(field_name="source_id", min_value=1)
    status = django_filters.ChoiceFilter(choices=InboundMessage.Status.choices)
    handler = django_filters.CharFilter(max_length=100)
    message_id = django_filters.CharFilter(max_length=200)
    since, until = time_window("received_at", "Received")

    class Meta:
        model = InboundMessage
        fields = ["source", "status", "handler", "message_id", "since", "until"]
