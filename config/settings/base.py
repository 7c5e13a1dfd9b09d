"""Settings shared by every environment. Everything a person may change comes from the
environment (see .env.example); production differs only by those values.

No secret has a default here: DATABASE_URL, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
come from the environment (local.py and test.py set development values, production.py
refuses to start without them).

Sections, in order: core; apps and middleware; templates; web server; database; Redis,
cache and channel layer; jobs (Celery) and notifications; object storage; static files;
auth; i18n; REST API; uploads; email; security headers; observability; places; photos;
live feed; import and export; API versioning; silenced checks.
"""

import copy
import logging
from urllib.parse import urlsplit

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.env import BASE_DIR, env, env_bool, env_choice, env_float, env_int
from config.logging import build_logging, configure_structlog
from config.logging import validated as validated_log_settings

# --- Core -------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Absolute base used in links sent by email (place pages, the admin).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Apps and middleware ------------------------------------------------------------
INSTALLED_APPS = [
    # django.contrib.admin, whose site is the moderation console (moderation/console.py).
    "moderation.apps.ConsoleAdminConfig",
    # Before django.contrib.auth: its createsuperuser (the look-alike username rule)
    # replaces Django's.
    "accounts",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_gis",
    "django_filters",
    "drf_spectacular",
    # Swagger UI and ReDoc served from this app's static files (no CDN): /api/docs, /api/redoc.
    "drf_spectacular_sidecar",
    "corsheaders",
    "channels",
    # Audit rows of every place change (docs/moderation.md, "Versions and revisions").
    "simple_history",
    "locations",
    "media_store",
    "moderation",
    "notifications",
    "jobs",
    # Request logging (see "Observability").
    "django_structlog",
]
# No index on simple-history's history_date: its readers only order one place's rows by it
# (locations/models.py). Part of the schema (a migration), so not read from the environment.
SIMPLE_HISTORY_DATE_INDEX = False

MIDDLEWARE = [
    "config.middleware.RequestIDMiddleware",
    # Request logging: django-structlog. Its RequestMiddleware goes right after
    # config.middleware.RequestIDMiddleware (first in MIDDLEWARE), which sanitises the
    # incoming X-Request-ID (<= 128 chars of [A-Za-z0-9._-], else a new id) and writes the
    # result back into the request header; django-structlog then trusts that header and
    # binds the id to every line of the request. The order matters: the other way round,
    # any incoming id would reach the logs (tests/config/observability checks it).
    "django_structlog.middlewares.RequestMiddleware",
    # Outermost of the response rewriters: compresses what the ones below produced
    # (gzip or Brotli, docs/web-clients.md).
    "config.compression.CompressionMiddleware",
    # CORS for /api/ only; answers preflights itself (after the request id, so they have one).
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's static files from the app server (no separate web server needed).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # With read replicas: a successful write sets the read-your-writes cookie (config.db_router).
    "config.db_router.ReadYourWritesMiddleware",
    # Deprecation and Sunset headers, 410 once retired (see "API versioning").
    "config.versioning.DeprecationMiddleware",
    # ETag, If-None-Match -> 304 and Cache-Control of /api/ answers (config/http_cache.py);
    # innermost, so it sees the body before it is compressed.
    "config.http_cache.HttpCacheMiddleware",
]

# --- Templates ------------------------------------------------------------------------
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
    # Notification emails are Jinja2 templates (templates/notifications/); autoescaping is
    # on for .html only and undefined variables raise (notifications.jinja2.environment).
    {
        "NAME": "jinja2",
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "notifications.jinja2.environment"},
    },
]

# --- Web server (uvicorn, started by `python -m config.server`) -----------------------
# Proxies (IPs or networks) whose X-Forwarded-For/-Proto uvicorn believes; "*" is refused:
# a client reaching uvicorn directly could forge its address and escape per-IP throttles.
FORWARDED_ALLOW_IPS = env.list("FORWARDED_ALLOW_IPS", default=["127.0.0.1", "::1"])
# A request line plus headers (a websocket handshake included) above this many bytes is
# answered 431 and the connection closed.
SERVER_MAX_REQUEST_HEAD_BYTES = env_int("SERVER_MAX_REQUEST_HEAD_BYTES", 16384, minimum=4096)
# Seconds a client has to send a whole request head after connecting or starting a
# request; a slower or silent client is disconnected.
SERVER_REQUEST_HEAD_TIMEOUT = env_float("SERVER_REQUEST_HEAD_TIMEOUT", 10.0, minimum=0.5)

# --- Database ---------------------------------------------------------------------
DATABASES = {
    # No default: the URL carries a password (local.py and test.py set the development one).
    "default": env.db("DATABASE_URL", engine="django.contrib.gis.db.backends.postgis")
}
# PostGIS behind the database circuit breaker (config/breakers.py).
DATABASES["default"]["ENGINE"] = "config.db_backend"
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"]["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 2, minimum=1)
# Milliseconds a statement waits for a lock (behind a migration, a long transaction)
# before failing with a 503, instead of hanging the request. 0 waits forever. manage.py
# sets 0 for its commands (except runserver): migrate's DDL must wait for its locks.
DB_LOCK_TIMEOUT_MS = env_int("DB_LOCK_TIMEOUT_MS", 3000, minimum=0)
if DB_LOCK_TIMEOUT_MS:
    DATABASES["default"]["OPTIONS"]["options"] = " ".join(
        filter(
            None,
            [
                DATABASES["default"]["OPTIONS"].get("options", ""),
                f"-c lock_timeout={DB_LOCK_TIMEOUT_MS}",
            ],
        )
    )
