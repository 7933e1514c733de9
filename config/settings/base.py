"""Settings shared by every environment; values come from the environment (django-environ).

With nothing set, the project runs on embedded defaults: a SQLite file, tasks executed in-process and a
local-memory cache. Production sets DATABASE_URL, REDIS_URL and DJANGO_SECRET_KEY (see README).
"""

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu.entity import Queue

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))

SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-development-key-change-me-in-production")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# --- Apps ---------------------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_prometheus",
    "strawberry_django",
    "oauth2_provider",
    "auditlog",
    "django_celery_beat",
    "core",
    "config",
    "metering",
    "forecasting",
    "pricing",
    "billing",
    "grid",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.api.middleware.AuditActorMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

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
                "billing.views.context_processors.supplier",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------------------
# DATABASE_URL, e.g. postgres://user:pass@host:5432/name (psycopg 3). Unset: a SQLite file for the demo.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

# --- Time, language -----------------------------------------------------------------------------------------
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-gb"
USE_I18N = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # The price ledger's signed chain heads (docs/dynamic-pricing.md): outside the database, append-only in
    # production (e.g. a write-once bucket through django-storages, or a directory only this app appends to).
    "price_ledger_heads": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": env("PRICE_LEDGER_HEAD_DIR", default=str(BASE_DIR / "var" / "price-ledger-heads"))
        },
    },
}

# --- Auth ---------------------------------------------------------------------------------------------------
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- Redis, cache, Celery -----------------------------------------------------------------------------------
# REDIS_URL carries the password in production: redis://:PASSWORD@host:6379/0 (or rediss:// for TLS, or
# redis://USER:PASSWORD@… with a Redis ACL user); see docs/redis.md.
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=REDIS_URL or "cache+memory://")
# No broker configured: run tasks in-process, so the demo needs nothing installed.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL == "memory://")
CELERY_TASK_EAGER_PROPAGATES = True


