"""gunicorn's access log without source URL secrets (`logger_class` in gunicorn.conf.py).

The request line, the path, the referer and every header or environ atom a log format may name
go through `core.logredact`, so `/s/<secret>/recordings/webhook/` is logged as `/s/***/recordings/webhook/`.
"""

from gunicorn.glogging import Logger

from core.logredact import redact_source_urls


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact_source_urls(value) if isinstance(value, str) else value for key, value in atoms.items()}