# Seconds a query may wait for the server's answer before its connection is given up
# (client-side: bounds a paused or unreachable server, which statement_timeout cannot).
# 0: no bound. manage.py sets 0 for its commands (except runserver).
DB_QUERY_DEADLINE = env_float("DB_QUERY_DEADLINE", 15.0, minimum=0)
# Under ASGI each request runs its sync code in a fresh thread context, so persistent
# connections (CONN_MAX_AGE) are never reused: every request would open and authenticate
# a new connection. A psycopg pool per process keeps them instead (Django 5.1+).
DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", 8, minimum=0)
if DB_POOL_MAX_SIZE:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django refuses a pool with persistent conns
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": min(2, DB_POOL_MAX_SIZE),
        "max_size": DB_POOL_MAX_SIZE,
        # Seconds a request waits for a free connection before failing (a 503).
        "timeout": env_float("DB_POOL_TIMEOUT", 5.0, minimum=0.1),
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60, minimum=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# Read replicas (docs/scaling.md, "Read replicas"): comma-separated URLs of streaming
# standbys of DATABASE_URL, each the alias replica_0, replica_1, ... with the primary's
# options (pool, timeouts). Anonymous public reads go to a healthy one (config.db_router).
DATABASE_REPLICA_URLS = [url for url in env.list("DATABASE_REPLICA_URLS", default=[]) if url]
REPLICA_ALIASES = [f"replica_{index}" for index in range(len(DATABASE_REPLICA_URLS))]
for _alias, _url in zip(REPLICA_ALIASES, DATABASE_REPLICA_URLS, strict=True):
    _replica = env.db_url_config(_url, engine="django.contrib.gis.db.backends.postgis")
    DATABASES[_alias] = {
        **_replica,
        "ENGINE": DATABASES["default"]["ENGINE"],
        "OPTIONS": copy.deepcopy(DATABASES["default"]["OPTIONS"]),
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": DATABASES["default"].get("CONN_HEALTH_CHECKS", False),
    }
DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"]
# Connection pooling (docs/scaling.md, "Connection pooling"): DATABASE_URL names a
# PgBouncer in transaction pooling mode. Then no server-side cursors outside a
# transaction (DISABLE_SERVER_SIDE_CURSORS), no prepared statements, and no `options`
# startup parameter (PgBouncer refuses it: set lock_timeout on the role instead); the
# export's streaming cursor and migrations use DATABASE_DIRECT_URL, a connection straight
# to PostgreSQL (the alias "direct"), which is then required.
DB_PGBOUNCER = env_bool("DB_PGBOUNCER", False)


def behind_pgbouncer(database: dict) -> None:
    """What a database alias needs behind PgBouncer's transaction pooling."""
    database["DISABLE_SERVER_SIDE_CURSORS"] = True
    database["OPTIONS"]["prepare_threshold"] = None
    database["OPTIONS"].pop("options", None)


DATABASE_DIRECT_URL = env.str("DATABASE_DIRECT_URL", default="")
if DATABASE_DIRECT_URL:
    DATABASES["direct"] = {
        **env.db_url_config(DATABASE_DIRECT_URL, engine="django.contrib.gis.db.backends.postgis"),
        "ENGINE": DATABASES["default"]["ENGINE"],
        "OPTIONS": copy.deepcopy(DATABASES["default"]["OPTIONS"]),
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": DATABASES["default"].get("CONN_HEALTH_CHECKS", False),
        # The same database as "default": tests use default's test database.
        "TEST": {"MIRROR": "default"},
    }
if DB_PGBOUNCER:
    if not DATABASE_DIRECT_URL:
        raise ImproperlyConfigured(
            "DB_PGBOUNCER=true needs DATABASE_DIRECT_URL (PostgreSQL itself, not PgBouncer) "
            "for the export's streaming cursor and for migrations."
        )
    behind_pgbouncer(DATABASES["default"])
# Seconds a client that wrote reads the primary (the read-your-writes cookie).
REPLICA_STICKY_SECONDS = env_int("REPLICA_STICKY_SECONDS", 5, minimum=0)
# A replica whose replay lags more than this many seconds is skipped until it catches up.
REPLICA_MAX_LAG_S = env_float("REPLICA_MAX_LAG_S", 10.0, minimum=0)
# Seconds a process keeps its verdict on a replica's health before probing it again
# (in the background: no request waits for a probe).
REPLICA_HEALTH_CHECK_SECONDS = env_float("REPLICA_HEALTH_CHECK_SECONDS", 2.0, minimum=0.1)

# --- Redis, cache, channel layer -------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Redis by role (docs/scaling.md, "Redis by role"): each may be its own instance; unset,
# each is REDIS_URL. The cache also holds the fallback copies, the worker heartbeat and
# the storage breaker's state; the throttles keep only their counters; the channel layer
# carries the live feed; the broker (CELERY_BROKER_URL, below) the task queue.
CACHE_REDIS_URL = env.str("CACHE_REDIS_URL", default=REDIS_URL)
CHANNEL_LAYER_REDIS_URL = env.str("CHANNEL_LAYER_REDIS_URL", default=REDIS_URL)
THROTTLE_REDIS_URL = env.str("THROTTLE_REDIS_URL", default=REDIS_URL)
# Every Redis call gives up after this many seconds instead of hanging a request.
REDIS_TIMEOUT = env_float("REDIS_TIMEOUT", 2.0, minimum=0.1)

