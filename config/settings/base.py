"""Settings shared by every environment; each value can come from the environment.

See README.md, "Configuration", for the table of variables.
"""

import base64
import hashlib
import ipaddress
from datetime import timedelta
from pathlib import Path

from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from config.env import env, env_bool
from core.eventtime import parse_window

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env("STREAMHOOK_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
# Fernet keys for secrets at rest (core/crypto.py), comma-separated: the first encrypts, all decrypt.
STREAMHOOK_ENCRYPTION_KEYS = env.list("STREAMHOOK_ENCRYPTION_KEYS", default=[])
# Derived from a public phrase, so development and test databases stay readable across runs; never
# used by production settings, which require STREAMHOOK_ENCRYPTION_KEYS.
DEVELOPMENT_ENCRYPTION_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"streamhook development only").digest()).decode()
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "core",
    "accounts",
    "webhooks",
    "webhooks.inbound",
    "webhooks.retention",
    "streams",
    "recordings",
    "analytics",
    "audio",
    "portal",
]

MIDDLEWARE = [
    "config.health.HealthzMiddleware",  # first: load-balancer probes skip the Host check
    "core.client_address.TrustedProxyMiddleware",  # before anything reads REMOTE_ADDR
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out login into its 429 page
]

# The webhook senders' endpoints (the DJ stream assistant, the recorder, RealCast) are served by a
# handler with only the middleware that acts on them (config/senders.py says why). A middleware
# added to MIDDLEWARE must be added here too unless it is inert for a key-authenticated,
# csrf-exempt JSON POST: config/tests/test_senders_handler.py fails until it is placed.
INGEST_MIDDLEWARE = [
    "core.client_address.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
INGEST_PATH_PREFIXES = ("/recordings/webhook", "/api/webhook/", "/webhooks/realcast/", "/s/")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: WAL lets readers run beside the writer,
    # IMMEDIATE takes the write lock up front instead of failing on upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Values travel apart from the statement text, so psycopg can prepare a statement on the
        # connection once it has seen it `prepare_threshold` times: every ingest request runs the
        # same few, and PostgreSQL then skips parsing and planning them. None turns preparing off,
        # for a pooler in transaction mode that can't keep prepared statements (PgBouncer before 1.21).
        DATABASES["default"]["OPTIONS"] = {
            **DATABASES["default"].get("OPTIONS", {}),
            "server_side_binding": True,
            "prepare_threshold": 5 if env_bool("DATABASE_PREPARED_STATEMENTS", True) else None,
        }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Broker and cache ---------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CACHES = {
        "default": {
            # django-redis keeps one client per process where Django's own backend builds one per call.
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    # Embedded default: kombu's filesystem transport needs no server, and a file
    # cache is shared by every process on the machine (the rate limiter needs that).
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://localhost/"  # a host, or kombu warns "No hostname was supplied" on every connect
    CELERY_BROKER_TRANSPORT = "core.filesystem_broker:Transport"  # kombu's, writing each message atomically
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # kombu polls a folder; its default (1 s) let one audio level a second through (the
        # others were superseded while they waited). A listdir every 50 ms costs an idle worker little.
        "polling_interval": 0.05,
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Celery -------------------------------------------------------------------
CELERY_TIMEZONE = "UTC"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = env.int("CELERY_WORKER_PREFETCH_MULTIPLIER", default=4)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="streamhook")
# Keep database connections across tasks (config/celery.py retires old and broken ones before each).
CELERY_DB_REUSE_MAX = 1000
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE: dict = {
    # Sends deliveries that are due (long retries) or abandoned (a killed worker's lapsed lease)
    # and fans out events whose fan-out message was lost. Overlapping runs claim disjoint rows.
    "webhooks-sweep": {"task": "webhooks.sweep", "schedule": env.float("WEBHOOKS_SWEEP_INTERVAL", default=2.0)},
    # Folds committed plays into analytics' per-day rollups; queries stay exact between runs.
    "analytics-rollups": {"task": "analytics.refresh_rollups",
                          "schedule": env.float("ANALYTICS_ROLLUP_INTERVAL", default=300.0)},
    # A daily rebuild also forgets deleted streams rows, the one change the incremental refresh can't see.
    "analytics-rollups-rebuild": {"task": "analytics.refresh_rollups", "schedule": 86400.0, "kwargs": {"full": True}},
    # Deletes what is past its tenant's retention, in short batches (webhooks/retention/services.py).
    "webhooks-purge-expired": {"task": "webhooks_retention.purge_expired",
                               "schedule": env.float("STREAMHOOK_RETENTION_INTERVAL", default=3600.0)},
}
# Retention (docs/retention.md): days kept unless the tenant says otherwise; a positive
# STREAMHOOK_RETENTION_SECONDS replaces the default in seconds (benchmarks, tests).
STREAMHOOK_RETENTION_DAYS = env.int("STREAMHOOK_RETENTION_DAYS", default=30)
STREAMHOOK_RETENTION_SECONDS = env.int("STREAMHOOK_RETENTION_SECONDS", default=0)
STREAMHOOK_RETENTION_BATCH_SIZE = env.int("STREAMHOOK_RETENTION_BATCH_SIZE", default=2000)
# Rows younger than this are never trusted to be in the rollups: longer than any transaction may live.
ANALYTICS_ROLLUP_MARGIN = env.int("ANALYTICS_ROLLUP_MARGIN", default=300)
# Webhook delivery engine knobs (defaults and the rest in webhooks/conf.py).
WEBHOOKS_LEASE_SECONDS = env.int("WEBHOOKS_LEASE_SECONDS", default=90)
WEBHOOKS_MAX_IN_FLIGHT = env.int("WEBHOOKS_MAX_IN_FLIGHT", default=50)
WEBHOOKS_CIRCUIT_THRESHOLD = env.int("WEBHOOKS_CIRCUIT_THRESHOLD", default=20)
WEBHOOKS_CIRCUIT_PROBE_BASE = env.float("WEBHOOKS_CIRCUIT_PROBE_BASE", default=10.0)
WEBHOOKS_TIMEOUT = env.float("WEBHOOKS_TIMEOUT", default=15.0)
WEBHOOKS_BATCH_SIZE = env.int("WEBHOOKS_BATCH_SIZE", default=100)
# Host names whose private addresses subscriber URLs may still target (an internal receiver).
WEBHOOKS_ALLOWED_HOSTS = env.list("WEBHOOKS_ALLOWED_HOSTS", default=[])

# --- Auth and API -------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Wrong passwords lock out one username from one address for a while (django-axes): guessing one
# account's password is slowed without letting anyone lock a user out from everywhere.
AUTHENTICATION_BACKENDS = [
    "accounts.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "core.client_address.request_client_address"  # the trusted proxy's X-Forwarded-For
AXES_VERBOSE = False
LOGIN_URL = "/api-auth/login/"

# Invitations to new members are sent by e-mail (accounts/members.py), django-environ's URL form:
# smtp+tls://user:password@smtp.example.com:587. Development prints them on the console instead.
vars().update(env.email_url("EMAIL_URL", default="smtp://localhost:25"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="streamhook@localhost")
LOGIN_REDIRECT_URL = "/api/v1/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.permissions.HasTenant",
        "accounts.permissions.HasTenantRole",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "core.filters.CheckedFilterBackend",
        "core.filters.CheckedOrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "core.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "core.parsers.FormOrJSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "EXCEPTION_HANDLER": "core.exceptions.api_exception_handler",
    # REMOTE_ADDR already is the client (core/client_address.py): never believe X-Forwarded-For again.
    "NUM_PROXIES": 0,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Streamhook API",
    "DESCRIPTION": (
        "Receive webhooks from streaming tools, keep and analyse what they report, "
        "and fan every event out to subscribers as signed webhooks with retries. "
        "Authenticate with `Authorization: Bearer <token>` (create one with "
        "`manage.py create_tenant`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from our own static files, not a CDN: /api/docs/ works offline and
    # under a strict Content-Security-Policy.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One tag per resource, in the order /api/docs/ lists them (config/tests/test_openapi.py holds
    # every operation to one of these).
    "TAGS": [
        {"name": "webhooks", "description": "Your subscriptions: where to send which events, signed how."},
        {"name": "deliveries", "description": "Each event sent to an endpoint, with its attempts."},
        {"name": "inbound-sources", "description": "Senders allowed to post webhooks for your tenant."},
        {"name": "inbound-messages", "description": "What your senders posted, and what became of it."},
        {"name": "senders", "description": "Where the stream assistant, the recorder and RealCast post."},
        {"name": "streams", "description": "Stream sessions, tracks played and chat."},
        {"name": "recordings", "description": "Recordings the recorder reported."},
        {"name": "analytics", "description": "Genre trends, engagement, session summaries, delivery health."},
        {"name": "audio", "description": "The audio frontend's listening API and the level meter."},
        {"name": "tenant", "description": "The tenant a credential acts for."},
        {"name": "tokens", "description": "API tokens of your tenant."},
        {"name": "members", "description": "Who belongs to your tenant, with which role; invitations."},
        {"name": "event-types", "description": "Event types your application declares beside the built-in ones."},
    ],
    "PREPROCESSING_HOOKS": ["config.openapi.without_optional_slash"],
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "core.openapi.with_error_responses",
                             "core.openapi.without_nul_in_text"],
    # The API reads form bodies too (the browsable API's forms); integrators send JSON, and only JSON
    # can say null, so the schema offers JSON alone.
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    # Two apps use the same field names with different choices; name each enum once.
    "ENUM_NAME_OVERRIDES": {
        "DeliveryStatusEnum": "webhooks.models.Delivery.Status",
        "EndpointSignatureSchemeEnum": "webhooks.models.Endpoint.Scheme",
        "InboundSignatureSchemeEnum": "webhooks.inbound.models.InboundSource.Scheme",
        "InboundMessageStatusEnum": "webhooks.inbound.models.InboundMessage.Status",
        "RecordingStatusEnum": "recordings.models.Recording.Status",
    },
}

# --- Content-Security-Policy (django-csp) --------------------------------------------
# Every page's scripts come from our own static files (no inline script, no CDN): an injected
# <script> or on*= attribute doesn't run. Styles may be inline: Swagger UI and the admin set style
# attributes, and a style can't run code. The API docs fetch the schema from us (connect-src).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Behind a proxy ---------------------------------------------------------------
# Peers whose X-Forwarded-For is believed (core/client_address.py): IPs or networks, and `unix` for
# gunicorn's Unix socket, which only the proxy reaches (deploy/nginx/streamhook.conf).
STREAMHOOK_TRUSTED_PROXIES = env.list("STREAMHOOK_TRUSTED_PROXIES", default=["unix"])
for _proxy in STREAMHOOK_TRUSTED_PROXIES:
    try:
        if _proxy != "unix":
            ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"STREAMHOOK_TRUSTED_PROXIES: {_proxy!r} is not an IP address, a network (10.0.0.0/8) or unix") from None

# --- Guessing -------------------------------------------------------------------
# Wrong API tokens or inbound keys a client address may present per window before 429 (core/guessing.py).
STREAMHOOK_BAD_CREDENTIALS_LIMIT = env.int("STREAMHOOK_BAD_CREDENTIALS_LIMIT", default=20)
STREAMHOOK_BAD_CREDENTIALS_WINDOW = env.int("STREAMHOOK_BAD_CREDENTIALS_WINDOW", default=60)

# --- Request limits -------------------------------------------------------------
# Inbound webhooks are checked against their own cap before the body is read.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2 * 1024 * 1024)

# --- i18n / time --------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- What senders may send -------------------------------------------------------
# Event times further than this from the message's arrival are refused ("back,ahead"; core/eventtime.py).
STREAMHOOK_EVENT_TIME_WINDOW = env("STREAMHOOK_EVENT_TIME_WINDOW", default="7d,1d")
parse_window(STREAMHOOK_EVENT_TIME_WINDOW)  # a malformed value stops start-up, naming the variable
# Where Streamhook is reached from outside (e.g. https://hooks.example.com), for the absolute source
# URLs shown to owners; empty: built from the request's own host.
STREAMHOOK_PUBLIC_URL = env("STREAMHOOK_PUBLIC_URL", default="")

LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Source URLs (`/s/<secret>/`) are credentials: every path Django logs goes through this filter.
    "filters": {"redact_source_urls": {"()": "core.logredact.RedactSourceUrls"},
                # The two-second sweeps' INFO lines (core/logquiet.py); their warnings still show.
                "quiet_routine_tasks": {"()": "core.logquiet.QuietRoutineTasks"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}",
                          "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain",
                    "filters": ["redact_source_urls", "quiet_routine_tasks"]},
        # Django's own runserver handler, declared again to carry the filter.
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server",
                          "filters": ["redact_source_urls"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own console handler (DEBUG only) goes: the root's prints each record once.
        "django": {"handlers": [], "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        # urllib3 logs each request line at DEBUG, query strings (a subscriber's URL token) included.
        "urllib3": {"level": "WARNING"},
        # axes logs every login at INFO; its lockouts are WARNING.
        "axes": {"level": "WARNING"},
        # "Not Found: /s/<secret>/..." and the like, before any handler (Django's own included) sees them.
        "django.request": {"filters": ["redact_source_urls"]},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False,
                          "filters": ["redact_source_urls"]},
    },
}
