"""Contention is retried, an unavailable database is a 503: what clients see of a busy database.

An app of its own (same database) with short limits: SQLite gives up waiting for the write lock
after 0.2 s, three retries, ``Retry-After: 7``. Contention is injected where the booking service
writes the occupancy (the statement that deadlocks on PostgreSQL), or made for real on SQLite by
another connection that holds the write lock.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError

from booking import create_app
from booking.api.tokens import create_token
from booking.extensions import db as _db
from booking.models import ApiToken, AuditEvent, Booking, Occupancy, Occurrence, OutboxMessage
from booking.services import occupancy
from tests.conftest import free_port

RETRIES = 3
RETRY_AFTER = "7"


def _settings(database_url: str, **extra) -> dict:
    return {
        "TESTING": True,
        "PROPAGATE_EXCEPTIONS": False,  # an error is answered as in production
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SQLITE_BUSY_TIMEOUT": 0.2,
        "DATABASE_STATEMENT_TIMEOUT": 3,
        "DATABASE_CONNECT_TIMEOUT": 2,
        "DATABASE_RETRIES": RETRIES,
        "DATABASE_RETRY_AFTER": int(RETRY_AFTER),
    } | extra


@pytest.fixture(scope="module")
def busy_app(database_url):
    app = create_app(_settings(database_url))
    yield app
    with app.app_context():
        _db.engine.dispose()


@pytest.fixture
def world(busy_app, db, make_room, make_user):
    """A room that approves automatically and a user with an API token."""
    room = make_room()
    _token, plain = create_token(make_user(), "test")
    db.session.commit()
    return {"room_id": room.id, "headers": {"Authorization": f"Bearer {plain}"}}


def _body(room_id: int) -> dict:
    start = datetime.combine(date.today() + timedelta(days=10), clock_time(18))
    return {
        "room_id": room_id,
        "title": "Chorprobe",
        "start": start.isoformat(timespec="minutes"),
        "end": (start + timedelta(hours=2)).isoformat(timespec="minutes"),
        "house_rules_accepted": True,
    }


def _book(app, world):
    with app.app_context():
        return app.test_client().post(
            "/api/v1/bookings", json=_body(world["room_id"]), headers=world["headers"]
        )


def counts() -> dict[str, int]:
    _db.session.rollback()
    return {
        model.__name__: _db.session.scalar(select(func.count()).select_from(model))
        for model in (Booking, Occurrence, Occupancy, AuditEvent, OutboxMessage)
    }


def _contention(dialect: str) -> OperationalError:
    """The error the database driver raises for a deadlock (PostgreSQL) or a held lock."""
    if dialect == "postgresql":
        import psycopg

        orig = psycopg.errors.DeadlockDetected("deadlock detected")
    else:
        orig = sqlite3.OperationalError("database is locked")
        orig.sqlite_errorcode = sqlite3.SQLITE_BUSY
    return OperationalError("INSERT INTO occupancy ...", {}, orig)


@pytest.fixture
def contention(monkeypatch, db):
    """``contention(times)``: the next ``times`` occupancy writes fail as under contention."""
    real = occupancy.occupy
    calls = {"count": 0, "fail": 0}
    error = _contention(db.engine.dialect.name)

    def occupy(*args, **kwargs):
        calls["count"] += 1
        if calls["count"] <= calls["fail"]:
            raise error
        return real(*args, **kwargs)

    def arm(times: int) -> dict:
        calls["fail"] = times
        return calls

    monkeypatch.setattr(occupancy, "occupy", occupy)
    return arm


def test_a_deadlocked_booking_is_retried_and_made_once(busy_app, world, contention):
    calls = contention(2)

    response = _book(busy_app, world)

    assert response.status_code == 201, response.get_data(as_text=True)
    assert calls["count"] == 3
    # The failed attempts left nothing: one booking, its date, its mail, its audit row.
    assert counts() == dict.fromkeys(
        ("Booking", "Occurrence", "Occupancy", "AuditEvent", "OutboxMessage"), 1
    )


def test_contention_beyond_the_retries_is_a_503_with_retry_after(busy_app, world, contention):
    calls = contention(100)

    response = _book(busy_app, world)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == RETRY_AFTER
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "database_unavailable"
    assert calls["count"] == RETRIES + 1
    assert set(counts().values()) == {0}


@pytest.fixture
def write_lock(db):
    """Another process's writer: holds SQLite's write lock until released."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's database lock; PostgreSQL locks rows")
    path = make_url(str(db.engine.url)).database
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    yield holder
    if holder.in_transaction:
        holder.execute("ROLLBACK")
    holder.close()


def test_sqlite_locked_beyond_the_retries_is_a_503(busy_app, world, write_lock):
    started = time.monotonic()
    response = _book(busy_app, world)
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response.headers["Retry-After"] == RETRY_AFTER
    assert response.get_json()["code"] == "database_unavailable"
    # Four waits of 0.2 s and short pauses: the worker is free again within seconds.
    assert 0.8 <= elapsed < 5
    write_lock.execute("ROLLBACK")
    assert set(counts().values()) == {0}


