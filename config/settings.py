"""Waypoint settings: everything comes from the environment (12-factor).

With nothing set Waypoint runs embedded: a SQLite file, the in-process channel layer and Celery on
kombu's in-memory broker. DATABASE_URL and REDIS_URL switch the same code to Postgres, Redis,
channels-redis and real Celery workers.
"""

import datetime as dt
import os
from pathlib import Path

import dj_database_url
import xstatic.pkg.leaflet as xstatic_leaflet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# --- Core -------------------------------------------------------------------------------------
DEBUG = env_bool("DJANGO_DEBUG", default=False)
WAYPOINT_PRODUCTION = env_bool("WAYPOINT_PRODUCTION")
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or ""
# Issue 12, item 12: the fallback key is public (it is in this file); common/checks.py warns about
# it loudly at start-up (waypoint.W001), and refuses it with WAYPOINT_PRODUCTION (waypoint.E001).
WAYPOINT_SECRET_KEY_IS_PUBLIC = not SECRET_KEY
if not SECRET_KEY:
    if not DEBUG and env_bool("WAYPOINT_PRODUCTION"):
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production")
    # Embedded/demo mode only: a fixed key so sessions survive restarts of `make demo`.
    SECRET_KEY = "waypoint-embedded-insecure-key-do-not-use-in-production-0123456789"
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
# Issue 12 item 6 (branded error pages): a CSRF failure answers like the other 403s (JSON under /api/).
CSRF_FAILURE_VIEW = "common.error_pages.csrf_failure"

INSTALLED_APPS = [
    # Daphne first: `runserver` then serves ASGI, so WebSockets work in the demo.
    "daphne",
    "config.admin.WaypointAdminConfig",  # django.contrib.admin, for superusers only (item 12)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "axes",
    "common",
    "accounts",
    "dispatch",
    "orders",
    "tracking",
    "notifications",
    "console",
    "demo",
    "simulation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language follows the browser's Accept-Language (English unless it asks for Finnish).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Issue 12, item 8: Redis down answers 503 + Retry-After (JSON under /api/), not an HTML 500.
    "common.outage.RedisOutageMiddleware",
    # Last, as django-axes asks: it turns a lock-out flagged during authenticate() into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Login lock-out (issue 12, item 9) --------------------------------------------------------
# django-axes counts failed logins per account and, separately, per client address; either one
# reaching the limit locks it out until the cool-off has passed since the last failure.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = WAYPOINT_LOGIN_FAILURE_LIMIT = int(os.environ.get("WAYPOINT_LOGIN_FAILURE_LIMIT", "10"))
WAYPOINT_LOGIN_COOLOFF_MINUTES = int(os.environ.get("WAYPOINT_LOGIN_COOLOFF_MINUTES", "15"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=WAYPOINT_LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# The address is REMOTE_ADDR: behind a proxy, uvicorn's --proxy-headers sets it from
# X-Forwarded-For for proxies listed in FORWARDED_ALLOW_IPS (else every client shares one address).

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
                "common.context_processors.waypoint",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
# dj-database-url ignores `default=` when the variable is set but empty, hence the `or`. Persistent
# connections (DATABASE_CONN_MAX_AGE > 0) are kept one per request thread under ASGI: off by
# default, and replaced by the pool below on Postgres.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'waypoint.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    (BASE_DIR / "var").mkdir(exist_ok=True)
    # WAL and a busy timeout let the demo's worker thread write while pages read.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif env_bool("DATABASE_PREPARED_STATEMENTS", default=True):
    # Postgres plans a query again on every execution unless it is prepared; the hot paths (each
    # driver position) spend more time in planning than in running their queries. psycopg prepares
    # a statement after its 5th execution on a connection. Turn off behind a transaction-pooling
    # PgBouncer, which cannot keep prepared statements across transactions.
    DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
# Issue 12, item 1: connection pool. Under ASGI every request runs on its own thread and Django
# keeps one connection per thread: with persistent connections (CONN_MAX_AGE > 0) a busy process
# held 86 connections until Postgres refused clients. psycopg's pool bounds each process to
# DATABASE_POOL_MAX_SIZE connections; a request waits up to DATABASE_POOL_TIMEOUT seconds for one.
# The pool lends connections per request, so it needs CONN_MAX_AGE=0. Celery's Django fixup closes
# the pool a prefork child inherits. Turn off behind PgBouncer (README, "Database connections").
if DATABASES["default"]["ENGINE"].endswith("postgresql") and env_bool("DATABASE_POOL", default=True):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.environ.get("DATABASE_POOL_MIN_SIZE", "1")),
        "max_size": int(os.environ.get("DATABASE_POOL_MAX_SIZE", "10")),
        "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", "10")),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, channels, Celery ------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL") or ""
