"""A booking submission counts once, however often it arrives.

Ten threads, each with its own application context and database session, send the very same
submission (one submission key) at the same moment: one booking is made, and all ten answers
name it. On SQLite the write lock taken before the look-up serialises them; on PostgreSQL the
unique submission key stops the late inserts and the look-up after that finds the first booking.
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from booking.extensions import db as _db
from booking.models import (
    ApprovalPolicy,
    AuditEvent,
    Booking,
    Occupancy,
    Occurrence,
    OccurrenceStatus,
    OutboxMessage,
    User,
)
from booking.services import bookings as svc
from booking.services.errors import Conflict, InvalidRequest

SENDERS = 10
NOW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
START = datetime(2026, 10, 6, 18)


def command(room, key: str | None = "web:1:same-form", **changes) -> svc.BookingCommand:
    fields = {
        "room_id": room.id,
        "title": "Chorprobe",
        "start": START,
        "end": START + timedelta(hours=2),
        "house_rules_accepted": True,
        "submission_key": key,
    }
    return svc.BookingCommand(**(fields | changes))


def count(db, model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def send_together(app, user_id: int, cmd: svc.BookingCommand) -> list[tuple[str, int | None]]:
    """Send ``cmd`` from SENDERS threads at once; each answer: (outcome, booking id)."""
    barrier = threading.Barrier(SENDERS)
    answers: list[tuple[str, int | None]] = [("", None)] * SENDERS

    def send(i: int) -> None:
        with app.app_context():
            user = _db.session.get(User, user_id)
            barrier.wait(timeout=60)
            try:
                submission = svc.submit_booking(user, cmd, now=NOW)
                booking_id = submission.booking.id
                _db.session.commit()
                answers[i] = ("replayed" if submission.replayed else "booked", booking_id)
            except Exception as exc:  # any other outcome is a failure worth seeing
                _db.session.rollback()
                answers[i] = (f"error: {exc!r}", None)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


@pytest.mark.parametrize(
    "policy", [ApprovalPolicy.AUTOMATIC, ApprovalPolicy.MANUAL], ids=["approved", "pending"]
)
def test_ten_concurrent_identical_submissions_make_one_booking(
    app, db, make_room, make_user, policy
):
    room = make_room(approval_policy=policy)
    user = make_user()
    # What one submission writes, measured on a room like it: its audit event and its mails.
    svc.request_booking(user, command(make_room(approval_policy=policy), key=None), now=NOW)
    db.session.commit()
    one_submission = {model: count(db, model) for model in (AuditEvent, OutboxMessage)}
    assert one_submission[OutboxMessage] >= 1
    cmd = command(room, key=f"web:{user.id}:one-tap-too-many")

    answers = send_together(app, user.id, cmd)

    outcomes = [outcome for outcome, _ in answers]
    assert outcomes.count("booked") == 1, answers
    assert outcomes.count("replayed") == SENDERS - 1, answers
    (booking_id,) = {booking_id for _, booking_id in answers}
    db.session.rollback()  # see what the senders committed
    assert db.session.scalars(select(Booking.id).where(Booking.room_id == room.id)).all() == [
        booking_id
    ]
    booking = db.session.get(Booking, booking_id)
    assert booking.submission_key == cmd.submission_key
    assert booking.submission_digest == cmd.digest()
    expected = (
        OccurrenceStatus.APPROVED
        if policy is ApprovalPolicy.AUTOMATIC
        else OccurrenceStatus.PENDING
    )
    assert [o.status for o in booking.occurrences] == [expected]
    # One change, told once: one audit event, the mails of one submission, the time held once.
    for model, written in one_submission.items():
        assert count(db, model) == 2 * written, model
    assert count(db, Occurrence) == 2
    assert count(db, Occupancy) == (2 if policy is ApprovalPolicy.AUTOMATIC else 0)


def test_a_repeated_submission_answers_with_the_first_booking(db, make_room, make_user):
    room = make_room(approval_policy=ApprovalPolicy.MANUAL)
    user = make_user()
    cmd = command(room, key=f"web:{user.id}:back-and-book-again")

    first = svc.submit_booking(user, cmd, now=NOW)
    db.session.commit()
    again = svc.submit_booking(user, cmd, now=NOW)
    db.session.commit()

    assert first.replayed is False
    assert again.replayed is True
    assert again.booking.id == first.booking.id
    assert svc.request_booking(user, cmd, now=NOW).id == first.booking.id
    assert count(db, Booking) == 1
    assert count(db, AuditEvent) == 1


def test_the_same_key_with_other_details_books_nothing(db, make_room, make_user):
    room = make_room(approval_policy=ApprovalPolicy.MANUAL)
    user = make_user()
    svc.request_booking(user, command(room, key="web:7:k"), now=NOW)
    db.session.commit()

    with pytest.raises(InvalidRequest) as refused:
        svc.request_booking(user, command(room, key="web:7:k", title="Andere Probe"), now=NOW)

    assert refused.value.code == "idempotency_key_reused"
    assert refused.value.field == "submission_key"
    assert count(db, Booking) == 1


def test_someone_elses_key_reveals_nothing(db, make_room, make_user):
    room = make_room(approval_policy=ApprovalPolicy.MANUAL)
    owner, other = make_user(), make_user()
    svc.request_booking(owner, command(room, key="shared", title="Geheime Sitzung"), now=NOW)
    db.session.commit()

    with pytest.raises(InvalidRequest) as refused:
        svc.submit_booking(other, command(room, key="shared", title="Geheime Sitzung"), now=NOW)

    assert refused.value.code == "idempotency_key_reused"
    assert "Geheime" not in refused.value.text
    assert not hasattr(refused.value, "booking")
    assert count(db, Booking) == 1


def test_a_refused_submission_does_not_use_up_its_key(db, make_room, make_user, make_booking):
    room = make_room()
    user = make_user()
    make_booking(make_user(), room, START.replace(tzinfo=UTC) + timedelta(hours=-2), 180)
    cmd = command(room, key=f"web:{user.id}:taken")

    with pytest.raises(Conflict):
        svc.request_booking(user, cmd, now=NOW)
    db.session.rollback()
    later = dataclasses.replace(
        cmd, start=cmd.start + timedelta(days=1), end=cmd.end + timedelta(days=1)
    )
    booking = svc.request_booking(user, later, now=NOW)
    db.session.commit()

    assert booking.submission_key == f"web:{user.id}:taken"
    assert count(db, Booking) == 2


def test_without_a_key_every_submission_books(db, make_room, make_user):
    room = make_room(approval_policy=ApprovalPolicy.MANUAL)
    user = make_user()
    svc.request_booking(user, command(room, key=None), now=NOW)
    svc.request_booking(user, command(room, key=None), now=NOW)
    db.session.commit()
    assert count(db, Booking) == 2


def test_an_overlong_key_is_refused(db, make_room, make_user):
    room = make_room()
    with pytest.raises(InvalidRequest) as refused:
        svc.request_booking(make_user(), command(room, key="x" * 201), now=NOW)
    assert refused.value.code == "submission_key_invalid"
    assert count(db, Booking) == 0
