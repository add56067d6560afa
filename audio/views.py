from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts.scoping import request_tenant


@login_required
def meter(request):
    """The live meter. Without a tenant the page sends no requests at all (its script reads `data-access`)."""
    has_tenant = request_tenant(request) is not None
    return render(request, "audio/meter.html", {"has_tenant": has_tenant}, status=200 if has_tenant else 403)