def redis_url_with_db(url: str, db: int) -> str:
    """`url` (redis:// or rediss://, with its credentials and query) pointing at database `db`."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


def redis_db(url: str) -> int:
    path = urlsplit(url).path.strip("/")
    return int(path) if path.isdigit() else 0


# The cache lives in its own Redis database, next to the broker's: REDIS_URL's database + 1 (so
# redis://:pw@host:6379/0 caches in /1), unless REDIS_CACHE_URL says otherwise (e.g. another Redis whose
# maxmemory-policy may evict; the broker's must be noeviction). Credentials and TLS come with the URL.
REDIS_CACHE_URL = env(
    "REDIS_CACHE_URL", default=redis_url_with_db(REDIS_URL, redis_db(REDIS_URL) + 1) if REDIS_URL else ""
)
if REDIS_CACHE_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_CACHE_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# The longest job (a bill run of every account) is bounded by the hard time limit below; the broker's
# visibility timeout must exceed it, or Redis would hand an unacknowledged long job to a second worker.
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=2 * 3600)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 300
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 3600}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 3600}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A task delivered this many times without finishing (its worker died each time) is parked, not run again
# (core/task_deliveries.py).
CELERY_TASK_MAX_DELIVERIES = env.int("CELERY_TASK_MAX_DELIVERIES", default=5)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TASK_TRACK_STARTED = True
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True

# One queue per app domain, so each can get its own workers; "default" for project-level jobs.
APP_QUEUES = ("metering", "forecasting", "pricing", "billing", "grid")
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [Queue("default"), *(Queue(name) for name in APP_QUEUES)]  # type: ignore[no-untyped-call]
# Routing by module (the per-task `queue` attribute is deprecated in Celery 5.7).
CELERY_TASK_ROUTES = {f"{name}.tasks.*": {"queue": name} for name in APP_QUEUES}


def _beat(task: str, schedule: object, *, expires: int | None = None) -> dict[str, object]:
    """One beat entry; `expires` (seconds) drops a run that waited longer than its next one would."""
    return {"task": task, "schedule": schedule} | ({"options": {"expires": expires}} if expires else {})


# Periodic jobs: defined here in code and synced into django-celery-beat's tables when beat starts.
# Run exactly one beat process (see README); staff can pause or retime entries in admin.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": _beat("config.tasks.heartbeat", 60.0, expires=55),
    # Metering: refresh the feeder/region aggregates from what changed; VEE nightly; partitions ahead of time.
    "metering-aggregates-refresh": _beat(
        "metering.tasks.aggregates.aggregates_refresh_task", 60.0, expires=55
    ),
    "metering-vee-run": {
        "task": "metering.tasks.vee.vee_run_task",
        "schedule": crontab(hour=3, minute=30),
        "kwargs": {"period_days": 2},
    },
    "metering-reading-partitions": _beat(
        "metering.tasks.readings.reading_partitions_ensure_task", crontab(hour=2, minute=0)
    ),
    # Forecasting: weather forecasts hourly; re-forecast every series hourly; refit the champions daily.
    "forecasting-weather-fetch": _beat(
        "forecasting.tasks.weather.weather_forecasts_fetch", crontab(minute=5), expires=3000
    ),
    "forecasting-forecasts-refresh": _beat(
        "forecasting.tasks.training.forecasts_refresh_all", crontab(minute=15), expires=3000
    ),
    "forecasting-forecasts-retrain": _beat(
        "forecasting.tasks.training.forecasts_retrain_all", crontab(hour=1, minute=30)
    ),
    # Every 15 minutes: fetch tomorrow's day-ahead prices of each market whose results time has passed.
    "pricing-market-prices-fetch-due": _beat(
        "pricing.tasks.markets.market_prices_fetch_due", 900.0, expires=840
    ),
    # Every 15 minutes: publish tomorrow's dynamic rates of each tariff whose market has closed.
    "pricing-dynamic-prices-publish-due": _beat(
        "pricing.tasks.dynamic.dynamic_prices_publish_due_task", 900.0, expires=840
    ),
    # Hourly: verify the ledger and export its signed head (outside the database); verify compares with it.
    "pricing-price-ledger-head-export": _beat(
        "pricing.tasks.dynamic.price_ledger_head_export_task", crontab(minute=5)
    ),
    # Every 15 minutes: schedule tomorrow's battery fleet once its prices are in; re-plan the rest of today
    # when prices, forecasts, limits or states of charge changed (idempotent on its inputs).
    "grid-storage-schedules-due": _beat("grid.tasks.storage.storage_schedules_due_task", 900.0, expires=840),
    "pricing-price-ledger-verify": _beat(
        "pricing.tasks.dynamic.price_ledger_verify_task", crontab(hour=3, minute=0)
    ),
    # Daily after VEE: credit and re-bill issued invoices whose readings were revised since.
    "billing-rebill-revised": _beat(
        "billing.tasks.bill_runs.bill_rebill_revised_task", crontab(hour=4, minute=30)
    ),
    # Hourly: delete expired and revoked OAuth2 tokens (django-oauth-toolkit's `cleartokens`).
    "oauth-tokens-clear": _beat("config.tasks.oauth_tokens_clear", 3600.0, expires=3500),
    # Every 15 minutes: a power flow per quarter hour over the next hours of each network; violations alert
    # staff and create a shedding plan.
    "grid-lookahead": _beat("grid.tasks.powerflow.grid_lookahead_task", 900.0, expires=840),
    "grid-restore-due": _beat("grid.tasks.dispatch.shedding_plans_restore_due_task", 300.0),
    "billing-monthly": {
        # On the 2nd of each month at 03:00 UTC: bill last month (idempotency key monthly-YYYY-MM).
        "task": "billing.tasks.bill_runs.bill_run_monthly",
        "schedule": crontab(day_of_month=2, hour=3, minute=0),
    },
}

# --- GraphQL ------------------------------------------------------------------------------------------------
STRAWBERRY_DJANGO = {
    "FIELD_DESCRIPTION_FROM_HELP_TEXT": True,
    "TYPE_DESCRIPTION_FROM_MODEL_DOCSTRING": True,
    "MUTATIONS_DEFAULT_HANDLE_ERRORS": True,
    "PAGINATION_DEFAULT_LIMIT": 100,
}
GRAPHQL_MAX_DEPTH = env.int("GRAPHQL_MAX_DEPTH", default=10)
GRAPHQL_MAX_ALIASES = env.int("GRAPHQL_MAX_ALIASES", default=15)
GRAPHQL_MAX_TOKENS = env.int("GRAPHQL_MAX_TOKENS", default=4000)
# Lists (cursor connections) return at most this many items per page, and this many when `first` is not
# given; `first`/`last` above it are refused. Request bodies above GRAPHQL_MAX_BODY_BYTES get 413 unparsed.
GRAPHQL_MAX_PAGE_SIZE = env.int("GRAPHQL_MAX_PAGE_SIZE", default=100)
GRAPHQL_MAX_BODY_BYTES = env.int("GRAPHQL_MAX_BODY_BYTES", default=256 * 1024)
# Where `manage.py demo` keeps the logins it printed, so that each run shows the same ones (git-ignored).
DEMO_CREDENTIALS_FILE = env("DEMO_CREDENTIALS_FILE", default=str(BASE_DIR / "var" / "demo-credentials.json"))
# Seconds an invoice's signed PDF link (`Invoice.pdfUrl`) stays valid.
INVOICE_PDF_URL_MAX_AGE = env.int("INVOICE_PDF_URL_MAX_AGE", default=15 * 60)
# Tokens with metering:write may send larger bodies (readingsIngestBlocks: ~ 9 bytes per value).
GRAPHQL_MAX_INGEST_BODY_BYTES = env.int("GRAPHQL_MAX_INGEST_BODY_BYTES", default=6 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(2_621_440, GRAPHQL_MAX_INGEST_BODY_BYTES + 64 * 1024)

# --- OAuth2 (django-oauth-toolkit) --------------------------------------------------------------------------
API_SCOPES = {
    "metering:read": "Read meter points and readings",
    "metering:write": "Create meter points, install meters, ingest readings",
    "forecasting:read": "Read forecasts",
    "forecasting:write": "Run and change forecasts",
    "pricing:read": "Read tariffs, unit rates and market prices",
    "pricing:write": "Create tariffs, publish versions, import prices, declare events",
    "billing:read": "Read customers, bill runs and invoices",
    "billing:write": "Create customers and agreements, start bill runs, issue and void invoices",
    "grid:read": "Read grid topology, schedules and plans",
    "grid:write": "Change grid topology, schedules and plans",
}
OAUTH2_PROVIDER = {
    "SCOPES": API_SCOPES,
    "DEFAULT_SCOPES": ["__all__"],
    "SCOPES_BACKEND_CLASS": "core.api.oauth.GrantedScopes",
    "OAUTH2_VALIDATOR_CLASS": "core.api.oauth.ApiOAuth2Validator",
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 3600,
    "PKCE_REQUIRED": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    # Adopt the OAuth 2.0 Security BCP (RFC 9700) now rather than when the defaults change.
    **{
        f"COMPLIANT_BCP_RFC9700_{name}": True
        for name in (
            "IMPLICIT_GRANT",
            "PASSWORD_GRANT",
            "PKCE_METHOD",
            "ACCESS_TOKEN_TRANSPORT",
            "AUTHZ_RESPONSE_ISS",
            "TOKEN_STORAGE",
            "REFRESH_TOKEN",
            "REDIRECT_URI_SCHEME",
        )
    },
}

OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"

# --- Audit --------------------------------------------------------------------------------------------------
AUDITLOG_INCLUDE_TRACKING_MODELS = (
    {
        "model": "auth.User",
        "exclude_fields": ["password", "last_login"],
        "mask_fields": ["email"],
        "m2m_fields": ["groups", "user_permissions"],
    },
    {"model": "auth.Group", "m2m_fields": ["permissions"]},
    "core.ApiClient",
    {"model": "billing.Customer", "mask_fields": ["email", "address"]},
    "billing.Agreement",
    "billing.Payment",
    "metering.MeterPoint",
    "metering.Meter",
    "forecasting.WeatherLocation",
    "forecasting.WeatherArea",
    "forecasting.Series",
    "pricing.Market",
    "pricing.Tariff",
    "pricing.TariffVersion",
    "pricing.PricingEvent",
    "grid.BatteryAsset",
    "grid.FeederLimit",
    "grid.Network",
    "grid.Load",
    "grid.TopologyEvent",
    "grid.SheddingPlan",
    "grid.Dispatch",
    "grid.Scenario",
    {"model": "oauth2_provider.Application", "exclude_fields": ["client_secret"]},
)
# Personal data in `changes` is hidden entirely (django-auditlog's default keeps half of the value).
AUDITLOG_MASK_CALLABLE = "core.audit.mask_personal"
AUDITLOG_DISABLE_REMOTE_ADDR = False
# Number of reverse proxies in front of the app whose X-Forwarded-For entries are trusted; 0 trusts none.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- Price ledger -------------------------------------------------------------------------------------------
# Key of the ledger entries' HMACs and of the signed chain heads. Keep it outside the database (an attacker
# who can rewrite the ledger must not be able to re-sign it) and apart from DJANGO_SECRET_KEY, so rotating
# that does not invalidate the ledger; production requires it. Changing it invalidates existing signatures.
PRICE_LEDGER_HMAC_KEY = env("PRICE_LEDGER_HMAC_KEY", default=f"price-ledger-development-key:{SECRET_KEY}")

# --- Billing system integration ----------------------------------------------------------------------------
# When set, billing events (invoices, adjustments, payments, bill runs) are POSTed signed to this URL
# (HMAC-SHA256; docs/webhooks.md).
BILLING_WEBHOOK_URL = env("BILLING_WEBHOOK_URL", default="")
BILLING_WEBHOOK_SECRET = env("BILLING_WEBHOOK_SECRET", default="")
# Days from an invoice's issue to its due date when the agreement names no payment terms of its own.
BILLING_PAYMENT_TERMS_DAYS = env.int("BILLING_PAYMENT_TERMS_DAYS", default=14)
# The currency of an account that has no invoice or payment yet (payments must be in the account's currency).
BILLING_DEFAULT_CURRENCY = env("BILLING_DEFAULT_CURRENCY", default="GBP")
# Accounts billed (and committed) together by a bill run: a killed worker loses at most one chunk's work.
BILL_RUN_CHUNK_SIZE = env.int("BILL_RUN_CHUNK_SIZE", default=500)
if BILL_RUN_CHUNK_SIZE < 1:
    raise ImproperlyConfigured(f"BILL_RUN_CHUNK_SIZE must be at least 1, got {BILL_RUN_CHUNK_SIZE}")
# A bill run that meets a transient database error (restart, fail-over) is retried with back-off and jitter.
BILL_RUN_MAX_RETRIES = env.int("BILL_RUN_MAX_RETRIES", default=8)
BILL_RUN_RETRY_BASE_SECONDS = env.float("BILL_RUN_RETRY_BASE_SECONDS", default=5.0)
# --- The supplier on bills (portal, PDF, admin header) ----------------------------------------------------
SUPPLIER_NAME = env("SUPPLIER_NAME", default="Demo Energy Ltd")
SUPPLIER_ADDRESS = env("SUPPLIER_ADDRESS", default="1 Grid Street, London EC1A 1AA")
SUPPLIER_VAT_NUMBER = env("SUPPLIER_VAT_NUMBER", default="GB 123 4567 89")
# The locale money and dates are written in on bills (Babel/CLDR), e.g. en_GB: £1,234.50.
BILL_LOCALE = env("BILL_LOCALE", default="en_GB")
# --- MQTT telemetry (docs/mqtt.md) --------------------------------------------------------------------------
# Production: mqtts://metering-ingest:<password>@broker:8883 (TLS, the ingester's own account).
MQTT_URL = env("MQTT_URL", default="mqtt://127.0.0.1:1883")
# The tariff whose unit rates the battery fleet is scheduled against ("" = no scheduled storage runs), and
# whether schedules are dispatched over MQTT.
GRID_STORAGE_TARIFF_CODE = env("GRID_STORAGE_TARIFF_CODE", default="")
GRID_STORAGE_DISPATCH = env.bool("GRID_STORAGE_DISPATCH", default=False)
# The utility's local zone: schedule and balancing days run from local midnight to local midnight (DST days
# have 23 or 25 hours), and the schedules' step in minutes (30: 46/48/50 a day; 15: 92/96/100).
GRID_STORAGE_TIME_ZONE = env("GRID_STORAGE_TIME_ZONE", default="Europe/London")
# A consumer-response model file (grid.optimize.response.ResponseModel.save) for balancing; "" = the 2013
# London trial's.
GRID_CONSUMER_RESPONSE_FILE = env("GRID_CONSUMER_RESPONSE_FILE", default="")
# The consumer-response hook of billing's tariff comparison (scenarios with `consumer_response`): a dotted
# path to a callable returning `(starts, kwh_e4, rate_micros) -> kwh_e4`. Config injects the grid's balancing
# model here (billing and grid do not import each other); "" refuses such scenarios.
BILLING_CONSUMER_RESPONSE = env(
    "BILLING_CONSUMER_RESPONSE", default="grid.services.balancing.consumer_response_hook"
)
# A stored tariff comparison run on more accounts than this is split into chunks of this many, computed by
# the billing workers as a Celery chord (docs/tariff-analytics.md); smaller runs stay in one task.
BILLING_COMPARISON_CHUNK_ACCOUNTS = env.int("BILLING_COMPARISON_CHUNK_ACCOUNTS", default=2000)
# Power factor turning a transformer's sn_mva into the kW limit of the feeders behind it (networks mapped
# onto feeders; docs/storage.md).
GRID_STORAGE_POWER_FACTOR = env.float("GRID_STORAGE_POWER_FACTOR", default=0.95)
# Solve the scheduled runs' subproblems (feeders, blocks of units) on Celery workers as a chord.
GRID_STORAGE_FAN_OUT = env.bool("GRID_STORAGE_FAN_OUT", default=False)
GRID_STORAGE_STEP_MINUTES = env.int("GRID_STORAGE_STEP_MINUTES", default=30)
if GRID_STORAGE_STEP_MINUTES not in (5, 10, 15, 30, 60):
    raise ImproperlyConfigured(f"GRID_STORAGE_STEP_MINUTES must divide an hour: {GRID_STORAGE_STEP_MINUTES}")
MQTT_CA_FILE = env("MQTT_CA_FILE", default="")  # CA of the broker's certificate; empty: the system's CAs
MQTT_MAX_PAYLOAD_BYTES = env.int("MQTT_MAX_PAYLOAD_BYTES", default=256 * 1024)
if MQTT_MAX_PAYLOAD_BYTES < 1024:
    raise ImproperlyConfigured(f"MQTT_MAX_PAYLOAD_BYTES must be at least 1024, got {MQTT_MAX_PAYLOAD_BYTES}")
# --- Grid ---------------------------------------------------------------------------------------------------
# Hours ahead the 15-minute look-ahead run covers; dispatch plans without approval when true; MQTT topic root
# of load-control instructions (<root>/<network>/<load>/instruction, acknowledgements on .../ack).
GRID_LOOKAHEAD_HOURS = env.int("GRID_LOOKAHEAD_HOURS", default=4)
GRID_AUTO_DISPATCH = env.bool("GRID_AUTO_DISPATCH", default=False)
# The broker account grid dispatch publishes with (load-control instructions, battery schedules): its own
# account with write access under grid/ (deploy/mosquitto/acl), not the ingester's.
GRID_MQTT_URL = env("GRID_MQTT_URL", default=MQTT_URL)
GRID_MQTT_TOPIC_ROOT = env("GRID_MQTT_TOPIC_ROOT", default="grid/loads")
GRID_DISPATCH_ACK_SECONDS = env.float("GRID_DISPATCH_ACK_SECONDS", default=5.0)
GRID_DISPATCH_RETRIES = env.int("GRID_DISPATCH_RETRIES", default=3)

# --- Logging ------------------------------------------------------------------------------------------------
LOG_FORMAT = env("LOG_FORMAT", default="console")  # "json" for structured logs
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "console": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {"default": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["default"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Strawberry logs every client error; core.errors logs the unexpected ones itself.
        "strawberry.execution": {"level": "CRITICAL"},
        # In-process (eager) tasks: no broker connection to report, no per-task chatter.
        "kombu.connection": {"level": "ERROR"},
        "celery.app.trace": {"level": "WARNING"},
        "pandapower": {"level": "WARNING"},
    },
}
