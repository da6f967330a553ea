"""Modelgate settings: one module, driven by environment variables.

Every variable has a safe embedded default for the `rundemo` command (SQLite under
var/, eager tasks, local files) except SECRET_KEY, which only has a default while
DEBUG is on. Malformed values fail at start-up (see config/env.py).
"""

import re
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("MODELGATE_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it to a long random string, or set DEBUG=1 for "
            "local development (the run command does this for you)."
        )
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-" + "x" * 16

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "csp",
    "guardian",
    "axes",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "registry",
    "approvals",
    "audit",
    "demo",
    "mlflow_api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside everything that may answer: under /mlflow/ every answer is MLflow's JSON.
    "mlflow_api.middleware.MlflowJsonErrorsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # Before anything reads a body: a body cut off by a disconnect is refused whole.
    "registry.request_body.CompleteBodyMiddleware",
    # Before anything reads the session or hands a parameter to PostgreSQL.
    "registry.middleware.UnstorableInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "audit.context.RequestContextMiddleware",
    "config.database.DatabaseUnavailableMiddleware",
    # Last, so it sees failed sign-ins from every authentication path.
    "axes.middleware.AxesMiddleware",
]

# Messages travel in a cookie, never in the session: adding one after a change has been
# committed must not need the database (a session save would).
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "approvals.context_processors.reviews_waiting",
            ],
        },
    },
    # Jinja2, for the few partials a page repeats per row (the catalog's results and
    # facets, the model page's versions, charts and lineage): it compiles a template to
    # Python, so a loop over 25 rows and ~70 facet values costs ~1 ms against ~5 ms for
    # the same markup in Django's language (bench/results/catalog-notes.md). The
    # partials live beside the pages, named *.jinja; pages include them with
    # `{% jinja "name.jinja" key=value %}` (registry_tags), the only way they render.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "NAME": "jinja2",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "config.jinja2.environment"},
    },
]

# --- Database -----------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'modelgate.sqlite3'}"
# Seconds to wait for PostgreSQL to accept a connection, and for one statement to finish
# (0: no limit). Web requests get the short statement timeout; manage.py commands get
# the command one (manage.py sets MODELGATE_PROCESS=command; so may a Celery worker's
# environment); audit exports raise theirs while they stream. A request that hits
# either limit is answered 503 with Retry-After (config/database.py).
DATABASE_CONNECT_TIMEOUT = env_int("DATABASE_CONNECT_TIMEOUT", 5, minimum=1)
DATABASE_STATEMENT_TIMEOUT = env_int("DATABASE_STATEMENT_TIMEOUT", 5, minimum=0)
DATABASE_EXPORT_STATEMENT_TIMEOUT = env_int("DATABASE_EXPORT_STATEMENT_TIMEOUT", 600, minimum=0)
DATABASE_COMMAND_STATEMENT_TIMEOUT = env_int("DATABASE_COMMAND_STATEMENT_TIMEOUT", 0, minimum=0)
MODELGATE_PROCESS = env_str("MODELGATE_PROCESS", "web")
if MODELGATE_PROCESS not in ("web", "command"):
    raise ImproperlyConfigured(
        f"MODELGATE_PROCESS must be 'web' or 'command'; got {MODELGATE_PROCESS!r}"
    )
try:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
            conn_health_checks=True,
        )
    }
except Exception as exc:  # dj_database_url raises bare ValueError/KeyError on junk
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
if DATABASES["default"]["ENGINE"] not in (
    "django.db.backends.postgresql",
    "django.db.backends.sqlite3",
):
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL or SQLite.")
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
DATABASE_PREPARED_STATEMENTS = IS_POSTGRES and env_bool("DATABASE_PREPARED_STATEMENTS", True)
if IS_POSTGRES:
    _statement_timeout = (
        DATABASE_STATEMENT_TIMEOUT
        if MODELGATE_PROCESS == "web"
        else DATABASE_COMMAND_STATEMENT_TIMEOUT
    )
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "connect_timeout": DATABASE_CONNECT_TIMEOUT,
            # A server that vanished or a cut network is noticed in about half a
            # minute instead of the kernel's two hours.
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
            "tcp_user_timeout": 30_000,  # ms of unacknowledged data
        }
    )
    # The fixed SQL texts (registry/fixed_sql.py) run as prepared statements, planned
    # once per connection: planning is most of what some of them cost. Set 0 behind a
    # pooler that cannot keep prepared statements (PgBouncer before 1.21, or without
    # max_prepared_statements). The threshold is only psycopg's switch: Django's own
    # cursors bind client-side and never prepare.
    if DATABASE_PREPARED_STATEMENTS:
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 5
    if _statement_timeout:
        DATABASES["default"]["OPTIONS"]["options"] = (
            f"-c statement_timeout={_statement_timeout * 1000}"
        )
