"""Keeping source URL secrets (`/s/<secret>/...`) out of every log line.

A source URL is a credential carried in the path, so anything that logs a path would log it:
Django's `django.request` warnings ("Not Found: /s/..."), runserver's request lines, gunicorn's
access log (config/gunicorn_logging.py). Each passes its text through `redact_source_urls`.
"""

import logging
import re

# "/s/" then the secret: a path segment (URL-safe base64 in practice, anything up to the next "/").
_SOURCE_URL = re.compile(r"/s/[^/\s?#\"'<>]+")
REDACTED = "/s/***"


def redact_source_urls(text: str) -> str:
    """`text` with every source URL's secret replaced by `***`."""
    return _SOURCE_URL.sub(REDACTED, text) if "/s/" in text else text


def _redacted(value):
    return redact_source_urls(value) if isinstance(value, str) else value


class RedactSourceUrls(logging.Filter):
    """Rewrites a record's message and string arguments before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_source_urls(record.msg)
        if isinstance(record.args, dict):
            record.args = {key: _redacted(value) for key, value in record.args.items()}
        elif record.args:
            record.args = tuple(_redacted(value) for value in record.args)
        return True
