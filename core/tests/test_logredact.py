"""Source URL secrets never reach a log: Django's request warnings, runserver's lines, gunicorn's access log."""

import logging
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from config.gunicorn_logging import RedactingLogger
from core.crypto import reveal
from core.logredact import redact_source_urls
from webhooks.inbound.services import source_create


def test_redaction_keeps_the_rest_of_the_path():
    assert redact_source_urls("POST /s/AbC-_123xyz/recordings/webhook/ HTTP/1.1") == \
        "POST /s/***/recordings/webhook/ HTTP/1.1"
    assert redact_source_urls("https://hooks.example.com/s/AbC-_123xyz") == "https://hooks.example.com/s/***"
    assert redact_source_urls("/api/v1/inbound-sources/3/rotate-url") == "/api/v1/inbound-sources/3/rotate-url"


@pytest.mark.django_db
def test_django_request_warnings_do_not_show_the_secret(client, tenant, caplog):
    source = source_create(tenant=tenant, name="recorder", kind="recorder")[0]
    with caplog.at_level(logging.WARNING, logger="django.request"):
        # 400 (no body) and 404 (no such path under the URL) are both logged by django.request.
        assert client.post(f"/s/{reveal(source.url_secret)}/recordings/webhook/", b"",
                           content_type="application/json").status_code == 400
        assert client.get(f"/s/{reveal(source.url_secret)}/nothing-here").status_code == 404
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "/s/***/recordings/webhook/" in text and "/s/***/nothing-here" in text
    assert reveal(source.url_secret) not in text


def test_gunicorn_access_log_does_not_show_the_secret(capsys):
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", '%(h)s "%(r)s" %(s)s %(U)s "%(f)s"')
    logger = RedactingLogger(cfg)
    secret = "Zx9_secret-part-of-the-url-0123456789abcdefgh"
    environ = {"REQUEST_METHOD": "POST", "RAW_URI": f"/s/{secret}/recordings/webhook/",
               "PATH_INFO": f"/s/{secret}/recordings/webhook/", "SERVER_PROTOCOL": "HTTP/1.1",
               "QUERY_STRING": "", "REMOTE_ADDR": "127.0.0.1", "HTTP_REFERER": f"https://x.test/s/{secret}"}
    response = SimpleNamespace(status="201 Created", sent=10, headers=[])
    logger.access(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=3))
    line = capsys.readouterr().out
    assert '"POST /s/***/recordings/webhook/ HTTP/1.1" 201 /s/***/recordings/webhook/ "https://x.test/s/***"' in line
    assert secret not in line


def test_gunicorn_is_configured_with_the_redacting_logger():
    namespace: dict = {}
    exec(Path("gunicorn.conf.py").read_text(), namespace)  # noqa: S102 - gunicorn itself execs this file
    assert namespace["logger_class"] == "config.gunicorn_logging.RedactingLogger"
