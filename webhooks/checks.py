"""System checks for webhook settings that can't be wrong silently."""

from django.core.checks import Warning, register

from webhooks import conf
from webhooks.sender import LEASE_MARGIN


@register()
def lease_outlasts_requests(app_configs, **kwargs) -> list[Warning]:
    """A lease shorter than a request's timeout lets the sweep send a hanging delivery a second time."""
    lease, timeout = conf.get("WEBHOOKS_LEASE_SECONDS"), conf.get("WEBHOOKS_TIMEOUT")
    if lease >= timeout + LEASE_MARGIN:
        return []
    return [Warning(
        f"WEBHOOKS_LEASE_SECONDS ({lease}) is shorter than WEBHOOKS_TIMEOUT ({timeout}) plus {LEASE_MARGIN:g} s",
        hint="A delivery to a receiver that hangs may then be sent twice. Raise the lease or lower the timeout.",
        id="webhooks.W001",
    )]
