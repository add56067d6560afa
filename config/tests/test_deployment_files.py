"""docker-compose.yml can't run here (no Docker engine), so its shape is checked instead."""

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_app_services_sharing_one_image_behind_the_proxy():
    services = _compose()["services"]
    assert set(services) == {"db", "redis", "web", "worker", "beat", "proxy"}
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


def _env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line.strip() and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def _dockerfile_env() -> dict[str, str]:
    block = re.search(r"^ENV (.+?)(?=^\S)", (ROOT / "Dockerfile").read_text(), re.S | re.M).group(1)
    return dict(re.findall(r"(\w+)=(\S+)", block))


def _container_env(tmp_path: Path, service: str) -> dict[str, str]:
    """What a compose service's process sees: the image's ENV, .env (from .env.example), `environment`."""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "CELERY_", "STREAMHOOK_"))}
    compose_env = _compose()["services"][service]["environment"]
    return {**clean, **_dockerfile_env(), **_env_file(ROOT / ".env.example"), **compose_env,
            "STREAMHOOK_VAR_DIR": str(tmp_path / "var")}


def test_every_service_has_a_healthcheck_or_restarts():
    services = _compose()["services"]
    for name in ("db", "redis", "web", "worker"):
        assert services[name]["healthcheck"]["test"], name
    for name in ("web", "worker", "beat"):
        assert services[name]["restart"] == "unless-stopped"
    # The worker's probe pings the node name the worker was started with.
    assert "-n worker@%h" in services["worker"]["command"]
    # `$$` is compose for a literal `$`: the shell in the container expands $HOSTNAME (= %h).
    assert "worker@$$HOSTNAME" in " ".join(services["worker"]["healthcheck"]["test"])


def test_the_compose_programs_are_installed():
    bin_dir = Path(sys.executable).parent
    for program in ("gunicorn", "celery"):
        assert (bin_dir / program).exists(), f"{program} is not in requirements.txt"


def test_env_example_and_compose_env_satisfy_production_settings(tmp_path):
    """With the documented `cp .env.example .env`, the image's settings load (no DB needed to import)."""
    env = _container_env(tmp_path, "web")
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    code = ("import config.wsgi; from django.conf import settings; "
            "print(settings.DEBUG, settings.DATABASES['default']['HOST'], settings.CELERY_BROKER_URL)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.split() == ["False", "db", "redis://redis:6379/0"], result.stderr


def test_dockerfile_collectstatic_step_works_under_production_settings(tmp_path):
    dockerfile = (ROOT / "Dockerfile").read_text()
    step = re.search(r"RUN (DJANGO_SECRET_KEY=\S+ DJANGO_ALLOWED_HOSTS=\S+ \\\s+DATABASE_URL=\S+ REDIS_URL=\S+ \\\s+"
                     r"STREAMHOOK_ENCRYPTION_KEYS=\S+) \\\s+"
                     r"python manage.py collectstatic --noinput -v0", dockerfile)
    assert step, "the Dockerfile's collectstatic step changed; update this test"
    build_env = dict(re.findall(r"(\w+)=(\S+)", step.group(1)))
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "CELERY_", "STREAMHOOK_"))}
    static = tmp_path / "static"
    env = {**clean, **_dockerfile_env(), **build_env, "STREAMHOOK_VAR_DIR": str(tmp_path / "var"),
           "DJANGO_STATIC_ROOT": str(static)}
    result = subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    assert (static / "admin" / "css" / "base.css").exists()
    assert (static / "rest_framework").is_dir()


