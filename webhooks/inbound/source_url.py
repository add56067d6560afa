"""Source URLs: `/s/<secret>/` in front of a sender's own paths, for senders that can't send a header.

Like Slack's incoming-webhook URLs, the URL is the credential: a sender changes only its base URL
(`{url}/recordings/webhook/`, `{url}/api/webhook/track-classified`, `{url}/api/listen/start`,
`{url}/api/analytics/genre-trends`). Each app lists which of its paths it serves there, and for
which source kinds (`source_urlpatterns` in its urls.py); config/urls.py mounts them under the
prefix. Inbound webhook views read the secret themselves (`webhooks.inbound.views`); the DRF views
of the listening and analytics APIs are wrapped by `source_url_view`, which finds the source and
makes it the request's credential, acting for the source's tenant and nothing else.

An unknown or rotated secret is a 404: the URL doesn't exist. The secret never reaches a log
(`core.logredact`, `config/gunicorn_logging.py`).
"""

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer

from core.crypto import reveal
from webhooks.inbound.models import InboundSource
from webhooks.inbound.services import source_by_url_secret

# Which paths each kind's URL serves, for the source URL's own page and the docs.
KIND_PATHS = {
    InboundSource.Kind.STREAM_ASSISTANT: ["/api/webhook/track-classified", "/api/webhook/chat-interaction",
                                          "/api/webhook/stream-stats", "/api/analytics/genre-trends",
                                          "/api/analytics/session-summary/{session_id}"],
    InboundSource.Kind.RECORDER: ["/recordings/webhook/"],
    InboundSource.Kind.REALCAST: ["/webhooks/realcast"],
    InboundSource.Kind.AUDIO_FRONTEND: ["/api/listen/start", "/api/listen/stop", "/api/listen/status"],
    InboundSource.Kind.ANALYTICS: ["/api/analytics/genre-trends", "/api/analytics/session-summary/{session_id}"],
}


def source_url(source: InboundSource, request: HttpRequest | None = None) -> str:
    """The source's URL, absolute: from `STREAMHOOK_PUBLIC_URL` when set, else from the request."""
    path = reverse("source-url", kwargs={"source_secret": reveal(source.url_secret)})
    public = getattr(settings, "STREAMHOOK_PUBLIC_URL", "")
    if public:
        return public.rstrip("/") + path
    return request.build_absolute_uri(path) if request is not None else path


def _not_found() -> JsonResponse:
    return JsonResponse({"status": "error", "message": "No such source URL."}, status=404)


@csrf_exempt
def source_root(request: HttpRequest, source_secret: str) -> JsonResponse:
    """`GET {url}`: what this URL serves, so whoever pastes it can check it before wiring a sender."""
    source = source_by_url_secret(source_secret)
    if source is None:
        return _not_found()
    return JsonResponse({"name": source.name, "kind": source.kind, "paths": KIND_PATHS.get(source.kind, [])},
                        json_dumps_params={"ensure_ascii": False})


class SourceUrlAuthentication(BaseAuthentication):
    """The source `source_url_view` found in the URL; no user, the source's tenant."""

    def authenticate(self, request):
        source = getattr(request, "url_source", None)
        return (AnonymousUser(), source) if source is not None else None


class FromSourceUrl(BasePermission):
    message = "No such source URL."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, InboundSource)


def source_url_view(view_class, *, kinds: Iterable[str]):
    """`view_class` (a DRF APIView) served under a source URL for sources of `kinds`.

    Left out of the OpenAPI schema on purpose (no `cls` on the wrapper): these are the same
    operations as the documented paths, with the URL as the credential.
    """
    allowed = frozenset(kinds)
    unknown = allowed - set(InboundSource.Kind.values)
    if unknown:
        raise ImproperlyConfigured(f"unknown inbound source kinds: {sorted(unknown)}")
    # JSON only: the browsable API's pages and forms are for signed-in people, not for senders.
    view = view_class.as_view(authentication_classes=[SourceUrlAuthentication], permission_classes=[FromSourceUrl],
                              renderer_classes=[JSONRenderer])

    @csrf_exempt
    def wrapped(request: HttpRequest, source_secret: str, **kwargs):
        source = source_by_url_secret(source_secret)
        if source is None or source.kind not in allowed:
            return _not_found()
        request.url_source = source
        return view(request, **kwargs)

    wrapped.__name__ = wrapped.__qualname__ = f"{view_class.__name__}_under_source_url"
    return wrapped
