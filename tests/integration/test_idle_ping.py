"""A pooled PostgreSQL connection closed by the server while idle is replaced before a request
uses it; one in steady use is not tried (``DATABASE_PING_AFTER``, booking/database.py)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from booking import create_app
from booking.extensions import db as _db


def _app(database_url: str, ping_after: float):
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret",
            "RATELIMIT_ENABLED": False,
            "DATABASE_PING_AFTER": ping_after,
        }
    )


def _backend_pid() -> int:
    pid = _db.session.scalar(text("SELECT pg_backend_pid()"))
    _db.session.remove()  # back to the pool
    return pid


def _terminate(database_url: str, pid: int) -> None:
    """Close a connection from the server's side, as a restart or failover would."""
    engine = create_engine(make_url(database_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    engine.dispose()


@pytest.fixture
def postgres_url(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server to close a connection")
    return database_url


def test_a_connection_closed_while_idle_is_replaced_unnoticed(postgres_url):
    app = _app(postgres_url, ping_after=0.05)
    with app.app_context():
        first = _backend_pid()
        _terminate(postgres_url, first)
        time.sleep(0.1)  # idle for longer than DATABASE_PING_AFTER
        assert _backend_pid() != first  # tried, found closed, replaced: no error
        _db.engine.dispose()


def test_a_connection_in_steady_use_is_not_tried(postgres_url):
    """The trade-off, made visible: within DATABASE_PING_AFTER nobody tries the connection, so
    the one request that meets a connection closed a moment ago fails (the app answers 503), and
    the pool is renewed for the next."""
    app = _app(postgres_url, ping_after=3600)
    with app.app_context():
        first = _backend_pid()
        _terminate(postgres_url, first)
        with pytest.raises(OperationalError):
            _db.session.scalar(text("SELECT 1"))
        _db.session.remove()
        assert _backend_pid() != first
        _db.engine.dispose()