if not IS_POSTGRES:
    if DATABASES["default"]["NAME"] == str(VAR_DIR / "modelgate.sqlite3"):
        VAR_DIR.mkdir(parents=True, exist_ok=True)  # the embedded default on a fresh clone
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # IMMEDIATE: a transaction takes SQLite's write lock when it begins, so concurrent
    # writers wait (up to the timeout) instead of failing at once with "database is
    # locked" when a reading transaction later tries to write.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
    # Tests get a database file beside the configured one rather than Django's
    # in-memory default: a live server shares an in-memory database's one connection
    # between all its request threads, and a client that sends requests in parallel
    # (MLflow's downloads) then breaks SQLite's transactions ("cannot open savepoint -
    # SQL statements in progress").
    _sqlite_file = Path(DATABASES["default"]["NAME"])
    DATABASES["default"].setdefault("TEST", {}).setdefault(
        "NAME", str(_sqlite_file.with_name(f"test-{_sqlite_file.name}"))
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------
# Django's cache lives in Redis when CACHE_URL names one, shared by every web and worker
# process; without it each process keeps its own in memory, which is right for the
# single-process `run` command. A cached value is dropped by the writes that change it,
# and only a shared cache lets a drop in one process reach the others.
CACHE_URL = env_str("CACHE_URL") or ""
if CACHE_URL:
    if not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            f"CACHE_URL must be a Redis URL (redis://, rediss:// or unix://); got {CACHE_URL!r}"
        )
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# With a shared cache, a signed-in request reads its session from Redis, not PostgreSQL
# (one query less on every page); the database stays the record. Never with per-process
# caches: a session ended in one process would live on in the others' copies.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if CACHE_URL
    else "django.contrib.sessions.backends.db"
)

# --- Auth -----------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "config.auth_backends.OneQueryModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "registry:catalog"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # no guardian anonymous user: the registry is sign-in only

# Sign-in lockout (django-axes): 5 failures for one username from one address locks
# that pair for 15 minutes.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# --- I18N -----------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files and artifact storage -------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))

# Artifacts never get a public MEDIA_URL: downloads go through a permission-checked view.
ARTIFACT_STORAGE = env_str("ARTIFACT_STORAGE", "local")
if ARTIFACT_STORAGE == "local":
    _artifact_backend = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT / "artifacts"},
    }
elif ARTIFACT_STORAGE == "s3":
    _bucket = env_str("AWS_STORAGE_BUCKET_NAME")
    if not _bucket:
        raise ImproperlyConfigured("ARTIFACT_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME.")
    _artifact_backend = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _bucket,
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL"),
            "region_name": env_str("AWS_S3_REGION_NAME"),
            "location": env_str("AWS_S3_PREFIX", "artifacts"),
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    raise ImproperlyConfigured(
        f"ARTIFACT_STORAGE must be 'local' or 's3'; got {ARTIFACT_STORAGE!r}"
    )

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "artifacts": _artifact_backend,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Largest artifact accepted, in bytes (default 2 GiB). Bigger uploads get HTTP 413.
ARTIFACT_MAX_BYTES = env_int("ARTIFACT_MAX_BYTES", 2 * 1024**3, minimum=1)
# Uploads are streamed to temporary files, never held in memory past 2.5 MB.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024  # non-file form/JSON bodies

# --- Limits on input: more is refused with a 400 naming the field (registry/limits.py) --
METRICS_MAX_PER_VERSION = env_int("METRICS_MAX_PER_VERSION", 1000, minimum=1)
TAGS_MAX_PER_MODEL = env_int("TAGS_MAX_PER_MODEL", 50, minimum=1)
# Each of a model's description, purpose and evaluation coverage, a version's release
# notes, and each model card section, in UTF-8 bytes.
MARKDOWN_MAX_BYTES = env_int("MARKDOWN_MAX_BYTES", 100_000, minimum=1000)
HYPERPARAMETERS_MAX_PER_VERSION = env_int("HYPERPARAMETERS_MAX_PER_VERSION", 200, minimum=1)
HYPERPARAMETER_NAME_MAX_CHARS = env_int("HYPERPARAMETER_NAME_MAX_CHARS", 100, minimum=1)
HYPERPARAMETER_VALUE_MAX_CHARS = env_int("HYPERPARAMETER_VALUE_MAX_CHARS", 1000, minimum=1)
# Names and labels live in 100-character columns: the settings can only lower that.
MODEL_NAME_MAX_CHARS = env_int("MODEL_NAME_MAX_CHARS", 100, minimum=1, maximum=100)
VERSION_LABEL_MAX_CHARS = env_int("VERSION_LABEL_MAX_CHARS", 100, minimum=5, maximum=100)

