"""A URL conf for the machinery's own tests: one view per mode, on test handlers."""

import time

from django.urls import include, path

from webhooks.inbound.handlers import HandlerResult, InboundRejected, inbound_handler
from webhooks.inbound.views import InboundView

CALLS: list[dict] = []


@inbound_handler("tests.echo")
def echo(message, payload):
    if payload.get("reject"):
        raise InboundRejected(409, {"status": "error", "message": "rejected on request"})
    if payload.get("explode"):
        raise RuntimeError("boom")
    CALLS.append({"message": message.pk, "tenant": message.tenant.slug, "payload": payload})
    return HandlerResult(201, {"status": "success", "echo": payload, "tenant": message.tenant.slug})


@inbound_handler("tests.slow")
def slow(message, payload):
    """Holds its transaction open a moment, so a concurrent duplicate arrives while it runs."""
    time.sleep(float(payload.get("sleep", 0.3)))
    return echo(message, payload)


urlpatterns = [
    path("t/slow", InboundView.as_view(handler="tests.slow", kinds={"recorder"})),
    path("t/sync", InboundView.as_view(handler="tests.echo", kinds={"recorder", "stream-assistant"})),
    path("t/async", InboundView.as_view(handler="tests.echo", kinds={"recorder"}, asynchronous=True)),
    path(
        "t/realcast/<str:source_id>",
        InboundView.as_view(handler="tests.echo", kinds={"realcast"}, auth="signature", asynchronous=True,
                            source_from_url=True),
    ),
    path("", include("config.urls")),
]
