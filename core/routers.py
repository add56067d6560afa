from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """Routes that answer with and without the trailing slash.

    The outbound-webhook application's clients call `/api/v1/webhooks` and `/api/v1/webhooks/1/test` without one;
    Django-minded clients add it. Neither should meet a redirect (a POST would lose its body).
    """

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"