CACHES = {
    "default": {
        # Django's RedisCache behind the Redis circuit breaker (config/breakers.py).
        "BACKEND": "config.cache.BreakerRedisCache",
        "LOCATION": CACHE_REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="placemap"),
        "OPTIONS": {
            "socket_connect_timeout": REDIS_TIMEOUT,
            "socket_timeout": REDIS_TIMEOUT,
        },
    }
}

# channels_redis waits for websocket messages with a blocking read of this many seconds
# (RedisChannelLayer.brpop_timeout). The socket timeout must outlast it, or every idle
# websocket drops when the read times out (redis-py's default socket timeout is also 5 s);
# REDIS_TIMEOUT beyond it still notices a dead Redis.
CHANNEL_LAYER_BLOCKING_READ_SECONDS = 5
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "config.channel_layer.RedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": CHANNEL_LAYER_REDIS_URL,
                    "socket_connect_timeout": REDIS_TIMEOUT,
                    "socket_timeout": CHANNEL_LAYER_BLOCKING_READ_SECONDS + REDIS_TIMEOUT,
                    "socket_keepalive": True,
                }
            ],
            "prefix": env.str("CHANNEL_LAYER_PREFIX", default="placemap"),
        },
    }
}

# Circuit breakers of the database and Redis paths (config/breakers.py): open after this
# many failures in a row, then fail at once for this many seconds before a trial call.
BREAKER_FAIL_MAX = env_int("BREAKER_FAIL_MAX", 3, minimum=1)
BREAKER_RESET_TIMEOUT = env_int("BREAKER_RESET_TIMEOUT", 10, minimum=1)

# --- Jobs (Celery) and notifications ----------------------------------------------------
# See docs/jobs.md and docs/notifications.md.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT
# A task is acknowledged only after it finishes, and a worker that dies mid-task (OOM,
# SIGKILL) hands the message back instead of losing it: tasks must be idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# ...but a message whose worker process dies (pool child killed) is retried with a count
# instead, so a task that always kills its worker ends in the dead-letter store rather
# than looping; reject_on_worker_lost still applies if that retry cannot be sent.
CELERY_TASK_RETRY_ON_WORKER_LOST = True
# A task that failed for good is in the dead-letter store: acknowledge it.
CELERY_TASK_ACKS_ON_FAILURE_OR_TIMEOUT = True
# One message reserved per worker process: long tasks (thumbnails) do not hold others back.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker that loses Redis cancels its running late-ack tasks: they are redelivered.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# Seconds: SoftTimeLimitExceeded is raised in the task, then the process is killed.
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 120, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 180, minimum=2)
# Attempts in all (first run + retries) before a task lands in the dead-letter store.
JOBS_MAX_ATTEMPTS = env_int("JOBS_MAX_ATTEMPTS", 5, minimum=1)
# Seconds before a retry that names no countdown (a task whose worker died).
JOBS_RETRY_DELAY = env_int("JOBS_RETRY_DELAY", 10, minimum=0)
# Upper bound, seconds, of the exponential backoff between attempts (full jitter below it).
JOBS_RETRY_BACKOFF_MAX = env_int("JOBS_RETRY_BACKOFF_MAX", 600, minimum=1)
# kombu's Redis transport with a fix for workers dying when Redis drops (config/celery.py).
CELERY_BROKER_TRANSPORT = "config.celery:RedisTransport"
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": REDIS_TIMEOUT,
    "socket_timeout": REDIS_TIMEOUT,
    # Redis redelivers a message not acknowledged within this many seconds (a worker
    # killed mid-task). It must exceed the hard time limit and the longest retry countdown
    # (a retry waits, unacknowledged, in the worker), or a task runs twice (jobs.W001); by
    # default one minute above both, so a killed worker's tasks come back within minutes.
    "visibility_timeout": env_int(
        "CELERY_VISIBILITY_TIMEOUT",
        max(CELERY_TASK_TIME_LIMIT, JOBS_RETRY_BACKOFF_MAX) + 60,
        minimum=1,
    ),
}
# Images still processing and notifications still pending this many seconds after their
# last enqueue are enqueued again by the periodic re-drive (their message was lost).
JOBS_REDRIVE_AFTER_SECONDS = env_int("JOBS_REDRIVE_AFTER_SECONDS", 900, minimum=10)
# Seconds between two runs of each re-drive task (beat).
JOBS_REDRIVE_INTERVAL_SECONDS = env_int("JOBS_REDRIVE_INTERVAL_SECONDS", 300, minimum=5)
# Seconds between two heartbeats of a worker (written to Redis, read by /ready).
WORKER_HEARTBEAT_INTERVAL = env_int("WORKER_HEARTBEAT_INTERVAL", 10, minimum=1)
# A worker whose last heartbeat is older than this many seconds is reported dead.
WORKER_HEARTBEAT_MAX_AGE = env_int("WORKER_HEARTBEAT_MAX_AGE", 60, minimum=2)
# The beat relay sends outbox rows still unsent this many seconds after their creation.
JOBS_OUTBOX_RELAY_SECONDS = env_int("JOBS_OUTBOX_RELAY_SECONDS", 10, minimum=1)
JOBS_OUTBOX_GRACE_SECONDS = env_int("JOBS_OUTBOX_GRACE_SECONDS", 5, minimum=0)
# Sent outbox rows are kept this many days for debugging, then deleted.
JOBS_OUTBOX_RETENTION_DAYS = env_int("JOBS_OUTBOX_RETENTION_DAYS", 7, minimum=1)
# Hour (UTC) of the daily digest of pending places sent to moderators who opt in.
NOTIFICATIONS_DIGEST_HOUR = env_int("NOTIFICATIONS_DIGEST_HOUR", 7, minimum=0)
# At most this many pending places are listed in one digest (oldest first).
NOTIFICATIONS_DIGEST_MAX_PLACES = env_int("NOTIFICATIONS_DIGEST_MAX_PLACES", 50, minimum=1)

