"""Fixtures shared by every test layer.

The same tests run on SQLite (default: a temporary file per worker) and on PostgreSQL when
``TEST_DATABASE_URL`` names one; a separate database per xdist worker is created next to it.
The schema is built by the real migrations, so every test run also proves them.
"""

from __future__ import annotations

import itertools
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from flask import has_app_context
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from booking import create_app
from booking.extensions import db as _db
from booking.models import (
    ApprovalPolicy,
    Feature,
    Membership,
    OpeningWindow,
    Organisation,
    OrganisationKind,
    Room,
    Site,
    SiteKind,
    User,
)
from booking.services.passwords import hash_password

# On a loaded 2-core machine (two test workers, a browser, PostgreSQL) drawing examples can be
# slow; that says nothing about the code under test, so the speed health check is off.
settings.register_profile("raumboerse", suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("raumboerse")

PASSWORD = "correct horse battery"
_PASSWORD_HASH = hash_password(PASSWORD)  # argon2 is slow on purpose; hash once per run


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _admin_engine(url):
    return create_engine(url, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    """A fresh database for this test process; on PostgreSQL one per run and worker.

    The name carries the process id, so two test runs on one server never share a database,
    and it is dropped again at the end.
    """
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path_factory.getbasetemp() / f'test-{_worker()}.sqlite3'}"
        return
    url = make_url(base.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"{url.database}_rb_{_worker()}_{os.getpid()}"
    admin = _admin_engine(url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class RequestClient(FlaskClient):
    """A test client whose every request runs as it would in production.

    Before a request, what the test wrote so far is committed (it is the world the request
    finds); the request then gets an application context, a database session and a ``g`` of
    its own, so the unit of work at the edge commits or rolls back the request's work only, and
    nothing (Flask-Login's user, Babel's locale) is carried from one request into the next.
    """

    def open(self, *args, **kwargs):
        if has_app_context() and _db.session.registry.has():
            _db.session.commit()
        kwargs.setdefault("buffered", True)  # read the whole answer inside the request's context
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(database_url):
    from flask_migrate import upgrade

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            # The race tests hold twenty connections at once.
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "pool_pre_ping": True,
                "pool_size": 5,
                "max_overflow": 25,
            },
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "SERVER_NAME": "raumboerse.test",
            "BOOKING_BASE_URL": "http://raumboerse.test",
        }
    )
    app.test_client_class = RequestClient
    with app.app_context():
        upgrade()
        # The equipment list the migrations seeded: every test starts with it (see _truncate).
        _SEEDED_FEATURES[:] = [
            dict(row._mapping) for row in _db.session.execute(Feature.__table__.select())
        ]
        _db.session.remove()
    yield app
    with app.app_context():
        _db.engine.dispose()


_SEEDED_FEATURES: list[dict] = []


def _truncate() -> None:
    # catalogue_version keeps its one row (migration 0006): the triggers give it a new value
    # as the rooms go, so the next test's catalogue cache cannot see this test's rooms.
    tables = [t.name for t in reversed(_db.metadata.sorted_tables) if t.name != "catalogue_version"]
    if _db.engine.dialect.name == "postgresql":
        _db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            _db.session.execute(text(f"DELETE FROM {table}"))
    _db.session.execute(Feature.__table__.insert(), _SEEDED_FEATURES)  # the seeded list again
    _db.session.commit()


@pytest.fixture
def db(app) -> Iterator:
    """An app context on a clean database; everything is deleted again afterwards."""
    with app.app_context():
        yield _db
        _db.session.rollback()
        _truncate()
        _db.session.remove()


@pytest.fixture
def reset_database(db):
    """Empty the database within a test (for property tests that build a world per example)."""

    def reset() -> None:
        _db.session.rollback()
        _truncate()

    return reset


@pytest.fixture
def client(app, db):
    return app.test_client()


_counter = itertools.count(1)