# --- Approvals ------------------------------------------------------------------
# A transition request's reason must say something: at least this many characters and
# three words.
APPROVAL_REASON_MIN_CHARS = env_int("APPROVAL_REASON_MIN_CHARS", 20, minimum=1, maximum=1000)
APPROVAL_REASON_MAX_CHARS = 5000
# Model version aliases gated like a promotion to Production: setting or moving one
# files a request that the model's Production approvers must approve, and deleting one
# is refused (registry.services.aliases). Comma-separated, compared ignoring case; set
# it empty to protect none.
MODELGATE_PROTECTED_ALIASES = [
    a.lower() for a in env_list("MODELGATE_PROTECTED_ALIASES", ["champion"])
]
for _alias in MODELGATE_PROTECTED_ALIASES:
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", _alias):
        raise ImproperlyConfigured(
            f"MODELGATE_PROTECTED_ALIASES: {_alias!r} is not an alias name (1-64 letters, "
            "digits, '_' or '-', starting with a letter or digit)."
        )
# Where the links in notification emails and webhooks point.
MODELGATE_BASE_URL = (env_str("MODELGATE_BASE_URL") or "http://127.0.0.1:8000").rstrip("/")

# --- Email ----------------------------------------------------------------------
# Approvers are notified by email; the embedded default prints the messages.
EMAIL_BACKEND = env_str("EMAIL_BACKEND") or "django.core.mail.backends.console.EmailBackend"
EMAIL_HOST = env_str("EMAIL_HOST") or "localhost"
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL") or "Modelgate <modelgate@localhost>"

# --- Celery ---------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or None
# Without a broker, tasks run in-process (the embedded default for `rundemo`).
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker keeps its database connection from one task to the next, closing it every
# CELERY_DB_REUSE_MAX tasks (0: a new connection for every task, Celery's default, which
# cut webhook throughput by a third: bench/results/webhooks.md); around each task
# config/celery.py closes it when broken or older than CONN_MAX_AGE, as Django does
# around each request.
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000, minimum=0)
CELERY_BEAT_SCHEDULE = {
    "audit-verify-chain": {
        "task": "audit.tasks.audit_verify_chain",
        "schedule": env_int("AUDIT_VERIFY_INTERVAL_SECONDS", 3600, minimum=10),
    },
}
# --- Deployment webhooks (registry.deployments) -------------------------------------
# Beat sends the deliveries that are due (retries) or whose dispatch was lost (broker
# down at commit, worker died) this often.
WEBHOOK_SWEEP_INTERVAL_SECONDS = env_int("WEBHOOK_SWEEP_INTERVAL_SECONDS", 30, minimum=1)
CELERY_BEAT_SCHEDULE["deliveries-sweep"] = {
    "task": "registry.tasks.deliveries_sweep",
    "schedule": WEBHOOK_SWEEP_INTERVAL_SECONDS,
}
# The retry schedule (registry/deployments/schedule.py): attempt n+1 comes
# BASE * 2**(n-1) seconds (±20 %) after attempt n; 30 s and 10 attempts span ~4 h 15 min.
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 30, minimum=0)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 10, minimum=1, maximum=50)
WEBHOOK_RETRY_AFTER_MAX_SECONDS = env_int("WEBHOOK_RETRY_AFTER_MAX_SECONDS", 3600, minimum=0)
WEBHOOK_CONNECT_TIMEOUT_SECONDS = env_int("WEBHOOK_CONNECT_TIMEOUT_SECONDS", 3, minimum=1)
WEBHOOK_TOTAL_TIMEOUT_SECONDS = env_int("WEBHOOK_TOTAL_TIMEOUT_SECONDS", 15, minimum=2, maximum=15)
if WEBHOOK_CONNECT_TIMEOUT_SECONDS >= WEBHOOK_TOTAL_TIMEOUT_SECONDS:
    raise ImproperlyConfigured(
        "WEBHOOK_CONNECT_TIMEOUT_SECONDS must be less than WEBHOOK_TOTAL_TIMEOUT_SECONDS."
    )