# --- Flags (docs/moderation.md) -------------------------------------------------------
# When this many distinct users have open flags on one place or photo, it is hidden from
# the public until a moderator resolves the flags.
FLAG_HIDE_THRESHOLD = env_int("FLAG_HIDE_THRESHOLD", 3, minimum=1)

# --- Duplicates, trust tiers and spam (docs/moderation.md) ---------------------------
# Likely duplicates of a place: within this many metres, with a trigram similarity of the
# lower-cased names of at least DUPLICATE_NAME_SIMILARITY (0-1; same category counts more).
DUPLICATE_RADIUS_M = env_int("DUPLICATE_RADIUS_M", 75, minimum=1)
DUPLICATE_NAME_SIMILARITY = env_float("DUPLICATE_NAME_SIMILARITY", 0.4, minimum=0.0)
# A user with at least this many approved places and no rejection for spam or
# inappropriate content in the last TRUST_WINDOW_DAYS days has new places and photos
# approved at once (reason `trusted`).
TRUST_AUTO_APPROVE_AFTER = env_int("TRUST_AUTO_APPROVE_AFTER", 10, minimum=1)
TRUST_WINDOW_DAYS = env_int("TRUST_WINDOW_DAYS", 90, minimum=1)
# A submission or edit scoring at least this is rejected as spam at once (reversible);
# above the highest possible score (moderation.spam.max_score()) nothing is.
SPAM_REJECT_SCORE = env_int("SPAM_REJECT_SCORE", 10, minimum=1)
# Words (case-insensitive, whole words) that make a text score as spam.
SPAM_BLOCKED_WORDS = [
    w.strip().lower() for w in env.list("SPAM_BLOCKED_WORDS", default=[]) if w.strip()
]
# The checkers that score a submission (moderation.spam.SpamChecker subclasses, dotted
# paths); the built-in one calls nothing outside.
SPAM_CHECKERS = env.list("SPAM_CHECKERS", default=["moderation.spam.BuiltinSpamChecker"])
CELERY_BEAT_SCHEDULE = {
    "jobs.relay-outbox": {
        "task": "jobs.tasks.relay_outbox",
        "schedule": float(JOBS_OUTBOX_RELAY_SECONDS),
        # Runs queued while workers were away are pointless once the next one is due.
        "options": {"expires": float(JOBS_OUTBOX_RELAY_SECONDS)},
    },
    "jobs.purge-sent-outbox": {
        "task": "jobs.tasks.purge_sent_outbox",
        "schedule": crontab(minute=30, hour=3),
    },
    "media_store.purge-orphan-images": {
        "task": "media_store.tasks.purge_orphan_images",
        "schedule": crontab(minute=15),
    },
    "media_store.redrive-stranded-images": {
        "task": "media_store.tasks.redrive_stranded_images",
        "schedule": float(JOBS_REDRIVE_INTERVAL_SECONDS),
        "options": {"expires": float(JOBS_REDRIVE_INTERVAL_SECONDS)},
    },
    "notifications.redrive-pending-notifications": {
        "task": "notifications.tasks.redrive_pending_notifications",
        "schedule": float(JOBS_REDRIVE_INTERVAL_SECONDS),
        "options": {"expires": float(JOBS_REDRIVE_INTERVAL_SECONDS)},
    },
    "notifications.moderation-digest": {
        "task": "notifications.tasks.send_moderation_digest",
        "schedule": crontab(minute=0, hour=NOTIFICATIONS_DIGEST_HOUR),
    },
    "locations.purge-idempotency-keys": {
        "task": "locations.tasks.purge_idempotency_keys",
        "schedule": crontab(minute=45),
    },
    "locations.purge-stale-import-uploads": {
        "task": "locations.tasks.purge_stale_import_uploads",
        "schedule": crontab(minute=50),
    },
}

# --- Object storage (MinIO or any S3 API) -----------------------------------------
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="http://127.0.0.1:9000")
# No defaults: secrets (local.py and test.py set the development ones).
AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID")
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY")
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="placemap")
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="us-east-1")
AWS_S3_SIGNATURE_VERSION = "s3v4"
AWS_S3_ADDRESSING_STYLE = "path"
AWS_DEFAULT_ACL = None
AWS_QUERYSTRING_AUTH = True
AWS_QUERYSTRING_EXPIRE = env_int("STORAGE_URL_EXPIRY_SECONDS", 3600, minimum=60)
# Presigned URLs are signed at the start of a window this long (media_store/storage.py),
# so a photo keeps one URL that browsers and CDNs can cache; it lives up to this much
# longer than STORAGE_URL_EXPIRY_SECONDS. 0: signed at the current second.
STORAGE_URL_WINDOW_SECONDS = env_int("STORAGE_URL_WINDOW_SECONDS", 300, minimum=0)
# SigV4's limit for a presigned URL: 7 days.
if AWS_QUERYSTRING_EXPIRE + STORAGE_URL_WINDOW_SECONDS > 604800:
    raise ImproperlyConfigured(
        "STORAGE_URL_EXPIRY_SECONDS + STORAGE_URL_WINDOW_SECONDS must be at most 604800"
        " (7 days, SigV4's limit for a presigned URL)."
    )
