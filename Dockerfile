# One image for web (gunicorn), worker and beat; see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    STREAMHOOK_VAR_DIR=/app/var

# libportaudio2: sounddevice's native library, for `manage.py sample_audio --source device`.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libportaudio2 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic needs settings but no secrets or services: throwaway values, build time only.
RUN DJANGO_SECRET_KEY=collectstatic-only DJANGO_ALLOWED_HOSTS=localhost \
    DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    STREAMHOOK_ENCRYPTION_KEYS=Y29sbGVjdHN0YXRpYy1vbmx5LW5vdC1hLXJlYWwta2U= \
    python manage.py collectstatic --noinput -v0 \
 && useradd --system --uid 1000 --home /app streamhook \
 && mkdir -p /app/var /run/streamhook && chown -R streamhook /app/var /run/streamhook

USER streamhook
# gunicorn.conf.py (read from /app) sets what bench/ingest.py measures: gthread workers, one per core with
# two threads each (WEB_CONCURRENCY, GUNICORN_THREADS), kept-alive connections, a shorter GIL switch interval.
# It listens only on a Unix socket that nginx (deploy/nginx/) proxies to: stalled clients meet nginx, never a
# gunicorn thread. nginx writes the access log, with source URLs' secrets masked.
CMD ["gunicorn", "config.wsgi:application", "--bind", "unix:/run/streamhook/gunicorn.sock", "--no-control-socket"]
