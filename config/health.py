"""`/healthz`: is this process able to reach what it needs? For load balancers and humans."""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from config.celery import app as celery_app


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "down"; the reason helps the operator
        return f"error: {exc.__class__.__name__}"
    return "ok"


def _broker_status() -> str:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"
    return "ok"


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_status(), "broker": _broker_status()}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)


class HealthzMiddleware:
    """Answers `/healthz` before any middleware validates the Host header.

    Probes call a container by its address (`http://127.0.0.1:8000/healthz` in docker-compose,
    a pod IP in Kubernetes), which production's `ALLOWED_HOSTS` rightly does not list; through
    CommonMiddleware they would get 400 and mark a healthy server down. The answer reveals
    nothing beyond up/down, so it needs no host check, no HTTPS redirect and no session.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.path == "/healthz" and request.method in ("GET", "HEAD"):
            return healthz(request)
        return self.get_response(request)
