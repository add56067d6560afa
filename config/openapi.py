"""drf-spectacular hooks: the schema shows the paths as the API and the senders' documents spell them."""


def without_optional_slash(endpoints: list[tuple], **kwargs) -> list[tuple]:
    """The API's routes answer with and without a trailing slash (`core.routers.OptionalSlashRouter`);
    drf-spectacular printed the slash (`/api/v1/webhooks/`), so a client generated from the schema
    called a form the outbound-webhook application's clients never use. The schema now shows the one
    without it. The senders' paths keep their own spelling (the recorder's `/recordings/webhook/`)."""
    return [
        (path[:-1] if path.endswith("/") and regex.endswith("/?$") and path.startswith("/api/") else path,
         regex, method, callback)
        for path, regex, method, callback in endpoints
    ]
