"""Pages every app shares: the home page at `/`, and Django's last-resort error pages, in JSON under
the API's and the senders' paths.

A URL the router can't match (`/api/v1/webhooks/abc`) or an error outside a DRF view never reaches
DRF's exception handler; Django answers with an HTML page, which an integrator's client can't read.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults

JSON_PATH_PREFIXES = ("/api/", "/webhooks/", "/recordings/webhook", "/s/")


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(JSON_PATH_PREFIXES)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": "A server error occurred."}, status=500)
    return defaults.server_error(request)


def home(request: HttpRequest) -> HttpResponse:
    """Where a person lands: links to every face of Streamhook, whether signed in or not."""
    return render(request, "core/home.html")
