"""drf-spectacular hooks: the schema shows the paths as DESIGN.md and the seeds spell them."""


def without_optional_slash(endpoints: list[tuple], **kwargs) -> list[tuple]:
    """The API's routes answer with and without a trailing slash (`accounts.routers.OptionalSlashRouter`);
    drf-spectacular printed the slash (`/api/v1/webhooks/`), so a client generated from the schema
    called a form seed 002's clients never use. The schema now shows the one without it."""
    return [
        (path[:-1] if path.endswith("/") and regex.endswith("/?$") else path, regex, method, callback)
        for path, regex, method, callback in endpoints
    ]


def with_senders(endpoints: list[tuple], **kwargs) -> list[tuple]:
    """The webhook senders' endpoints, documented by config/openapi_senders.py's views."""
    from config.openapi_senders import SENDER_ENDPOINTS

    return [*endpoints, *((path, regex, "POST", view.as_view()) for path, regex, view in SENDER_ENDPOINTS)]