# Keys are new UUIDs: django-storages makes no existence check (a HEAD) before a save.
# (PlacemapS3Storage.save is one guarded put_object: media_store/storage.py.)
AWS_S3_FILE_OVERWRITE = True
STORAGE_CONNECT_TIMEOUT = env_float("STORAGE_CONNECT_TIMEOUT", 2.0, minimum=0.1)
STORAGE_READ_TIMEOUT = env_float("STORAGE_READ_TIMEOUT", 10.0, minimum=0.1)

STORAGES = {
    "default": {"BACKEND": "storages.backends.s3.S3Storage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # Photos (docs/photos.md): S3Storage with the storage breaker, retries and deadline.
    "images": {"BACKEND": "media_store.storage.PlacemapS3Storage"},
}

# --- Static files -------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "var" / "static"))
# Vendored front-end files (OpenLayers for the admin's map: config/static/vendor/README.md).
STATICFILES_DIRS = [BASE_DIR / "config" / "static"]
# Basemap tiles of the admin's map ({z}/{x}/{y} URL template); empty: no basemap, the
# point is shown on a plain background (config/map_widget.py).
MAP_TILES_URL = env.str("MAP_TILES_URL", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png")

# --- Auth -----------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
MODERATORS_GROUP = "moderators"
# Password reset (docs/accounts.md): the client app's page the mail links to, with `uid`
# and `token` query parameters, and how long a link works (seconds; Django's
# PasswordResetTokenGenerator reads it).
PASSWORD_RESET_URL = env.str("PASSWORD_RESET_URL", default=f"{SITE_URL}/reset-password")
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)
# Email verification (docs/accounts.md): mandatory (unverified accounts may sign in and
# read, every write is 403 until they verify), optional (mailed, never required) or none
# (no mail). The client page the mail links to (`uid`, `token`) and how long a link works.
ACCOUNT_EMAIL_VERIFICATION = env_choice(
    "ACCOUNT_EMAIL_VERIFICATION", "mandatory", choices=("mandatory", "optional", "none")
)
EMAIL_VERIFICATION_URL = env.str("EMAIL_VERIFICATION_URL", default=f"{SITE_URL}/verify-email")
EMAIL_VERIFICATION_TIMEOUT = env_int("EMAIL_VERIFICATION_TIMEOUT", 3 * 24 * 3600, minimum=60)

# --- i18n -----------------------------------------------------------------------------
# The languages of translated content (category labels: locations.Category has one
# label_<code>/description_<code> column per language here; docs/places.md "Languages").
# Answers with such text follow Accept-Language (config.languages), English otherwise;
# mails follow the recipient's User.language (docs/accounts.md).
# Not read from the environment: adding a language needs columns and translations.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- REST API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        # The session only when the request carries its cookie (the admin's browsable
        # API): anonymous and token requests never touch it, so no `Vary: Cookie`.
        "config.authentication.SessionCookieAuthentication",
    ],
    # NotSuspended: a suspended account's writes are 403 (accounts/permissions.py);
    # EmailVerified: so are an unverified account's under ACCOUNT_EMAIL_VERIFICATION
    # mandatory. Views that set their own permission_classes name both.
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.AllowAny",
        "accounts.permissions.NotSuspended",
        "accounts.permissions.EmailVerified",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "config.schema.PlacemapAutoSchema",
    "EXCEPTION_HANDLER": "config.exceptions.problem_exception_handler",
    # Throttles identify an anonymous client by REMOTE_ADDR only, never by X-Forwarded-For
    # (anyone can send one): uvicorn already sets REMOTE_ADDR from that header when, and
    # only when, the request comes from a proxy in FORWARDED_ALLOW_IPS (docs/operations.md).
    "NUM_PROXIES": 0,
    "DEFAULT_THROTTLE_CLASSES": [],
    # Every rate of the API, by throttle scope (config/throttling.py).
    "DEFAULT_THROTTLE_RATES": {
        "auth": env.str("THROTTLE_AUTH", default="20/minute"),
        "submissions": env.str("THROTTLE_SUBMISSIONS", default="30/hour"),
        "reads": env.str("THROTTLE_READS", default="600/minute"),
        "uploads": env.str("THROTTLE_UPLOADS", default="60/hour"),
        "gdpr": env.str("THROTTLE_GDPR", default="10/hour"),
        # GET /locations/export requests per client: each one reads many rows.
        "export": env.str("THROTTLE_EXPORT", default="60/hour"),
        # POST /locations/{id}/flags and /images/{id}/flags per signed-in user.
        "flags": env.str("THROTTLE_FLAGS", default="20/hour"),
        # POST /auth/password/reset per client IP (each one may send a mail).
        "password_reset": env.str("THROTTLE_PASSWORD_RESET", default="5/hour"),
        # POST /auth/email/verify/resend per signed-in user (each one sends a mail).
        "verify_resend": env.str("THROTTLE_VERIFY_RESEND", default="3/hour"),
    },
    "DEFAULT_PAGINATION_CLASS": "config.params.StrictLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Placemap API",
    "DESCRIPTION": "Crowd-sourced map places: submit, moderate, and find them by radius, "
    "viewport and text.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Swagger UI and ReDoc from drf-spectacular-sidecar's static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No validator badge: Swagger UI would load it from validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # Shared enums get one name each (drf-spectacular would hash colliding ones).
    "ENUM_NAME_OVERRIDES": {
        "GeoJSONFeatureTypeEnum": ["Feature"],
        "GeoJSONCollectionTypeEnum": ["FeatureCollection"],
        "LocationStatusEnum": "locations.constants.LocationStatus",
        # Value lists (the serializers list values, not the models' labelled choices).
        "ImageProcessingStatusEnum": ["processing", "ready", "failed"],
        "FlagStatusEnum": ["open", "dismissed", "actioned"],
    },
    # The default enum hook, then nullable nested objects in OpenAPI 3.0.3's terms.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.nullable_references",
    ],
}

