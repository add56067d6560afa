"""The Celery application: configured from Django settings (CELERY_*), tasks autodiscovered.

The default settings module is production's, like wsgi/asgi: this module is imported by
``config/__init__.py`` before either of them, so a development default here would make a
bare ``gunicorn config.wsgi`` run with DEBUG on. ``make run`` and the tests name their
settings explicitly.
"""

import os
import sys

from celery import Celery, signals
from django.core.exceptions import ImproperlyConfigured

from config.startup import GIL_SWITCH_INTERVAL, configuration_error, database_unreachable, stop

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")


class StreamhookCelery(Celery):
    def on_configure(self) -> None:
        """Load Django's settings first, so bad configuration is one line, not a traceback wall."""
        from django.conf import settings

        try:
            settings.INSTALLED_APPS  # noqa: B018 - importing the settings module is the point
        except ImproperlyConfigured as exc:
            stop(configuration_error(exc))


app = StreamhookCelery("streamhook")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
def _refuse_to_start_without_database(**kwargs) -> None:
    """A worker that cannot reach the database would fail every task; say so once and stop."""
    from django.db import connection
    from django.db.utils import OperationalError

    try:
        connection.ensure_connection()
    except OperationalError as exc:
        stop(database_unreachable(exc))
    finally:
        connection.close()  # forked pool processes must not share this connection


@signals.worker_process_init.connect
def _hand_the_gil_over_sooner(**kwargs) -> None:
    """A pool process runs tasks on its main thread, sends webhooks on the sender's event-loop
    thread and records outcomes on the recorder's. Python hands the GIL between threads only every
    switch interval (5 ms by default), so a request handed to the loop thread waited for the task's
    thread to finish its bookkeeping. The same interval as gunicorn's workers (gunicorn.conf.py)."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)


@signals.task_prerun.connect
def _retire_old_connections(sender=None, **kwargs) -> None:
    """Celery's Django fixup closes the database connection around every task unless
    CELERY_DB_REUSE_MAX is set (a new connection, and its prepared statements, per task: the biggest
    share of a delivery's first-attempt latency). With it set, this retires the connections that
    CONN_MAX_AGE or a failed query says to, as Django does between requests. Not for a task run
    eagerly (`apply()`), which runs inside its caller's connection and transaction."""
    from django.db import close_old_connections

    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    close_old_connections()


@app.task(name="streamhook.ping", ignore_result=True)
def ping(path: str) -> None:
    """Write this pool process's pid and GIL switch interval to ``path``: proof that a worker process
    ran a task, and how it runs its threads."""
    with open(path, "w") as fh:
        fh.write(f"{os.getpid()} {sys.getswitchinterval()}")