# A worker sending a delivery holds it this long; past it (the worker died) the sweep
# sends it again. Longer than the total timeout.
WEBHOOK_LEASE_SECONDS = 60
# While a secret is rotated, the previous one keeps signing this long.
WEBHOOK_SECRET_ROTATION_HOURS = env_int("WEBHOOK_SECRET_ROTATION_HOURS", 24, minimum=0)
# Webhooks go only to public addresses unless this is on (a receiver on the same
# private network; tests with a receiver on 127.0.0.1).
MODELGATE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool(
    "MODELGATE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False
)
# Git targets (registry/deployments/gitops.py). Local repositories (a path or file://)
# only inside this directory; empty (the default) refuses them, so no target can make
# the server write wherever it may.
MODELGATE_GITOPS_LOCAL_DIR = env_str("MODELGATE_GITOPS_LOCAL_DIR") or ""
if MODELGATE_GITOPS_LOCAL_DIR and not Path(MODELGATE_GITOPS_LOCAL_DIR).is_absolute():
    raise ImproperlyConfigured("MODELGATE_GITOPS_LOCAL_DIR must be an absolute path.")
# Who the manifest commits are by.
MODELGATE_GITOPS_AUTHOR_NAME = env_str("MODELGATE_GITOPS_AUTHOR_NAME") or "Modelgate"
MODELGATE_GITOPS_AUTHOR_EMAIL = env_str("MODELGATE_GITOPS_AUTHOR_EMAIL") or "modelgate@localhost"
# One Git attempt (fetch, commit, push, and the one re-fetch) ends after this long;
# shorter than the worker's lease on the delivery.
GITOPS_TIMEOUT_SECONDS = env_int(
    "GITOPS_TIMEOUT_SECONDS", 45, minimum=5, maximum=WEBHOOK_LEASE_SECONDS - 5
)

# A verification still running after this long is taken as lost (its worker died), so a
# new one may start; one runs at a time.
AUDIT_VERIFY_TIMEOUT_SECONDS = env_int("AUDIT_VERIFY_TIMEOUT_SECONDS", 3600, minimum=60)

# --- REST API -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "registry.api.authentication.APITokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "registry.api.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "registry.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bodies only (anything else is a 415), as the schema documents; the views that
    # take an artifact file add multipart (registry.api.views.uploads).
    "DEFAULT_PARSER_CLASSES": ["registry.api.parsers.StrictJSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Modelgate API",
    "DESCRIPTION": "Register models and versions from pipelines; search the catalog.",
    "VERSION": "1",
    # 3.1 (JSON Schema 2020-12) can state what the API checks, e.g. propertyNames.
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "registry.api.openapi.strings_without_nul",
    ],
    "ENUM_NAME_OVERRIDES": {
        "DataClassificationEnum": "registry.choices.DataClassification",
        "StageEnum": "registry.stages.Stage",  # a version's stage, and a request's from_stage
        "ServingStateEnum": "registry.deployments.models.ServingState",
        "StateEnum": "approvals.models.RequestState",  # kept: a transition request.s state
    },
}

# --- Security -------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
CSRF_FAILURE_VIEW = "registry.views.errors.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# No inline script or style anywhere (templates keep JS in static/js, CSS in
# static/css): Markdown that slipped past the sanitiser still could not run or load
# anything. data: images are for the admin's and Swagger UI's CSS icons; base-uri
# 'none' because no page uses <base>.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Nothing in Modelgate needs a device or sensor; deny them to every frame and script.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading is a domain-wide, hard-to-undo commitment for the operator to make
        # (README, "check --deploy"); not a default we can choose for them.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    if env_bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Logging --------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
# --- Catalog search (registry/search/bounded.py; README "Search") ---------------------
# Up to this many matches, totals and facet counts are exact; beyond it they are
# estimated from a random sample as precise as SEARCH_SAMPLE_SIZE matches drawn from
# very many (the total within ±5 % at 95 % confidence; a selected facet's own counts
# half as precise), and the page says "about".
SEARCH_EXACT_LIMIT = env_int("SEARCH_EXACT_LIMIT", 1000, minimum=1000)
SEARCH_SAMPLE_SIZE = env_int("SEARCH_SAMPLE_SIZE", 2000, minimum=1600)
# Relevance ranks this many of the matches best by the static order (stage, recency,
# versions), after the name matches; the rest follow in the static order.
SEARCH_RANK_CANDIDATES = env_int("SEARCH_RANK_CANDIDATES", 300, minimum=25)
# "Count exactly" runs under this statement timeout.
SEARCH_EXACT_TIMEOUT_SECONDS = env_int("SEARCH_EXACT_TIMEOUT_SECONDS", 5, minimum=1)
