"""gunicorn reads this file from its working directory (the image's /app, a checkout's root).

Threads hand the GIL to each other every `sys.getswitchinterval()`, 5 ms by default. An ingest
request waits on PostgreSQL and Redis about ten times; each wake-up behind a busy thread can cost
up to that interval, so under load gthread workers spent their time queueing for the GIL: on the
2-core bench machine 0.5 ms took `bench/ingest.py`'s recordings path from about 180 to 300
requests/s and the RealCast acknowledgement's p99 from 12.5 to 7.9 ms (docs/benchmarks.md).
Workers, threads and binding stay on the command line (Dockerfile, docker-compose.yml).
"""

import sys

GIL_SWITCH_INTERVAL = 0.0005  # seconds


def post_worker_init(worker) -> None:
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