if REDIS_URL:
    # The pub/sub layer lost no deliveries under overload in the tracking load test, where the
    # list-based core layer dropped them (docs/benchmarks.md). redis-py's default 5 s socket
    # timeout equals the layer's blocking read and closed idle sockets (channels_redis#422).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 15}]},
        }
    }
    # Issue 12, item 8: the cache holds the API throttle's counters (accounts/throttling.py lets
    # requests through without it), so a Redis that is down or hanging must cost a request at most
    # a second, not redis-py's unbounded default.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": float(os.environ.get("REDIS_CACHE_TIMEOUT_SECONDS", "1")),
                "socket_timeout": float(os.environ.get("REDIS_CACHE_TIMEOUT_SECONDS", "1")),
            },
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # Issue 12, item 8: with Redis down, sending a task first retries subscribing to its result 20
    # times a second apart (Celery's default): the request hung ~20 s before failing. Give up in ~1 s;
    # the request then answers 503 (common/errors.py).
    CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
        "retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
    }
    # Item 3 (killed workers): an unacknowledged message (acks_late) returns to the queue this long
    # after a worker took it. Redis' default is an hour; it must outlast the longest run (plans: 600 s
    # of budget) or a healthy solve is handed to a second worker. Dead runs are failed much sooner
    # by the heartbeat sweep below, and their late redelivery is discarded.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT_S", "900"))}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    # kombu's memory transport polls once a second by default; faster polling keeps the demo snappy.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"polling_interval": 0.1}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the message for another worker
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Item 3 (optimisation liveness): a running solve beats every WAYPOINT_HEARTBEAT_S seconds; after
# four missed beats it counts as lost, and the sweep (every WAYPOINT_STALE_SWEEP_S, in beat and in
# the embedded worker) records it failed: within 4 x 5 + 30 = 50 s of the last beat (stated: 90 s).
WAYPOINT_HEARTBEAT_S = float(os.environ.get("WAYPOINT_HEARTBEAT_S", "5"))
WAYPOINT_STALE_SWEEP_S = float(os.environ.get("WAYPOINT_STALE_SWEEP_S", "30"))

# --- Queues and workers (issue 12, item 4) ---
# Optimisation solves run for minutes; on the queue of live work (insertions, ETAs, the outbox,
# notifications, webhooks) they held an urgent insertion back for 43 s. Each queue gets its own
# worker pool, so a busy `optimize` pool never delays `live` work. The router (config/celery.py)
# reads the prefix when it routes, so a test can point its producer at an isolated worker on a
# shared Redis; one Redis may also serve several deployments this way.
WAYPOINT_QUEUE_PREFIX = os.environ.get("WAYPOINT_QUEUE_PREFIX", "")
CELERY_TASK_DEFAULT_QUEUE = f"{WAYPOINT_QUEUE_PREFIX}live"
WAYPOINT_OPTIMIZE_TASKS = (
    "dispatch.optimize.tasks.optimization_job_run_task",  # POST /api/optimize jobs
    "dispatch.planning.tasks.plan_optimize_task",  # plan optimisation
)
# Sends to merchants' webhook receivers: on the `webhooks` queue, with workers of their own.
WAYPOINT_WEBHOOK_TASKS = ("notifications.webhooks.tasks.webhook_endpoint_send_task",)
CELERY_TASK_ROUTES = ("config.celery.route_task",)
# Concurrent /api/optimize jobs (queued or running) per organisation; one more answers 429.
WAYPOINT_OPTIMIZE_MAX_CONCURRENT_PER_ORG = int(os.environ.get("WAYPOINT_OPTIMIZE_MAX_CONCURRENT_PER_ORG", "2"))
CELERY_BEAT_SCHEDULE = {
    "idempotency-keys-purge": {"task": "common.tasks.idempotency_purge_task", "schedule": 3600.0},
    "position-history-purge": {"task": "tracking.tasks.position_history_purge_task", "schedule": 3600.0},
    "plans-sweep-stale": {"task": "dispatch.planning.tasks.plan_sweep_stale_task", "schedule": WAYPOINT_STALE_SWEEP_S},
    "optimization-jobs-sweep-stale": {
        "task": "dispatch.optimize.tasks.optimization_jobs_sweep_stale_task",
        "schedule": WAYPOINT_STALE_SWEEP_S,
    },
    "slot-holds-expire": {"task": "dispatch.slots.tasks.slot_holds_expire_task", "schedule": 60.0},
    "silent-and-idle-drivers": {"task": "tracking.tasks.detect_silent_and_idle_drivers_task", "schedule": 60.0},
    "events-sweep": {"task": "common.tasks.events_sweep_task", "schedule": 60.0},
    "events-purge": {"task": "common.tasks.events_purge_task", "schedule": 3600.0},
    # Webhook retries and deliveries whose task was lost (notifications/webhooks/tasks.py).
    "webhook-deliveries-sweep": {
        "task": "notifications.webhooks.tasks.webhook_deliveries_sweep_task",
        "schedule": 30.0,
    },
    "webhook-events-purge": {"task": "notifications.webhooks.tasks.webhook_events_purge_task", "schedule": 3600.0},
}
# Embedded mode runs a Celery worker thread inside the ASGI process, fed by the memory broker, so
# background work leaves the request thread without needing Redis or a second process.
WAYPOINT_INPROCESS_WORKER = env_bool("WAYPOINT_INPROCESS_WORKER", default=not REDIS_URL)

