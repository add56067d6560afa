"""gunicorn reads this file from its working directory (the image's /app, a checkout's root).

How many requests run at once: one gthread worker per core, two threads each, so about two
requests per core are in flight. An ingest request is CPU-bound between two or three short waits
on PostgreSQL, so two per core keep the cores busy, and more only add contention
(docs/benchmarks.md, "The web tier"; docs/design/web-tier.md).
`WEB_CONCURRENCY` (gunicorn's own variable) and `GUNICORN_THREADS` change them; command-line
flags still win.

Threads hand the GIL to each other every `sys.getswitchinterval()`, 5 ms by default. An ingest
request waits on PostgreSQL and Redis several times; each wake-up behind a busy thread can cost
up to that interval, so under load gthread workers queue for the GIL; a shorter interval hands
it over sooner (docs/benchmarks.md, "The web tier").
Binding and logging stay on the command line (Dockerfile, docker-compose.yml).
"""

import gc
import os
import sys

from config.startup import GIL_SWITCH_INTERVAL, stop


def _count(name: str, raw: str, default: int) -> int:
    raw = raw.strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        stop(f"configuration error: {name} must be a whole number of at least 1, not {raw!r}")
    return int(raw)


worker_class = "gthread"
# Source URLs carry a secret in the path: the access log shows `/s/***/...` instead.
logger_class = "config.gunicorn_logging.RedactingLogger"
# (gunicorn itself reads WEB_CONCURRENCY first, and stops with a traceback of its own if it isn't a number.)
workers = _count("WEB_CONCURRENCY", os.environ.get("WEB_CONCURRENCY", ""), os.cpu_count() or 2)
threads = _count("GUNICORN_THREADS", os.environ.get("GUNICORN_THREADS", ""), 2)
keepalive = 60  # seconds: senders post in bursts over kept-alive connections
# The app is imported once, in the master, before the workers fork: a configuration error then
# stops gunicorn with its one line (exit 3), where several workers failing to boot at once could
# make the master fail with a traceback of its own. Nothing connects at import (the database and
# Redis connect on first use, in each worker), and the workers share the imported code's memory.
preload_app = True


def pre_fork(server, worker) -> None:
    # Everything the master imported (Django, the apps, their modules: ~all long-lived objects) is
    # moved out of the garbage collector's sight before each fork. A worker's collections then scan
    # only what it made itself, instead of the whole heap again and again (docs/benchmarks.md,
    # "The web tier"), and pages stay shared with the master.
    gc.freeze()


def post_worker_init(worker) -> None:
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
