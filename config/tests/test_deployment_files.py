"""docker-compose.yml can't run here (no Docker engine), so its shape is checked instead."""

import importlib
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_five_services_sharing_one_image():
    services = _compose()["services"]
    assert set(services) == {"db", "redis", "web", "worker", "beat"}
    app_images = {services[name]["image"] for name in ("web", "worker", "beat")}
    assert app_images == {"streamhook:latest"}
    assert all(services[name]["build"] == "." for name in ("web", "worker", "beat"))


def test_compose_points_the_app_at_postgres_and_redis_services():
    services = _compose()["services"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and "@db:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert services[name]["depends_on"]["db"]["condition"] == "service_healthy"
    assert "gunicorn config.wsgi:application" in services["web"]["command"]
    assert services["worker"]["command"].startswith("celery -A config worker")
    assert services["beat"]["command"].startswith("celery -A config beat")


def test_dockerfile_entry_points_exist():
    dockerfile = (ROOT / "Dockerfile").read_text()
    module = re.search(r'"gunicorn", "([\w.]+):application"', dockerfile).group(1)
    assert hasattr(importlib.import_module(module), "application")
    assert "pip install -r requirements.txt" in dockerfile
    assert "DJANGO_SETTINGS_MODULE=config.settings.production" in dockerfile
