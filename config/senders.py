"""The senders' endpoints get a WSGI handler of their own, with only the middleware that acts on them.

Webhook senders (the recorder, the DJ stream assistant, RealCast) post JSON with a key or a
signature: they carry no session, no CSRF token, no logged-in user, no flash messages, and never ask
for a static file. For them Django's session, CSRF, authentication, messages and WhiteNoise middleware are
inert (the inbound views are csrf-exempt and touch none of `request.user`, `request.session` or
messages), yet they would run on every request, a share of an ingest request worth saving
(docs/benchmarks.md, "Ingest path layers"). Django can't leave middleware out per view, so the
WSGI entry point sends paths under `INGEST_PATH_PREFIXES` to a second `WSGIHandler` built from
`INGEST_MIDDLEWARE`, which keeps what does act on them: the Host check and Content-Length
(CommonMiddleware), the security headers and HTTPS redirect (SecurityMiddleware) and
X-Frame-Options. The answers are the same, header for header
(`config/tests/test_senders_handler.py` compares them with the full stack's).

Only `config.wsgi` dispatches; Django's test client and `runserver`'s static handler use the full
stack, which gives the same answers.
"""

from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


class SendersHandler(WSGIHandler):
    """A WSGIHandler whose middleware chain is `INGEST_MIDDLEWARE` instead of `MIDDLEWARE`."""

    def load_middleware(self, is_async: bool = False) -> None:
        # BaseHandler reads settings.MIDDLEWARE and nothing else. This runs once, while the WSGI
        # module is imported (before any request thread exists), so swapping the setting for the
        # duration is safe; it is put back before anything else can read it.
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.INGEST_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


def dispatching(application: WSGIApp) -> WSGIApp:
    """`application`, except that requests under `INGEST_PATH_PREFIXES` go to a `SendersHandler`."""
    senders = SendersHandler()
    starts = tuple(settings.INGEST_PATH_PREFIXES)

    def dispatch(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(starts):
            return senders(environ, start_response)
        return application(environ, start_response)

    dispatch.senders = senders  # for tests
    return dispatch