# --- Merchant webhooks (issue 14) ------------------------------------------------------------
# Endpoints on loopback, private or link-local addresses are refused at registration and at
# send time unless this is on: by default only with DEBUG or in the embedded demo (no REDIS_URL,
# not WAYPOINT_PRODUCTION), where receivers on localhost are the point.
WAYPOINT_WEBHOOKS_ALLOW_PRIVATE = env_bool(
    "WAYPOINT_WEBHOOKS_ALLOW_PRIVATE", default=DEBUG or not (REDIS_URL or WAYPOINT_PRODUCTION)
)

# --- Open sockets lose their rights (issue 12, item 5) ----------------------------------------
# Logout, deactivation and role or membership changes close a user's sockets at once
# (accounts/revocation.py); this re-check is the backstop for changes that send no signal.
WAYPOINT_SOCKET_RECHECK_SECONDS = float(os.environ.get("WAYPOINT_SOCKET_RECHECK_SECONDS", "60"))

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fi", "Suomi")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Leaflet comes from the XStatic-Leaflet PyPI package: no CDN, nothing vendored in the repo.
    ("vendor/leaflet", xstatic_leaflet.BASE_DIR),
    # The npm packages of package.json's `dependencies` (signature_pad, idb): bin/vendor_frontend.py,
    # run by `make install`, unpacks them from the registry into var/vendor/<name>/.
    ("vendor", BASE_DIR / "var" / "vendor"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed names need collectstatic's manifest; production builds run it, the demo and
        # tests serve straight from the finders.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("WAYPOINT_PRODUCTION")
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Tests and the demo may run before collectstatic; serve from the finders then.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Uploaded files: proofs of delivery (issue 13) ----------------------------------------------
# Local files under var/media by default. No MEDIA_URL is served: a proof is viewed through a
# signed, expiring URL (/proofs/<token>, dispatch/execution/proofs.py). WAYPOINT_MEDIA_S3_BUCKET
# switches the default storage to django-storages' S3 backend (`pip install .[s3]`); S3 then signs
# its own URLs (querystring auth) with the same lifetime.
MEDIA_ROOT = Path(os.environ.get("WAYPOINT_MEDIA_ROOT") or BASE_DIR / "var" / "media")
WAYPOINT_PROOF_MAX_BYTES = int(os.environ.get("WAYPOINT_PROOF_MAX_BYTES", str(8 * 1024 * 1024)))
WAYPOINT_PROOF_URL_MAX_AGE_S = int(os.environ.get("WAYPOINT_PROOF_URL_MAX_AGE_S", "900"))
WAYPOINT_MEDIA_S3_BUCKET = os.environ.get("WAYPOINT_MEDIA_S3_BUCKET", "")
if WAYPOINT_MEDIA_S3_BUCKET:
    _s3_options = {
        "bucket_name": WAYPOINT_MEDIA_S3_BUCKET,
        "location": os.environ.get("WAYPOINT_MEDIA_S3_PREFIX", ""),
        # Proofs are personal data: private objects, reached only through presigned URLs.
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": WAYPOINT_PROOF_URL_MAX_AGE_S,
        "file_overwrite": False,
    }
    # Unset credentials, region and endpoint fall back to boto3's own chain (environment, instance role).
    for _option, _variable in (
        ("endpoint_url", "WAYPOINT_MEDIA_S3_ENDPOINT_URL"),
        ("region_name", "WAYPOINT_MEDIA_S3_REGION"),
        ("access_key", "WAYPOINT_MEDIA_S3_ACCESS_KEY_ID"),
        ("secret_key", "WAYPOINT_MEDIA_S3_SECRET_ACCESS_KEY"),
    ):
        if os.environ.get(_variable):
            _s3_options[_option] = os.environ[_variable]
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _s3_options}
# Who makes a proof's URL: the storage itself (S3 presigns), or Waypoint's signed /proofs/ view.
WAYPOINT_PROOF_URLS_FROM_STORAGE = bool(WAYPOINT_MEDIA_S3_BUCKET)

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "common.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "common.errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttling.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": os.environ.get("WAYPOINT_API_RATE", "6000/min")},
    "NON_FIELD_ERRORS_KEY": "non_field_errors",
    "DATETIME_FORMAT": "iso-8601",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Issue 12 item 7 (hostile input): bounded JSON without NUL; OPTIONS on every view.
    "DEFAULT_PARSER_CLASSES": [
        "common.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_METADATA_CLASS": "common.metadata.ApiMetadata",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Waypoint API",
    "DESCRIPTION": (
        "Merchant and operations API of Waypoint, open-source last-mile delivery orchestration. "
        "Authenticate with `Authorization: Bearer <api key>`. Every POST accepts an "
        "`Idempotency-Key` header."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "OrderTypeEnum": "orders.models.OrderType",
        "VehicleTypeEnum": "dispatch.models.VehicleType",
        "OrderStatusEnum": "orders.lifecycle.OrderStatus",
        "PlanStatusEnum": "dispatch.models.PlanStatus",
        "ExceptionKindEnum": "tracking.models.ExceptionKind",
        "ProofKindEnum": "dispatch.models.ProofKind",
    },
    # Issue 12 item 7: every operation documents the error answers it can give (common/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "common.schema.document_errors",
    ],
}
# Bulk requests carry up to 1,000+ orders; anything much larger is refused before parsing.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("WAYPOINT_MAX_BODY_BYTES", str(5 * 1024 * 1024)))
WAYPOINT_BULK_MAX_ORDERS = int(os.environ.get("WAYPOINT_BULK_MAX_ORDERS", "5000"))
WAYPOINT_IDEMPOTENCY_TTL_HOURS = 24
# Issue 12, item 13: dates (plans, holds, availability) and order windows are accepted from this
# many days back to this many days ahead of today in the hub's zone (common/horizon.py); a window
# lasts at most WAYPOINT_MAX_WINDOW_HOURS.
WAYPOINT_HORIZON_DAYS = int(os.environ.get("WAYPOINT_HORIZON_DAYS", "366"))
WAYPOINT_HORIZON_PAST_DAYS = int(os.environ.get("WAYPOINT_HORIZON_PAST_DAYS", "1"))
WAYPOINT_MAX_WINDOW_HOURS = int(os.environ.get("WAYPOINT_MAX_WINDOW_HOURS", "24"))
# A checkout's slot hold keeps its place this long before it is released.
WAYPOINT_SLOT_HOLD_MINUTES = int(os.environ.get("WAYPOINT_SLOT_HOLD_MINUTES", "10"))
# Driver position history is kept this long for replay and analytics, then purged.
WAYPOINT_POSITION_RETENTION_DAYS = int(os.environ.get("WAYPOINT_POSITION_RETENTION_DAYS", "30"))
# How the driver app calls or texts a customer (dispatch/execution/contact.py): the console provider
# hands the driver the customer's number; a production provider answers a masked proxy number.
WAYPOINT_CONTACT_PROVIDER = os.environ.get(
    "WAYPOINT_CONTACT_PROVIDER", "dispatch.execution.contact.ConsoleContactProvider"
)
# Exceptions: a driver on an active route silent or not moving for this long.
WAYPOINT_NO_POSITION_MINUTES = int(os.environ.get("WAYPOINT_NO_POSITION_MINUTES", "10"))
WAYPOINT_IDLE_MINUTES = int(os.environ.get("WAYPOINT_IDLE_MINUTES", "15"))
# --- Issue 12, items 2 and 14: which route a position moves, what a tracking link shows -----------
# A route is active (positions move its ETAs, off-route checks and customer pages) on its plan's
# day at the hub, from this long before its planned start to this long after its planned end.
WAYPOINT_ROUTE_ACTIVE_BEFORE_MINUTES = int(os.environ.get("WAYPOINT_ROUTE_ACTIVE_BEFORE_MINUTES", "60"))
WAYPOINT_ROUTE_ACTIVE_AFTER_MINUTES = int(os.environ.get("WAYPOINT_ROUTE_ACTIVE_AFTER_MINUTES", "180"))
# A tracking link answers 410 this long after its order ended (delivered, failed, cancelled, returned).
WAYPOINT_TRACKING_LINK_TTL_HOURS = int(os.environ.get("WAYPOINT_TRACKING_LINK_TTL_HOURS", "72"))
# The customer sees the driver's position only within this distance of their stop (else only the ETA).
# The driver app sends the phone's position over the driver socket at most this often while on shift.
WAYPOINT_DRIVER_POSITION_INTERVAL_S = float(os.environ.get("WAYPOINT_DRIVER_POSITION_INTERVAL_S", "15"))
WAYPOINT_TRACKING_DRIVER_RADIUS_M = int(os.environ.get("WAYPOINT_TRACKING_DRIVER_RADIUS_M", "2000"))
# Issue 13: a driver staying this close to an open stop for this long is marked arrived there (no
# tap needed); seen beyond twice the radius afterwards, the driver has left it (tracking/services/geofence.py).
WAYPOINT_GEOFENCE_RADIUS_M = int(os.environ.get("WAYPOINT_GEOFENCE_RADIUS_M", "50"))
WAYPOINT_GEOFENCE_DWELL_S = int(os.environ.get("WAYPOINT_GEOFENCE_DWELL_S", "60"))

