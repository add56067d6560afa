"""The Celery application: configured from Django settings (CELERY_*), tasks autodiscovered."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("streamhook")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="streamhook.ping", ignore_result=True)
def ping(path: str) -> None:
    """Write this worker's pid to ``path``: proof that a worker process ran a task."""
    with open(path, "w") as fh:
        fh.write(str(os.getpid()))