@pytest.fixture
def make_site(db):
    def make(**kwargs) -> Site:
        n = next(_counter)
        site = Site(
            name=kwargs.pop("name", f"Site {n}"),
            kind=kwargs.pop("kind", SiteKind.SCHOOL),
            district=kwargs.pop("district", "Innenstadt"),
            street=kwargs.pop("street", f"Teststraße {n}"),
            postcode="58636",
            **kwargs,
        )
        db.session.add(site)
        db.session.flush()
        return site

    return make


@pytest.fixture
def make_room(db, make_site):
    def make(site: Site | None = None, *, features=(), hours=None, **kwargs) -> Room:
        site = site or make_site()
        n = next(_counter)
        defaults = {
            "name": f"Room {n}",
            "capacity": 30,
            "approval_policy": ApprovalPolicy.AUTOMATIC,
            "min_lead_minutes": 0,
            "max_advance_days": 800,
            "min_duration_minutes": None,
            "max_duration_minutes": None,
        }
        room = Room(site=site, **(defaults | kwargs))
        room.features = features
        db.session.add(room)
        db.session.flush()
        for weekday, opens, closes in hours or ():
            db.session.add(
                OpeningWindow(
                    site_id=site.id, room_id=room.id, weekday=weekday, opens=opens, closes=closes
                )
            )
        db.session.flush()
        return room

    return make


@pytest.fixture
def make_user(db):
    def make(**kwargs) -> User:
        n = next(_counter)
        organisations = kwargs.pop("organisations", ())
        manages = kwargs.pop("manages", ())
        user = User(
            email=kwargs.pop("email", f"user{n}@example.org"),
            name=kwargs.pop("name", f"User {n}"),
            password_hash=_PASSWORD_HASH,
            **kwargs,
        )
        for organisation in organisations:
            user.memberships.append(Membership(organisation=organisation))
        user.managed_sites.extend(manages)
        db.session.add(user)
        db.session.flush()
        return user

    return make


@pytest.fixture
def make_organisation(db):
    def make(**kwargs) -> Organisation:
        n = next(_counter)
        organisation = Organisation(
            name=kwargs.pop("name", f"Verein {n}"),
            kind=kwargs.pop("kind", OrganisationKind.ASSOCIATION),
            **kwargs,
        )
        db.session.add(organisation)
        db.session.flush()
        return organisation

    return make


@pytest.fixture
def now() -> datetime:
    """A fixed 'now' for rule checks: 1 September 2026, 09:00 UTC."""
    return datetime(2026, 9, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def make_booking(db):
    """Request a booking through the real service (so occupancy rows are right)."""
    from booking.services.bookings import BookingCommand, request_booking

    def make(user, room, start: datetime, minutes: int = 60, *, now=None, **kwargs):
        command = BookingCommand(
            room_id=room.id,
            title=kwargs.pop("title", "Training"),
            start=start,
            end=start + timedelta(minutes=minutes),
            house_rules_accepted=True,
            **kwargs,
        )
        booking = request_booking(user, command, now=now or datetime(2026, 1, 1, tzinfo=UTC))
        db.session.commit()
        return booking

    return make


@pytest.fixture
def login_as(client):
    """Log a user in through the real /login form (session protection stays on)."""

    def log_in(user, password: str = PASSWORD):
        _db.session.commit()
        response = client.post("/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return log_in


@pytest.fixture
def new_client(app, db):
    """Make further independent clients (another browser) for the same test."""
    return app.test_client


# --- mail through a real SMTP server ------------------------------------------------------------


def free_port() -> int:
    """A TCP port on localhost nobody listens on (yet)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpInbox:
    """What the local SMTP server received: (recipients, parsed message) pairs."""

    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m for rcpt, m in self.messages if address in rcpt]

    def recipients(self) -> list[str]:
        return [r for rcpt, _ in self.messages for r in rcpt]


@pytest.fixture
def smtp(app, monkeypatch) -> Iterator[SmtpInbox]:
    """A real SMTP server (aiosmtpd) on localhost that the app's outbox delivers to."""
    inbox = SmtpInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", controller.port)
    monkeypatch.setitem(app.config, "MAIL_USE_TLS", False)
    monkeypatch.setitem(app.config, "MAIL_USERNAME", "")
    yield inbox
    controller.stop()