# --- Geocoding and maps -----------------------------------------------------------------------
# "offline" (default) uses merchant coordinates, the local gazetteer and GeoNames place centroids;
# "nominatim" asks a Nominatim server at GEOCODER_URL first (never the public one by default).
GEOCODER = os.environ.get("GEOCODER", "offline")
GEOCODER_URL = os.environ.get("GEOCODER_URL", "")
GEOCODER_MIN_CONFIDENCE = float(os.environ.get("GEOCODER_MIN_CONFIDENCE", "0.6"))
GEOCODER_USER_AGENT = os.environ.get("GEOCODER_USER_AGENT", "waypoint-geocoder")
GEOCODER_TIMEOUT_SECONDS = float(os.environ.get("GEOCODER_TIMEOUT_SECONDS", "5"))
GEOCODER_MIN_DELAY_SECONDS = float(os.environ.get("GEOCODER_MIN_DELAY_SECONDS", "0"))
MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "")
MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION", "")
# Travel times and route lines (docs/roads.md): "greatcircle" (default; needs nothing) or "osrm":
# road times and lines from OSRM, embedded over the files `manage.py build_roads` writes under
# WAYPOINT_OSRM_DATA, or from OSRM servers when WAYPOINT_OSRM_URL is set ("{profile}" in it picks
# one server per profile: car, bicycle, foot). Missing data falls back to the great circle.
WAYPOINT_TRAVEL = os.environ.get("WAYPOINT_TRAVEL", "greatcircle")
if WAYPOINT_TRAVEL not in ("greatcircle", "osrm"):
    raise ImproperlyConfigured(f"WAYPOINT_TRAVEL must be greatcircle or osrm, not {WAYPOINT_TRAVEL!r}")