def test_sqlite_lock_released_during_the_retries_books(busy_app, world, write_lock):
    threading.Timer(0.3, lambda: write_lock.execute("ROLLBACK")).start()

    response = _book(busy_app, world)

    assert response.status_code == 201, response.get_data(as_text=True)
    assert counts()["Booking"] == 1


def test_a_failed_note_of_the_tokens_use_never_fails_the_read(busy_app, world, monkeypatch):
    from booking.api import tokens

    def broken(*_args, **_kwargs):
        raise InterfaceError("UPDATE api_token ...", {}, Exception("the connection is closed"))

    monkeypatch.setattr(tokens, "update", broken)
    with busy_app.app_context():
        response = busy_app.test_client().get(
            f"/api/v1/rooms/{world['room_id']}", headers=world["headers"]
        )
    assert response.status_code == 200
    assert _db.session.scalars(select(ApiToken.last_used_at)).one() is None


def test_every_connection_gets_the_limits(busy_app, db):
    """Each new connection of the pool, not only the first, is set up."""
    with busy_app.app_context():
        engine = _db.engine
        connections = [engine.connect() for _ in range(3)]
        try:
            for connection in connections:
                if engine.dialect.name == "sqlite":
                    assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 200
                    assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                    assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                else:
                    assert connection.execute(text("SHOW statement_timeout")).scalar() == "3s"
                    dbapi = connection.connection.dbapi_connection
                    assert dbapi.info.get_parameters()["connect_timeout"] == "2"
        finally:
            for connection in connections:
                connection.close()


@pytest.fixture(scope="module")
def unreachable_app(database_url, tmp_path_factory):
    """The app with a database it cannot reach: a port nobody listens on, a missing folder."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(host="127.0.0.1", port=free_port())
    else:
        url = url.set(database=str(tmp_path_factory.mktemp("gone") / "missing" / "db.sqlite3"))
    app = create_app(_settings(url.render_as_string(hide_password=False)))
    yield app
    with app.app_context():
        _db.engine.dispose()


def _get(app, path: str, **kwargs):
    with app.app_context():
        return app.test_client().get(path, **kwargs)


def test_unreachable_database_is_a_friendly_503_page(unreachable_app):
    response = _get(unreachable_app, "/", headers={"Accept-Language": "de"})

    assert response.status_code == 503
    assert response.headers["Retry-After"] == RETRY_AFTER
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "Vorübergehend nicht erreichbar" in page or "Temporarily unavailable" in page
    assert 'class="kern-alert' in page
    assert "Erneut versuchen" in page or "Try again" in page


def test_unreachable_database_is_a_503_problem_in_the_api(unreachable_app):
    response = _get(unreachable_app, "/api/v1/sites")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == RETRY_AFTER
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "database_unavailable"


def test_unreachable_database_is_a_plain_503_for_feeds(unreachable_app):
    response = _get(unreachable_app, "/ical/public.ics")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == RETRY_AFTER
    assert response.mimetype == "text/plain"


def test_a_page_whose_commit_failed_once_says_its_messages_once(
    busy_app, db, make_room, make_user, make_booking
):
    """A repeated request starts from the session it came with: the failed attempt's flash
    messages are not shown a second time, and the cancellation is made once."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from tests.conftest import PASSWORD

    user = make_user()
    booking = make_booking(user, make_room(), datetime.now().astimezone() + timedelta(days=9))
    booking_id, email = booking.id, user.email
    error = _contention(db.engine.dialect.name)
    commits = {"failed": 0}

    def fail_first_commit(session) -> None:
        # The request's own commit (after the flash messages), not the service's savepoint.
        if commits["failed"] == 0 and not session.in_nested_transaction():
            commits["failed"] += 1
            raise error

    client = busy_app.test_client()

    def send(method: str, path: str, **kwargs):
        with busy_app.app_context():
            return client.open(path, method=method, **kwargs)

    assert send("POST", "/login", data={"email": email, "password": PASSWORD}).status_code == 302
    event.listen(Session, "before_commit", fail_first_commit)
    try:
        response = send("POST", f"/my/bookings/{booking_id}/cancel", data={})
    finally:
        event.remove(Session, "before_commit", fail_first_commit)
    assert commits["failed"] == 1
    assert response.status_code == 302, response.get_data(as_text=True)

    page = send("GET", "/my/bookings").get_data(as_text=True)
    assert page.count("Cancelled: ") + page.count("Abgesagt: ") == 1, page
    _db.session.rollback()
    cancellations = select(func.count(AuditEvent.id)).where(AuditEvent.action.contains("cancel"))
    assert _db.session.scalar(cancellations) == 1


@pytest.mark.parametrize("path", ["/no-such-page", "/rooms/999999999999", "/organisations/1"])
def test_an_error_page_for_someone_logged_in_is_a_503_too(unreachable_app, path):
    """Drawing a 404 or 302 page for a logged-in visitor loads them (a query): with the
    database gone that must still be the friendly 503, not a bare 500."""
    with unreachable_app.app_context():
        client = unreachable_app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = "1:1:a-login-secret"
        response = client.get(path)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == RETRY_AFTER