# --- Uploads ----------------------------------------------------------------------
# Request bodies above this are refused before being read into memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- Email --------------------------------------------------------------------------
# EMAIL_BACKEND picks SMTP, an anymail provider (anymail.backends.<esp>.EmailBackend),
# files (local) or locmem (tests).
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Placemap <noreply@placemap.local>")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
EMAIL_HOST = env.str("EMAIL_HOST", default="127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 1025, minimum=1)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
# Every ANYMAIL_<NAME> environment variable becomes ANYMAIL["<NAME>"], e.g.
# ANYMAIL_MAILGUN_API_KEY -> ANYMAIL["MAILGUN_API_KEY"] (see anymail's ESP docs).
ANYMAIL = {
    name.removeprefix("ANYMAIL_"): value
    for name, value in sorted(env.ENVIRON.items())
    if name.startswith("ANYMAIL_") and value
}

# --- Web clients on other origins, compression, HTTP caching (docs/web-clients.md) -----
# Page origins (scheme://host[:port]) whose scripts may call /api/ (CORS). Empty: none.
# "*" is refused in production (config/settings/production.py).
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
# No cookies cross-origin: the API's cross-origin auth is `Authorization: Token ...`.
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "idempotency-key",
    "if-none-match",
    "x-request-id",
)
CORS_EXPOSE_HEADERS = ("X-Request-ID", "ETag", "Link", "Retry-After", "Deprecation", "Sunset")
# Seconds an anonymous public read (place detail, search, viewport, categories) may be
# reused by browsers and shared caches (Cache-Control: public, max-age=...).
PUBLIC_READ_MAX_AGE = env_int("PUBLIC_READ_MAX_AGE", 30, minimum=0)

# --- Security headers (production tightens these through the environment) -----------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Observability -----------------------------------------------------------------------
# Logs: structlog through stdlib logging to stdout (config/logging.py, docs/observability.md).
# JSON lines in production, readable lines locally (local.py sets console/DEBUG defaults).
# Traces: OTEL_* variables, read by config/telemetry.py at process start, not here.
# An empty value (as in .env.example) means "the environment's default".
LOG_FORMAT, LOG_LEVEL = validated_log_settings(
    env.str("LOG_FORMAT", default="") or "json", env.str("LOG_LEVEL", default="") or "INFO"
)
LOGGING = build_logging(log_format=LOG_FORMAT, log_level=LOG_LEVEL)
configure_structlog()
# Request logging: django-structlog (its middleware and why it comes second: MIDDLEWARE).
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = True  # already sanitised, see MIDDLEWARE
DJANGO_STRUCTLOG_TRUST_UPSTREAM_CORRELATION_ID = False  # nothing sanitises that header
# One access line per request at INFO: request_finished (info < 400, warning 4xx, error
# 5xx; request_failed with the traceback for an exception no view handled). request_started
# is DEBUG, so it shows up locally only.
DJANGO_STRUCTLOG_STATUS_START_LOG_LEVEL = logging.DEBUG
DJANGO_STRUCTLOG_STATUS_DEFAULT_LOG_LEVEL = logging.INFO
DJANGO_STRUCTLOG_STATUS_2XX_LOG_LEVEL = logging.INFO
DJANGO_STRUCTLOG_STATUS_4XX_LOG_LEVEL = logging.WARNING
DJANGO_STRUCTLOG_STATUS_5XX_LOG_LEVEL = logging.ERROR
# No client IP on every line: it is personal data (docs/gdpr.md counts on the access log
# holding user ids only), and behind a proxy ipware would take it from X-Forwarded-For,
# which the client writes.
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False
# Off: config/celery_signals.py forwards only the (sanitised) request id to tasks; see
# there why django-structlog's Celery receivers are not used.
DJANGO_STRUCTLOG_CELERY_ENABLED = False

# --- Places (locations) -------------------------------------------------------------
# Public reads (search, viewport, detail) are cancelled by Postgres after this many ms.
PLACES_STATEMENT_TIMEOUT_MS = env_int("PLACES_STATEMENT_TIMEOUT_MS", 2000, minimum=1)
# Seconds a search/viewport answer stays in Redis as the fallback for a database outage.
PLACES_STALE_CACHE_SECONDS = env_int("PLACES_STALE_CACHE_SECONDS", 900, minimum=0)
# Retry-After (seconds) sent with the 503 when neither the database nor a cache answers.
PLACES_RETRY_AFTER_SECONDS = env_int("PLACES_RETRY_AFTER_SECONDS", 5, minimum=1)
# Anonymous GETs of viewport, search and tiles take the lean ASGI path (config/lean.py,
# docs/architecture.md "Lean read path"): same answers and guarantees, a fraction of
# Django's per-request cost. Off: every request goes through Django's full stack.
LEAN_READS = env_bool("LEAN_READS", True)
# Seconds POST /locations remembers an Idempotency-Key and its response.
PLACES_IDEMPOTENCY_TTL_SECONDS = env_int("PLACES_IDEMPOTENCY_TTL_SECONDS", 86400, minimum=60)

