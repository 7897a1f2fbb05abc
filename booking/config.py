"""Settings for Raumbörse.

Everything a deployment changes comes from the environment, so the same code runs as the embedded
SQLite default on a laptop and as several gunicorn workers sharing PostgreSQL and Redis.
"""

from __future__ import annotations

import os
from datetime import timedelta

from booking.languages import LANGUAGES
from booking.paths import instance_dir

# Used only when FLASK_ENV/BOOKING_ENV is not "production"; create_app refuses it in production.
DEVELOPMENT_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 (refused in production)


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def _frame_ancestors(value: str) -> str:
    """A CSP source list (``*``, or origins separated by spaces); refuse anything that could
    end the directive and start another."""
    value = " ".join(value.split()) or "*"
    if any(c in value for c in ";,") or not (value.isascii() and value.isprintable()):
        raise ValueError(f"EMBED_FRAME_ANCESTORS is not a list of origins: {value!r}")
    return value


def normalise_database_url(url: str) -> str:
    """Accept the common ``postgres://``/``postgresql://`` spellings and use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


class Config:
    """Read once per ``create_app`` call, so tests can change the environment between apps."""

    def __init__(self) -> None:
        self.ENV = os.environ.get("BOOKING_ENV", "development")
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or (
            None if self.ENV == "production" else DEVELOPMENT_SECRET_KEY
        )
        default_db = f"sqlite:///{instance_dir() / 'raumboerse.sqlite3'}"
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(
            os.environ.get("DATABASE_URL", default_db)
        )
        # A database that is gone or stuck is answered with 503 and Retry-After within seconds
        # instead of holding a worker until gunicorn kills it (docs/architecture.md, "Outages"):
        # waiting for a pooled connection, connecting (PostgreSQL), one statement (PostgreSQL;
        # the client gives a connection up 2 s after this), the write lock (SQLite). Seconds;
        # 0 turns the connect or statement timeout off (e.g. for a long migration).
        self.DATABASE_POOL_TIMEOUT = _float("DATABASE_POOL_TIMEOUT", 5.0)
        self.DATABASE_CONNECT_TIMEOUT = _float("DATABASE_CONNECT_TIMEOUT", 5.0)
        self.DATABASE_STATEMENT_TIMEOUT = _float("DATABASE_STATEMENT_TIMEOUT", 15.0)
        self.SQLITE_BUSY_TIMEOUT = _float("SQLITE_BUSY_TIMEOUT", 5.0)
        # A transaction that deadlocked, failed to serialise or found SQLite locked is run again
        # this many times before the answer is a 503 (booking/unit_of_work.py).
        self.DATABASE_RETRIES = _int("DATABASE_RETRIES", 3)
        # The Retry-After of a 503 while the database is unavailable (seconds).
        self.DATABASE_RETRY_AFTER = _int("DATABASE_RETRY_AFTER", 30)
        # pool_timeout (DATABASE_POOL_TIMEOUT) is added by the app factory once the final database
        # URI is known: an in-memory SQLite database has one connection and no pool to wait for.
        # A pooled PostgreSQL connection idle for longer than this is tried before use (booking/
        # database.py); 0 tries every one (as SQLAlchemy's pool_pre_ping, a round trip each).
        self.DATABASE_PING_AFTER = _float("DATABASE_PING_AFTER", 10.0)
        self.SQLALCHEMY_ENGINE_OPTIONS: dict = {}
        self.BOOKING_TIMEZONE = os.environ.get("BOOKING_TIMEZONE", "Europe/Berlin")
        self.BOOKING_SITE_NAME = os.environ.get("BOOKING_SITE_NAME", "Raumbörse Iserlohn")
        # Absolute base URL for links in mails and calendar feeds (behind a proxy the request host
        # may be internal).
        self.BOOKING_BASE_URL = os.environ.get("BOOKING_BASE_URL", "").rstrip("/")

        # Sessions: secure cookies everywhere but plain-HTTP development.
        secure = _bool("SESSION_COOKIE_SECURE", self.ENV == "production")
        self.SESSION_COOKIE_SECURE = secure
        self.REMEMBER_COOKIE_SECURE = secure
        self.SESSION_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        # "Stay logged in on this device": how long the remember-me cookie lasts unused; each use
        # replaces it with a new one that lasts as long again.
        self.REMEMBER_COOKIE_DURATION = timedelta(days=_int("REMEMBER_DAYS", 30))
        self.PERMANENT_SESSION_LIFETIME = _int("SESSION_LIFETIME_SECONDS", 8 * 3600)
        self.WTF_CSRF_TIME_LIMIT = None  # tied to the session instead; long forms must not expire
        # Uploads (site photos, CSV and iCalendar files): a request body larger than this is
        # refused with 413 before it is read; each form has a smaller limit of its own. The
        # largest is a site photo (5 MB, booking.services.site_photos); 8 MB leaves room for the
        # form around it, and a photo a little over 5 MB still gets the form's own message.
        self.MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 8 * 1024 * 1024)
        # Form fields that are not files (and a whole URL-encoded form, see
        # booking/web/request_size.py): the longest legitimate text is a few KB.
        self.MAX_FORM_MEMORY_SIZE = _int("MAX_FORM_MEMORY_SIZE", 500 * 1024)

        # Languages: German first, English second.
        self.LANGUAGES = LANGUAGES
        self.BABEL_DEFAULT_LOCALE = "de"
        self.BABEL_DEFAULT_TIMEZONE = self.BOOKING_TIMEZONE

        # Rate limits (Flask-Limiter). Memory in the embedded default; Redis for several workers.
        self.RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
        self.RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
        self.RATELIMIT_DEFAULT = os.environ.get("RATELIMIT_DEFAULT", "")
        self.RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN", "10 per minute;50 per hour")
        # Failed log-ins per account (the e-mail address tried), from any address: short windows,
        # so someone guessing cannot lock the rightful user out for long; a success costs nothing.
        self.RATELIMIT_LOGIN_ACCOUNT = os.environ.get(
            "RATELIMIT_LOGIN_ACCOUNT", "20 per 15 minutes"
        )
        self.RATELIMIT_REGISTER = os.environ.get("RATELIMIT_REGISTER", "5 per hour;20 per day")
        # Password-reset requests: per address asked for (mails sent to one person) and per client.
        self.RATELIMIT_RESET_ACCOUNT = os.environ.get("RATELIMIT_RESET_ACCOUNT", "3 per hour")
        self.RATELIMIT_RESET = os.environ.get("RATELIMIT_RESET", "10 per hour")
        # JSON API: per token when one is sent, else per client address.
        self.RATELIMIT_API = os.environ.get("RATELIMIT_API", "300 per minute")
        self.RATELIMIT_HEADERS_ENABLED = True
        # Reverse proxies in front of the app whose X-Forwarded-For hop is trusted (0: none).
        self.PROXY_HOPS = _int("PROXY_HOPS", 0)

        # Mail: printed to the log unless an SMTP host is configured.
        self.MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
        self.MAIL_PORT = _int("MAIL_PORT", 25)
        self.MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
        self.MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
        self.MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
        # STARTTLS verifies the server's certificate; a file of PEM certificates to trust
        # instead of the system's CAs (a private CA, a self-signed server).
        self.MAIL_CA_FILE = os.environ.get("MAIL_CA_FILE", "")
        # Seconds to wait for the SMTP server; keep well below the 10-minute claim lease.
        self.MAIL_TIMEOUT = _int("MAIL_TIMEOUT", 20)
        self.MAIL_DEFAULT_SENDER = os.environ.get(
            "MAIL_DEFAULT_SENDER", "Raumbörse <noreply@raumboerse.invalid>"
        )

        # Privacy (#13): who answers questions about personal data (shown on /privacy; empty:
        # the page says no contact is configured yet), and how long personal data are kept
        # (``flask purge``, run daily, anonymises and deletes what is older).
        self.PRIVACY_CONTACT = os.environ.get("PRIVACY_CONTACT", "").strip()
        self.RETENTION_MONTHS = _int("RETENTION_MONTHS", 24)
        self.MAIL_RETENTION_DAYS = _int("MAIL_RETENTION_DAYS", 30)

        # Calendar feeds.
        self.FEED_TTL_SECONDS = _int("FEED_TTL_SECONDS", 3600)
        self.FEED_DAYS_BACK = _int("FEED_DAYS_BACK", 90)
        self.FEED_DAYS_AHEAD = _int("FEED_DAYS_AHEAD", 548)
        # Rendered feed bodies kept per process, keyed by ETag (0 turns the cache off).
        self.FEED_CACHE_BYTES = _int("FEED_CACHE_BYTES", 32 * 1024 * 1024)
        # Which sites may show the embeddable offers list (/embed/offers) in a frame: a CSP
        # frame-ancestors source list; "*" (the default) means any, e.g. "https://www.iserlohn.de".
        self.EMBED_FRAME_ANCESTORS = _frame_ancestors(os.environ.get("EMBED_FRAME_ANCESTORS", ""))

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.isupper()}
