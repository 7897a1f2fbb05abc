"""Mails are written off the request's path (#14): the outbox row keeps the notice, the mail is
written once the answer has been sent (or by the worker), and it says exactly what a mail
written at once would have said."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from booking import domain, mail_parts
from booking.models import ApprovalPolicy, Booking, OutboxMessage
from booking.services import mail, notifications
from booking.services.bookings import (
    BookingCommand,
    approve,
    cancel,
    move_occurrence,
    request_booking,
)
from tests.conftest import PASSWORD


def _series(user, room, title: str, count: int) -> Booking:
    start = datetime.combine(datetime.now(UTC).date() + timedelta(days=9), time(18, 0))
    return request_booking(
        user,
        BookingCommand(
            room_id=room.id,
            title=title,
            start=start,
            end=start + timedelta(hours=2),
            recurrence=domain.Recurrence(domain.Frequency.WEEKLY, count=count),
            house_rules_accepted=True,
        ),
    )


def _rows(db) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_kept_notice_writes_the_same_mail_as_writing_it_at_once(
    app, db, make_room, make_user, monkeypatch
):
    """Every kind of booking mail, through JSON and back: same subject, text, HTML and .ics."""
    room = make_room(approval_policy=ApprovalPolicy.MANUAL, house_rules="Stühle hochstellen.")
    manager = make_user(manages=[room.site], language="de")
    requester = make_user(name="Clara", language="en")
    notices: list[notifications.Notice] = []
    monkeypatch.setattr(mail, "enqueue_notice", lambda email, data: notices.append(data))
    booking = _series(requester, room, "Chorprobe", 52)
    first, second, *_ = booking.occurrences
    approve(manager, booking.id, [first.id])  # partial: the others still wait
    cancel(manager, booking.id, [first.id], "Wasserschaden in der Aula.")
    moved_to = second.starts_at + timedelta(days=1)
    move_occurrence(
        manager,
        second.id,
        moved_to,
        moved_to + timedelta(hours=2),
        reason="Die Aula ist dienstags belegt.",
        now=datetime.now(UTC),
    )
    kinds = {notifications.decode(n).kind for n in notices}
    assert {"booking_received", "request_received", "booking_changed", "booking_moved"} <= kinds

    render = notifications._renderer
    made = datetime.now(UTC).replace(microsecond=0)
    monkeypatch.setattr(mail_parts, "utcnow", lambda: made)  # the .ics says when it was made
    with app.test_request_context("/"):
        for data in notices:
            notice = notifications.decode(data)
            again = notifications.decode(notifications.encode(notice))
            assert render(again) == render(notice), notice.kind
    received = next(notifications.decode(n) for n in notices if '"booking_received"' in n)
    assert len(received.dates) == 52
    assert render(received).subject == "Booking request received: Chorprobe"


def test_a_booking_over_the_web_answers_first_and_writes_its_mail_after(
    app, db, make_room, make_user
):
    room = make_room(approval_policy=ApprovalPolicy.AUTOMATIC)
    user = make_user(email="clara@example.org", language="en")
    db.session.commit()
    client = app.test_client()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    day = datetime.now(UTC).date() + timedelta(days=9)
    form = {
        "date": day.isoformat(),
        "start": "18:00",
        "end": "20:00",
        "title": "Chorprobe",
        "attendees": "12",
        "repeat": "weekly",
        "limit": "count",
        "count": "8",
        "house_rules_accepted": "y",
    }
    preview = client.post(f"/rooms/{room.id}/book", data=form | {"preview": "y"})
    previewed = re.search(r'name="previewed" type="hidden" value="(\w+)"', preview.text)[1]
    response = client.post(
        f"/rooms/{room.id}/book",
        data=form | {"book": "y", "previewed": previewed},
        buffered=False,  # the answer is in the client's hands, not yet closed
    )
    assert response.status_code == 302
    db.session.commit()
    (row,) = _rows(db)
    assert row.notice is not None and row.body_text == ""  # the request did not write it

    response.close()  # the server has sent the answer: now the mail is written
    db.session.commit()
    db.session.expire_all()
    (row,) = _rows(db)
    assert row.notice is None
    assert row.subject == "Booking confirmed: Chorprobe"
    assert row.body_text.count("18:00–20:00") == 8


def test_the_worker_writes_and_sends_a_kept_notice(app, db, smtp, make_room, make_user):
    room = make_room(approval_policy=ApprovalPolicy.AUTOMATIC)
    user = make_user(email="clara@example.org", language="de")
    _series(user, room, "Chorprobe", 3)  # outside a request: kept for the worker
    db.session.commit()
    (row,) = _rows(db)
    assert row.notice is not None

    counts = mail.send_pending(mail.MailSettings.from_config(app.config))
    assert counts["sent"] == 1
    (message,) = smtp.to("clara@example.org")
    assert message["Subject"] == "Buchung bestätigt: Chorprobe"
    db.session.expire_all()
    (row,) = _rows(db)
    assert row.notice is None and row.sent_at is not None and "Chorprobe" in row.body_text


def test_a_notice_whose_booking_is_gone_is_that_mails_failure(app, db, smtp, make_room, make_user):
    room = make_room(approval_policy=ApprovalPolicy.AUTOMATIC)
    user = make_user(email="clara@example.org")
    other = make_user(email="bert@example.org")
    booking = _series(user, room, "Chorprobe", 1)
    _series(other, make_room(approval_policy=ApprovalPolicy.AUTOMATIC), "Lesung", 2)
    db.session.commit()
    db.session.delete(booking)  # an admin removed it before the worker came round
    db.session.commit()

    counts = mail.send_pending(mail.MailSettings.from_config(app.config))
    assert counts == {"sent": 1, "failed": 1, "given_up": 0, "server_error": 0}
    assert smtp.recipients() == ["bert@example.org"]
    db.session.expire_all()
    failed = next(r for r in _rows(db) if r.recipient == "clara@example.org")
    assert "no longer exists" in failed.last_error and failed.sent_at is None