# --- Vector tiles and the map page (docs/tiles.md) -----------------------------------
# Up to this zoom tiles hold grid clusters; above it, one point per place.
TILE_CLUSTER_MAX_ZOOM = env_int("TILE_CLUSTER_MAX_ZOOM", 14, minimum=0)
if TILE_CLUSTER_MAX_ZOOM > 22:
    raise ImproperlyConfigured(f"TILE_CLUSTER_MAX_ZOOM={TILE_CLUSTER_MAX_ZOOM} must be 0..22.")
# Cache-Control max-age (seconds) of a tile: how stale a browser or CDN may show it.
TILE_MAX_AGE = env_int("TILE_MAX_AGE", 60, minimum=0)
# Tiles of zoom <= this are kept whole in the cache while the map is unchanged, for at
# most TILE_MAX_AGE (locations/tile_cache.py); -1 keeps none.
TILE_MEMO_MAX_ZOOM = env_int("TILE_MEMO_MAX_ZOOM", 5, minimum=-1)
# Bytes of tiles (any zoom) each web process keeps whole while the map is unchanged, for
# at most TILE_MAX_AGE, least recently used out first (locations/tile_cache.py); 0: none.
TILE_PROCESS_MEMO_BYTES = env_int("TILE_PROCESS_MEMO_BYTES", 64 * 1024 * 1024, minimum=0)
# The map page's basemap (a MapLibre style URL); empty: a plain built-in style.
MAP_STYLE_URL = env.str("MAP_STYLE_URL", default="")

# --- Photos (media_store) ------------------------------------------------------------
# See docs/photos.md. Uploads larger than this are refused (413) before their body is
# read; DATA_UPLOAD_MAX_MEMORY_SIZE does not cover file parts, so this is enforced by
# media_store.api.upload_handlers.
IMAGE_UPLOAD_MAX_BYTES = env_int("IMAGE_UPLOAD_MAX_BYTES", 5 * 1024 * 1024, minimum=1024)
# Width x height above which an image is refused (400) before decoding: a bomb guard.
# One decode needs at most 4 bytes x this + 64 MiB (217 MiB at 40 MP; docs/photos.md);
# WebP is limited to a sixth of it (its decoder needs ~24 bytes per pixel).
IMAGE_MAX_PIXELS = env_int("IMAGE_MAX_PIXELS", 40_000_000, minimum=10_000)
# Uploads decoded at once per web process: its photo memory is at most this x the above.
IMAGE_MAX_CONCURRENT_DECODES = env_int("IMAGE_MAX_CONCURRENT_DECODES", 2, minimum=1)
# Seconds an upload waits for a decode slot before it is answered 503 with Retry-After.
IMAGE_DECODE_WAIT_SECONDS = env_float("IMAGE_DECODE_WAIT_SECONDS", 3.0, minimum=0.0)
# Longest side of the stored (optimized) image; larger uploads are downscaled.
IMAGE_MAX_SIDE = env_int("IMAGE_MAX_SIDE", 2048, minimum=64)
IMAGE_JPEG_QUALITY = env_int("IMAGE_JPEG_QUALITY", 85, minimum=1)
IMAGE_WEBP_QUALITY = env_int("IMAGE_WEBP_QUALITY", 80, minimum=1)
IMAGE_PNG_COMPRESS_LEVEL = env_int("IMAGE_PNG_COMPRESS_LEVEL", 6, minimum=0)
# Longest side of each thumbnail, made by the media_store.tasks.make_thumbnails task.
IMAGE_THUMBNAIL_SIZES = sorted(
    {int(size) for size in env.list("IMAGE_THUMBNAIL_SIZES", default=["256", "1024"])}
)
# WEBP or JPEG (thumbnails of transparent images are always WEBP).
IMAGE_THUMBNAIL_FORMAT = env.str("IMAGE_THUMBNAIL_FORMAT", default="WEBP").upper()
# Uploads never attached to a place are deleted after this many hours.
IMAGE_ORPHAN_MAX_AGE_HOURS = env_int("IMAGE_ORPHAN_MAX_AGE_HOURS", 24, minimum=1)
# Host put into presigned URLs (clients must reach it); defaults to AWS_S3_ENDPOINT_URL.
STORAGE_PUBLIC_ENDPOINT_URL = env.str("STORAGE_PUBLIC_ENDPOINT_URL", default="")
# Transient storage errors (connection, 5xx, throttling) are retried this many times in
# total, waiting a random 0..min(max, initial * 2**n) seconds between (full jitter).
STORAGE_RETRY_ATTEMPTS = env_int("STORAGE_RETRY_ATTEMPTS", 3, minimum=1)
STORAGE_RETRY_WAIT_INITIAL = env_float("STORAGE_RETRY_WAIT_INITIAL", 0.1, minimum=0.0)
STORAGE_RETRY_WAIT_MAX = env_float("STORAGE_RETRY_WAIT_MAX", 2.0, minimum=0.0)
# Seconds a storage call may take in all, retries included (each attempt's timeouts are
# capped at what is left): a stalled endpoint costs an upload this long, then a 503.
STORAGE_REQUEST_DEADLINE = env_float("STORAGE_REQUEST_DEADLINE", 5.0, minimum=0.5)
# Circuit breaker: open after this many failed calls in a row, try again after this many
# seconds. Its state lives in Redis under the namespace so every process agrees.
STORAGE_BREAKER_FAIL_MAX = env_int("STORAGE_BREAKER_FAIL_MAX", 5, minimum=1)
STORAGE_BREAKER_RESET_TIMEOUT = env_int("STORAGE_BREAKER_RESET_TIMEOUT", 30, minimum=1)
STORAGE_BREAKER_NAMESPACE = env.str("STORAGE_BREAKER_NAMESPACE", default="placemap-storage")
# The breaker reads Redis on every storage call: a stuck Redis must not stall uploads.
STORAGE_BREAKER_REDIS_TIMEOUT = env_float("STORAGE_BREAKER_REDIS_TIMEOUT", 0.5, minimum=0.05)