WAYPOINT_OSRM_DATA = Path(os.environ.get("WAYPOINT_OSRM_DATA") or BASE_DIR / "var" / "osm")
WAYPOINT_OSRM_URL = os.environ.get("WAYPOINT_OSRM_URL", "")

# --- Security (production) --------------------------------------------------------------------
if env_bool("WAYPOINT_PRODUCTION"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # Health checks come over plain HTTP from inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
SILENCED_SYSTEM_CHECKS = env_list("DJANGO_SILENCED_SYSTEM_CHECKS")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Customer notifications (issue 14; notifications/) ------------------------------------------
# Email goes through Django's email backends: by default each message is written as a file under
# var/mail/ (the demo's "inbox"); production sets EMAIL_BACKEND to SMTP with EMAIL_HOST etc.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH") or str(BASE_DIR / "var" / "mail")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Waypoint <no-reply@waypoint.local>")
# The right-hand side of the Message-IDs Waypoint gives its emails.
WAYPOINT_EMAIL_DOMAIN = os.environ.get("WAYPOINT_EMAIL_DOMAIN", "waypoint.local")
# SMS: `console` logs each message; `http` posts it to a gateway (notifications/channels.py).
WAYPOINT_SMS_PROVIDER = os.environ.get("WAYPOINT_SMS_PROVIDER", "console")
WAYPOINT_SMS_SENDER = os.environ.get("WAYPOINT_SMS_SENDER", "Waypoint")
WAYPOINT_SMS_HTTP_URL = os.environ.get("WAYPOINT_SMS_HTTP_URL", "")
WAYPOINT_SMS_HTTP_USERNAME = os.environ.get("WAYPOINT_SMS_HTTP_USERNAME", "")
WAYPOINT_SMS_HTTP_PASSWORD = os.environ.get("WAYPOINT_SMS_HTTP_PASSWORD", "")
WAYPOINT_SMS_HTTP_TOKEN = os.environ.get("WAYPOINT_SMS_HTTP_TOKEN", "")
WAYPOINT_SMS_HTTP_CONTENT_TYPE = os.environ.get("WAYPOINT_SMS_HTTP_CONTENT_TYPE", "application/json")
WAYPOINT_SMS_HTTP_BODY = os.environ.get("WAYPOINT_SMS_HTTP_BODY", '{"to": "$to", "from": "$sender", "text": "$body"}')
WAYPOINT_SMS_HTTP_ID_FIELD = os.environ.get("WAYPOINT_SMS_HTTP_ID_FIELD", "id")
WAYPOINT_SMS_HTTP_COST_FIELD = os.environ.get("WAYPOINT_SMS_HTTP_COST_FIELD", "cost")
WAYPOINT_SMS_HTTP_TIMEOUT_S = float(os.environ.get("WAYPOINT_SMS_HTTP_TIMEOUT_S", "10"))
# Links in messages (tracking page, new slot, unsubscribe) are absolute: customers open them from
# their inbox, so they need the address the site is reached at.
WAYPOINT_PUBLIC_URL = os.environ.get("WAYPOINT_PUBLIC_URL", "http://localhost:8000").rstrip("/")
# Due messages (quiet hours over, retries, lost tasks) and "arriving soon" are looked for this often,
# in beat and in the embedded worker's schedule (whose one timer runs at the shortest interval).
WAYPOINT_NOTIFICATION_SWEEP_S = float(os.environ.get("WAYPOINT_NOTIFICATION_SWEEP_S", "30"))
CELERY_BEAT_SCHEDULE["notification-messages-sweep"] = {
    "task": "notifications.tasks.messages_sweep_task",
    "schedule": WAYPOINT_NOTIFICATION_SWEEP_S,
}
CELERY_BEAT_SCHEDULE["notification-arriving-soon"] = {
    "task": "notifications.tasks.arriving_soon_scan_task",
    "schedule": WAYPOINT_NOTIFICATION_SWEEP_S,
}
# order.eta_changed is debounced: a stop's ETA is announced when first known, then again only when
# it moved by at least this many minutes from the last one announced (notifications/webhooks/eta.py).
WAYPOINT_WEBHOOK_ETA_CHANGE_MINUTES = int(os.environ.get("WAYPOINT_WEBHOOK_ETA_CHANGE_MINUTES", "5"))
CELERY_BEAT_SCHEDULE["webhook-eta-changes"] = {
    "task": "notifications.tasks.webhook_eta_scan_task",
    "schedule": WAYPOINT_NOTIFICATION_SWEEP_S,
}
