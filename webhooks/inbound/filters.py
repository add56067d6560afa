"""Query-string filters of the inbound message list (`GET /api/v1/inbound-messages`)."""

import django_filters

from core.filters import BooleanParamFilter, IdFilter, time_window
from webhooks.inbound.models import InboundMessage, InboundSource


class InboundMessageFilter(django_filters.FilterSet):
    # A plain number, not a model choice: validating against every source would tell a tenant which
    # of another tenant's source ids exist.
    source = IdFilter(field_name="source_id")
    status = django_filters.ChoiceFilter(choices=InboundMessage.Status.choices)
    handler = django_filters.CharFilter(max_length=100)
    message_id = django_filters.CharFilter(max_length=200)
    since, until = time_window("received_at", "Received")

    class Meta:
        model = InboundMessage
        fields = ["source", "status", "handler", "message_id", "since", "until"]


class InboundSourceFilter(django_filters.FilterSet):
    is_active = BooleanParamFilter()

    class Meta:
        model = InboundSource
        fields = ["kind", "is_active"]