def _gunicorn_config(env: dict | None = None) -> dict[str, str]:
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    result = subprocess.run([gunicorn, "--print-config", "config.wsgi:application"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
    pairs = (line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    printed = {key.strip(): value.strip() for key, value in pairs}
    assert printed.get("config") == "./gunicorn.conf.py", result.stderr
    return printed


def test_gunicorn_reads_the_projects_config_and_its_workers_switch_the_gil_sooner():
    """The image and a checkout start gunicorn in this folder, which loads gunicorn.conf.py from it."""
    printed = _gunicorn_config()
    assert printed["post_worker_init"] == "<post_worker_init()>"
    check = ("import runpy, sys; conf = runpy.run_path('gunicorn.conf.py'); conf['post_worker_init'](None); "
             "print(sys.getswitchinterval())")
    interval = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert float(interval.stdout) == 0.0005, interval.stderr


def test_gunicorn_preloads_the_app_and_hides_it_from_the_workers_garbage_collector():
    printed = _gunicorn_config()
    assert (printed["preload_app"], printed["pre_fork"]) == ("True", "<pre_fork()>")
    check = ("import gc, runpy; conf = runpy.run_path('gunicorn.conf.py'); before = gc.get_freeze_count(); "
             "conf['pre_fork'](None, None); print(before, gc.get_freeze_count() > 1000)")
    frozen = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert frozen.stdout.split() == ["0", "True"], frozen.stderr


def test_gunicorn_runs_a_gthread_worker_per_core_with_two_threads_unless_told_otherwise():
    env = {k: v for k, v in os.environ.items() if k not in ("WEB_CONCURRENCY", "GUNICORN_THREADS")}
    printed = _gunicorn_config(env)
    assert (printed["worker_class"], printed["workers"], printed["threads"], printed["keepalive"]) == (
        "gthread", str(os.cpu_count()), "2", "60")
    printed = _gunicorn_config({**env, "WEB_CONCURRENCY": "5", "GUNICORN_THREADS": "3"})
    assert (printed["workers"], printed["threads"]) == ("5", "3")
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    bad = subprocess.run([gunicorn, "--print-config", "config.wsgi:application"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, env={**env, "GUNICORN_THREADS": "four"})
    assert bad.returncode == 3
    assert bad.stderr.strip() == (
        "configuration error: GUNICORN_THREADS must be a whole number of at least 1, not 'four'")


def test_the_image_and_compose_leave_workers_and_threads_to_the_config_the_benchmark_measures():
    compose = (ROOT / "docker-compose.yml").read_text()
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "gunicorn config.wsgi:application --bind unix:/run/streamhook/gunicorn.sock" in compose
    assert '"gunicorn", "config.wsgi:application", "--bind", "unix:/run/streamhook/gunicorn.sock"' in dockerfile
    for text in (compose, dockerfile):
        for flag in ("--workers", "--threads", "--worker-class", "--keep-alive", " -w ", " -k "):
            assert flag not in text, flag


def test_gunicorn_listens_only_behind_the_proxy():
    """No port for web: nginx (the only published port) reaches gunicorn through the socket volume."""
    services = _compose()["services"]
    assert "ports" not in services["web"] and "expose" not in services["web"]
    assert services["proxy"]["ports"] == ["80:80"]
    socket_volume = "gunicorn-socket:/run/streamhook"
    assert socket_volume in services["web"]["volumes"] and socket_volume in services["proxy"]["volumes"]
    assert "--access-logfile" not in services["web"]["command"]  # its request line would hold source URLs' secrets
    proxy_image = (ROOT / services["proxy"]["build"] / "Dockerfile").read_text()
    assert "COPY streamhook.conf /etc/nginx/conf.d/streamhook.conf" in proxy_image
    assert "libnginx-mod-http-headers-more-filter" in proxy_image
    assert "EXPOSE 8000" not in (ROOT / "Dockerfile").read_text()


def _pins(name: str) -> set[str]:
    lines = (ROOT / name).read_text().splitlines()
    return {line.split("==")[0].split("[")[0].lower() for line in lines if "==" in line}


def test_the_image_installs_runtime_only_and_the_tooling_sits_in_requirements_dev():
    tooling = {"pytest", "pytest-django", "hypothesis", "playwright", "ruff", "svix", "factory-boy"}
    assert not tooling & _pins("requirements.txt")
    assert tooling <= _pins("requirements-dev.txt")
    assert (ROOT / "requirements-dev.txt").read_text().splitlines()[1] == "-r requirements.txt"
    assert "requirements-dev" not in (ROOT / "Dockerfile").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^lint: install-dev$", makefile, re.M)
    assert re.search(r"^migrate: install$", makefile, re.M)  # `make run` goes through migrate
