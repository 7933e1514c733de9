"""Production: PostgreSQL with a connection pool, Redis, secure cookies, JSON logs. Secrets must be set."""

from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES, IS_POSTGRES, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
PRICE_LEDGER_HMAC_KEY = env("PRICE_LEDGER_HMAC_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

if IS_POSTGRES:
    # psycopg 3 connection pool per process; persistent connections (CONN_MAX_AGE) do not mix with it.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN", default=2),
        "max_size": env.int("DATABASE_POOL_MAX", default=10),
        "timeout": 10,
    }

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.int("TRUSTED_PROXY_COUNT", 0) else None
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
# TLS usually ends at the proxy; turn these on where the app itself should enforce HTTPS.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
LOG_FORMAT = env("LOG_FORMAT", default="json")
LOGGING["handlers"]["default"]["formatter"] = LOG_FORMAT  # noqa: F405
