import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery import Celery

from config import health


@pytest.mark.django_db
def test_healthz_reports_database_and_broker_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_healthz_is_503_when_broker_unreachable(client, monkeypatch):
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    # set_as_current=False: else every later shared_task .delay() in this process would use this dead broker.
    monkeypatch.setattr(health, "celery_app", Celery(broker="redis://127.0.0.1:1/0", set_as_current=False))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")
    assert response.json()["database"] == "ok"


def test_api_docs_and_schema_are_served(db, client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"openapi: 3" in schema.content
    assert client.get("/api/docs/").status_code == 200


def test_admin_login_page_is_served(db, client):
    assert client.get("/admin/login/").status_code == 200


def test_healthz_is_503_when_database_unreachable(tmp_path):
    """A process whose DATABASE_URL points at a closed loopback port, asked as a load balancer would."""
    code = (
        "import django, json; django.setup(); from django.test import Client; "
        "r = Client().get('/healthz'); print(json.dumps({'code': r.status_code, **r.json()}))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "STREAMHOOK_"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.test", STREAMHOOK_VAR_DIR=str(tmp_path),
               DATABASE_URL="postgres://nobody:pw@127.0.0.1:1/nothing")
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2], env=env,
                            capture_output=True, text=True, timeout=60)
    body = json.loads(result.stdout.strip().splitlines()[-1])
    assert body["code"] == 503
    assert body["status"] == "error"
    assert body["database"] == "error: OperationalError"
    assert body["broker"] == "ok"


@pytest.mark.django_db
def test_healthz_answers_probes_that_use_an_address_not_in_allowed_hosts(client, settings):
    """docker-compose probes http://127.0.0.1:8000/healthz while ALLOWED_HOSTS names the public host."""
    settings.ALLOWED_HOSTS = ["streamhook.example"]
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/healthz", HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    # Everything else still checks the host.
    assert client.get("/admin/login/", HTTP_HOST="10.1.2.3:8000").status_code == 400

