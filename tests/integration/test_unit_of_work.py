"""One unit of work per request and per command: what a refused or failed request wrote is gone.

A small app of its own (same database) carries routes that call the real booking service and
then fail in the ways a view can: an unexpected exception (500), an answer with a form error
(422), a refusal answered with a redirect (302). Only a successful answer keeps what was written.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
import pytest
from flask import Blueprint, redirect
from sqlalchemy import func, select

from booking import create_app, unit_of_work
from booking.database import begin_write
from booking.extensions import db as _db
from booking.models import AuditEvent, Booking, Occupancy, Occurrence, OutboxMessage
from booking.services import occupancy
from booking.services.bookings import BookingCommand, request_booking
from booking.services.errors import Conflict

START = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)


@pytest.fixture(scope="module")
def probe_app(database_url):
    """The application with extra routes and a command that write and then fail."""
    app = create_app(
        {
            "TESTING": True,
            "PROPAGATE_EXCEPTIONS": False,  # a failing view answers 500, as in production
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    probes = Blueprint("probes", __name__)
    state = {}

    def book():
        command = BookingCommand(
            room_id=state["room_id"], title="Probe", start=START, end=START + timedelta(hours=1)
        )
        return request_booking(_db.session.get(type(state["user"]), state["user"].id), command)

    @probes.post("/probe/then-crash")
    def then_crash():
        book()
        raise RuntimeError("a bug after the service wrote its rows")

    @probes.post("/probe/then-422")
    def then_422():
        book()
        return "the form again, with an error", 422

    @probes.post("/probe/refused-then-redirect")
    def refused_then_redirect():
        begin_write()  # as every writing service starts (SQLite: the write lock first)
        try:
            with occupancy.guarded("refused"):
                book()
                raise Conflict("refused after writing")
        except Conflict:
            return redirect("/")  # the usual "flash and go back" after a refusal

    @probes.post("/probe/ok")
    def ok():
        return {"id": book().id}, 201

    @app.cli.command("probe-write")
    @click.option("--fail/--no-fail", default=False)
    @unit_of_work.command
    def probe_write(fail: bool) -> None:
        book()
        if fail:
            raise click.ClickException("failed after writing")

    app.register_blueprint(probes)
    app.extensions["probe_state"] = state
    yield app
    with app.app_context():  # its own engine: close its connections, not leave them to GC
        _db.engine.dispose()


@pytest.fixture
def probe(probe_app, db, make_room, make_user):
    room = make_room()
    user = make_user()
    db.session.commit()
    probe_app.extensions["probe_state"].update(room_id=room.id, user=user)
    return probe_app


def counts() -> dict[str, int]:
    _db.session.rollback()
    return {
        model.__name__: _db.session.scalar(select(func.count()).select_from(model))
        for model in (Booking, Occurrence, Occupancy, AuditEvent, OutboxMessage)
    }


NOTHING = {"Booking": 0, "Occurrence": 0, "Occupancy": 0, "AuditEvent": 0, "OutboxMessage": 0}


@pytest.mark.parametrize(
    ("path", "status"),
    [("/probe/then-crash", 500), ("/probe/then-422", 422), ("/probe/refused-then-redirect", 302)],
)
def test_a_request_that_fails_after_writing_leaves_nothing(probe, path, status):
    with probe.app_context():
        response = probe.test_client().post(path)
    assert response.status_code == status
    assert counts() == NOTHING


def test_a_successful_request_keeps_everything_it_wrote(probe):
    with probe.app_context():
        response = probe.test_client().post("/probe/ok")
    assert response.status_code == 201
    # The booking, its date, the room's occupancy, the audit row and the requester's mail.
    assert counts() == {
        "Booking": 1,
        "Occurrence": 1,
        "Occupancy": 1,
        "AuditEvent": 1,
        "OutboxMessage": 1,
    }


def test_a_command_is_one_unit_of_work_too(probe):
    runner = probe.test_cli_runner()
    failed = runner.invoke(args=["probe-write", "--fail"])
    assert failed.exit_code == 1 and "failed after writing" in failed.output
    assert counts() == NOTHING
    done = runner.invoke(args=["probe-write"])
    assert done.exit_code == 0, done.output
    assert counts()["Booking"] == 1