# --- Live feed (docs/live-feed.md) ----------------------------------------------------------
# Messages a websocket client may send per second before extra ones are ignored.
LIVE_FEED_MAX_MESSAGES_PER_SECOND = env_int("LIVE_FEED_MAX_MESSAGES_PER_SECOND", 5, minimum=1)
# Ignored messages (without a calm second in between) before the socket is closed (4429).
LIVE_FEED_FLOOD_CLOSE_AFTER = env_int("LIVE_FEED_FLOOD_CLOSE_AFTER", 20, minimum=1)
# Largest client message; a subscribe message is well under 200 bytes. Also the server's
# websocket frame limit (config/server.py): a bigger message is closed with 1009 unread.
LIVE_FEED_MAX_MESSAGE_BYTES = env_int("LIVE_FEED_MAX_MESSAGE_BYTES", 1024, minimum=128)
# Page origins (scheme://host[:port], compared exactly) that may open the live feed.
# Default: SITE_URL's origin, CSRF's trusted origins and CORS_ALLOWED_ORIGINS.
WS_ALLOWED_ORIGINS = env.list(
    "WS_ALLOWED_ORIGINS",
    default=list(
        dict.fromkeys(
            [
                "{0.scheme}://{0.netloc}".format(urlsplit(SITE_URL)),
                *CSRF_TRUSTED_ORIGINS,
                *CORS_ALLOWED_ORIGINS,
            ]
        )
    ),
)
# A handshake without an Origin header comes from a native app (browsers always send
# one, so a page on a foreign origin cannot pass as "no origin"); false refuses them.
WS_ALLOW_NO_ORIGIN = env_bool("WS_ALLOW_NO_ORIGIN", True)

# --- Bulk import and export (docs/import-export.md) ----------------------------------------
# Rows fetched per server-side cursor round trip by exports (memory grows with it).
EXPORT_CHUNK_SIZE = env_int("EXPORT_CHUNK_SIZE", 2000, minimum=100)
# The "export" throttle rate (THROTTLE_EXPORT, REST API section), under the name
# locations/api/export_views.py reads until its throttle uses the scope.
EXPORT_THROTTLE_RATE = REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["export"]
# Largest file the admin import page accepts; bigger files go through import_locations.
IMPORT_MAX_UPLOAD_BYTES = env_int("IMPORT_MAX_UPLOAD_BYTES", 20 * 1024 * 1024, minimum=1024)
# The admin page keeps an upload between its validation report and the confirmation in
# object storage (imports/ in the bucket; locations/import_uploads.py), not on disk.
# Rows per INSERT ... ON CONFLICT statement when importing (import_locations --batch-size).
IMPORT_BATCH_SIZE = env_int("IMPORT_BATCH_SIZE", 5000, minimum=1)
# An import that merges at least this many rows, and at least as many as the places table
# holds, drops the non-unique indexes and foreign keys of the tables it writes (and turns
# the grid triggers off) and restores them after the insert, in its own transaction (an ACCESS EXCLUSIVE lock on those tables for the whole
# import: docs/import-export.md, "Large imports"). A very large value turns it off.
IMPORT_REBUILD_INDEXES_MIN_ROWS = env_int("IMPORT_REBUILD_INDEXES_MIN_ROWS", 100_000, minimum=1)
# maintenance_work_mem (MiB) for those rebuilds, work_mem for the grid summary's
# recomputation (SET LOCAL: that import's transaction only).
IMPORT_MAINTENANCE_WORK_MEM_MB = env_int("IMPORT_MAINTENANCE_WORK_MEM_MB", 256, minimum=1)
# Bad rows kept in an import report (all are counted; the command prints every one).
IMPORT_MAX_REPORTED_ERRORS = env_int("IMPORT_MAX_REPORTED_ERRORS", 1000, minimum=1)

# --- API versioning (docs/api-versioning.md) -------------------------------------------
# Deprecated API versions, a release decision reviewed with the code (not an operator's
# switch): {"v1": {"deprecation": "2027-01-01", "sunset": "2027-07-01"}}; dates are UTC.
API_DEPRECATIONS: dict = {}
API_DEPRECATION_POLICY_URL = env.str(
    "API_DEPRECATION_POLICY_URL", default="https://placemap.dev/docs/api-versioning"
)

# --- Silenced checks ---------------------------------------------------------------------
# gis.W001: GDAL < 3.9 cannot block file/network access from spatial references.
# Placemap never hands user input to GDAL/OGR: coordinates and GeoJSON are parsed in
# Python and turned into GEOS geometries (see README, "Security notes").
SILENCED_SYSTEM_CHECKS = ["gis.W001"]
