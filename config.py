"""Configuration from the environment, with the defaults of the interface contract."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _secret_key() -> str | None:
    """SECRET_KEY from the environment, else the instance's own (written by `make run`)."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = INSTANCE_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip() or None
    return None


# The demo's and the tests' phone number for the service: from Ofcom's drama range for
# Birmingham (0121 496 0000 to 0999), so it can never ring anyone.
DEMO_SERVICE_PHONE = "0121 496 0000"


class Config:
    SECRET_KEY = _secret_key()
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'booking.sqlite'}"
    )
    # Checked before each use, so that connections a restarted database dropped are replaced.
    # Statement parameters never reach an error message, so never a log: they hold names,
    # mobiles and password hashes.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}
    # The connection pool of each process, on PostgreSQL (create_app applies it there
    # only; SQLite keeps its own set-up). Waiting for a connection gives up well before
    # gunicorn's worker timeout, so that a starved request fails with a 500, not a killed worker.
    DATABASE_POOL = {
        "pool_size": _int("DATABASE_POOL_SIZE", 5),
        "max_overflow": _int("DATABASE_MAX_OVERFLOW", 10),
        "pool_recycle": _int("DATABASE_POOL_RECYCLE", 1800),
        "pool_timeout": _int("DATABASE_POOL_TIMEOUT", 10),
    }
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    # Printed on every notice: the number a person calls to rearrange, or to ask for an
    # interpreter or help with access. Required: create_app refuses to start without it.
    SERVICE_PHONE = os.environ.get("SERVICE_PHONE", "").strip() or None
    # Who issues the written notice: the force whose officer gives it.
    POLICE_FORCE = os.environ.get("POLICE_FORCE", "West Midlands Police")

    SLOT_MINUTES = _int("SLOT_MINUTES", 30)
    BOOKING_MIN_LEAD_MINUTES = _int("BOOKING_MIN_LEAD_MINUTES", 60)
    BOOKING_MAX_DAYS_AHEAD = _int("BOOKING_MAX_DAYS_AHEAD", 28)
    DISPUTED_RESULT_WORKING_DAYS = _int("DISPUTED_RESULT_WORKING_DAYS", 5)
    # An appointment for an adjourned suitability assessment ends at least this many working
    # days before the adjourned hearing, so the report can reach the court.
    SUITABILITY_LEAD_WORKING_DAYS = _int("SUITABILITY_LEAD_WORKING_DAYS", 1)
    # Days after a referral into treatment when, with no word of an entry, it is overdue.
    ENTRY_CHECK_DAYS = _int("ENTRY_CHECK_DAYS", 21)
    ROTA_MAX_HOURS_PER_WEEK = _int("ROTA_MAX_HOURS_PER_WEEK", 40)

    REMINDER_DAY_BEFORE_AT = os.environ.get("REMINDER_DAY_BEFORE_AT", "18:00")
    REMINDER_HOURS_BEFORE = _int("REMINDER_HOURS_BEFORE", 2)
    SMS_QUIET_HOURS = os.environ.get("SMS_QUIET_HOURS", "21:00-08:00")
    SMS_BACKEND = os.environ.get("SMS_BACKEND", "console")
    TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID")
    TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN")
    TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER")
    TWILIO_API_BASE_URL = os.environ.get("TWILIO_API_BASE_URL", "https://api.twilio.com")
    # GOV.UK Notify: an API key, the SMS template whose content is ((body)), and the bearer
    # token Notify is given for its delivery receipts (/sms/notify-status).
    NOTIFY_API_KEY = os.environ.get("NOTIFY_API_KEY")
    NOTIFY_TEMPLATE_ID = os.environ.get("NOTIFY_TEMPLATE_ID")
    NOTIFY_BASE_URL = os.environ.get("NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk")
    NOTIFY_CALLBACK_TOKEN = os.environ.get("NOTIFY_CALLBACK_TOKEN")
    SMS_MAX_ATTEMPTS = _int("SMS_MAX_ATTEMPTS", 5)
    SMS_RETRY_BASE_SECONDS = _int("SMS_RETRY_BASE_SECONDS", 60)
    SMS_ALLOW_TEST_NUMBERS = _bool("SMS_ALLOW_TEST_NUMBERS", False)

    RETENTION_DAYS = _int("RETENTION_DAYS", 90)
    API_TOKEN_DAYS = _int("API_TOKEN_DAYS", 90)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # /metrics for whoever sends it as a bearer token; unset, for this machine only.
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None

    # Sign-in with the force's OpenID Connect provider (booking/web/oidc.py and
    # booking/accounts/single_sign_on.py), and whether passwords still work beside it.
    OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "").strip() or None
    OIDC_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID")
    OIDC_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET")
    OIDC_ROLE_CLAIM = os.environ.get("OIDC_ROLE_CLAIM", "").strip() or None
    # Which values of that claim give which role ("sergeant=ARS.Sergeant,worker=…"); unset,
    # the values are the roles' own names.
    OIDC_ROLE_VALUES = os.environ.get("OIDC_ROLE_VALUES")
    PASSWORD_LOGIN = _bool("PASSWORD_LOGIN", True)

    IDLE_TIMEOUT_MINUTES = _int("IDLE_TIMEOUT_MINUTES", 30)
    # The server signs an idle session out (booking/web/auth.py); the cookie itself lasts as
    # long as a booking draft, so that a form sent after the time-out still says whose it was
    # and what was typed can wait for that person to sign in again.
    PERMANENT_SESSION_LIFETIME = 24 * 60 * 60
    # How many proxies in front of the app set X-Forwarded-* (0: none, the headers are ignored).
    PROXY_FIX_HOPS = _int("PROXY_FIX_HOPS", 0)
    MAX_CONTENT_LENGTH = 64 * 1024
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = PUBLIC_BASE_URL.startswith("https://")
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    TIMEZONE = "Europe/London"


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SERVICE_PHONE = DEMO_SERVICE_PHONE
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "sqlite://")
    SMS_ALLOW_TEST_NUMBERS = True
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    # Tests move the service clock by days while signed in; the idle time-out's own tests set
    # IDLE_TIMEOUT_MINUTES back to a real value.
    IDLE_TIMEOUT_MINUTES = 60 * 24 * 366
    # Likewise tokens issued at the start of a test outlive its clock's moves; the expiry's own
    # tests set API_TOKEN_DAYS back to a real value.
    API_TOKEN_DAYS = 3660
    # The tests' OpenID provider runs on loopback over plain HTTP; the service's must use HTTPS.
    OIDC_ALLOW_HTTP_ISSUER = True
    # Fast hashing for test users only; the service uses scrypt.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
