"""gunicorn reads this file from its working directory (the image's /app, a checkout's root).

How many requests run at once: one gthread worker per core, two threads each, so about two
requests per core are in flight. An ingest request is CPU-bound between two or three short waits
on PostgreSQL, so two per core keep the cores busy, and more only add contention: on the 2-core
bench machine, 2 workers x 2 threads against the 3 x 4 before, in alternating runs (median
rounds, docs/benchmarks.md): seed 000's track path 840 against 755 requests/s, seed 003's updates
1075 against 958, its creates the same (1010), with a lower p99 (track: 34 against 48 ms).
`WEB_CONCURRENCY` (gunicorn's own variable) and `GUNICORN_THREADS` change them; command-line
flags still win.

Threads hand the GIL to each other every `sys.getswitchinterval()`, 5 ms by default. An ingest
request waits on PostgreSQL and Redis several times; each wake-up behind a busy thread can cost
up to that interval, so under load gthread workers spent their time queueing for the GIL: on the
2-core bench machine 0.5 ms took `bench/ingest.py`'s recordings path from about 180 to 300
requests/s and the RealCast acknowledgement's p99 from 12.5 to 7.9 ms (docs/benchmarks.md).
Binding and logging stay on the command line (Dockerfile, docker-compose.yml).
"""

import gc
import os
import sys

from config.startup import stop

GIL_SWITCH_INTERVAL = 0.0005  # seconds


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
    # only what it made itself, instead of the whole heap again and again: 9 % of an ingest request's
    # instructions (track: 5.02 -> 4.55 M, callgrind), and pages stay shared with the master.
    gc.freeze()


def post_worker_init(worker) -> None:
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
