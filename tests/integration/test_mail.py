"""The outbox and its delivery, against a real SMTP server on localhost (aiosmtpd)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from aiosmtpd.controller import Controller
from sqlalchemy import select

from booking import domain
from booking.models import ApprovalPolicy, OutboxMessage
from booking.services import accounts, mail
from booking.services.bookings import BookingCommand, cancel, decline, request_booking
from tests.conftest import SmtpInbox, free_port


def deliver(app, **kwargs) -> dict[str, int]:
    """One delivery pass as the worker runs it: in an app context of its own."""
    with app.app_context():
        return mail.send_pending(mail.MailSettings.from_config(app.config), **kwargs)


def _outbox() -> list[OutboxMessage]:
    """The outbox as the sender left it (it commits in a session of its own)."""
    from booking.extensions import db

    db.session.rollback()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_enqueue_writes_only_with_the_callers_commit(app, db):
    mail.enqueue("a@example.org", "Hallo", "Text")
    db.session.rollback()
    assert db.session.scalars(select(OutboxMessage)).all() == []
    mail.enqueue("a@example.org", "Hallo", "Text")
    db.session.commit()
    assert db.session.scalars(select(OutboxMessage.recipient)).all() == ["a@example.org"]


def test_password_reset_mail_arrives(app, db, smtp, make_user):
    make_user(email="anna@example.org", name="Anna", language="de")
    accounts.request_password_reset("anna@example.org")
    db.session.commit()

    assert deliver(app) == {"sent": 1, "failed": 0, "given_up": 0, "server_error": 0}
    [(recipients, message)] = smtp.messages
    assert recipients == ["anna@example.org"]
    assert message["To"] == "anna@example.org"
    assert message["From"].addresses[0].addr_spec == "noreply@raumboerse.invalid"
    assert message["From"].addresses[0].display_name == "Raumbörse"
    assert message["Subject"] == "Passwort zurücksetzen"
    body = _body(message)
    assert body.startswith("Hallo Anna,")
    assert "http://raumboerse.test/password-reset/" in body
    assert "60 Minuten" in body
    [sent] = _outbox()
    assert sent.sent_at is not None and sent.attempts == 1
    # A second pass sends nothing again.
    assert deliver(app)["sent"] == 0
    assert len(smtp.messages) == 1


def test_booking_received_mail_lists_dates_and_status(app, db, smtp, make_user, make_room):
    user = make_user(email="chor@example.org", name="Clara", language="de")
    room = make_room(name="Aula", approval_policy=ApprovalPolicy.MANUAL)
    command = BookingCommand(
        room_id=room.id,
        title="Chorprobe",
        start=datetime(2026, 12, 1, 18, 0),
        end=datetime(2026, 12, 1, 19, 30),
        recurrence=domain.Recurrence(freq="weekly", count=3),
        house_rules_accepted=True,
    )
    request_booking(user, command, now=datetime(2026, 11, 1, tzinfo=UTC))
    db.session.commit()

    deliver(app)
    [(recipients, message)] = smtp.messages
    assert recipients == ["chor@example.org"]
    assert message["Subject"] == "Buchungsanfrage erhalten: Chorprobe"
    body = _body(message)
    assert "Aula" in body and room.site.name in body
    for day in (
        "Dienstag, 1. Dezember 2026",
        "Dienstag, 8. Dezember 2026",
        "Dienstag, 15. Dezember 2026",
    ):
        assert f"{day}, 18:00–19:30: wartet auf Freigabe" in body
    assert body.count("wartet auf Freigabe") == 3
    assert "http://raumboerse.test/my/bookings" in body


def test_booking_mails_use_the_requesters_language(app, db, smtp, make_user, make_room):
    user = make_user(email="en@example.org", language="en")
    room = make_room(approval_policy=ApprovalPolicy.AUTOMATIC)
    start = datetime(2026, 12, 2, 17, 0)
    command = BookingCommand(
        room_id=room.id, title="Language café", start=start, end=start + timedelta(hours=2)
    )
    request_booking(user, command, now=datetime(2026, 11, 1, tzinfo=UTC))
    db.session.commit()
    deliver(app)
    [(_, message)] = smtp.messages
    assert message["Subject"] == "Booking confirmed: Language café"
    body = _body(message)
    assert "Wednesday, 2 December 2026" in body
    assert ": approved" in body


def test_decline_and_cancel_by_others_are_mailed(
    app, db, smtp, make_user, make_room, make_organisation
):
    organisation = make_organisation()
    requester = make_user(email="req@example.org", organisations=[organisation])
    colleague = make_user(organisations=[organisation])
    room = make_room(approval_policy=ApprovalPolicy.MANUAL)
    manager = make_user(manages=[room.site])
    start = datetime(2026, 12, 3, 10, 0)
    booking = request_booking(
        requester,
        BookingCommand(
            room_id=room.id,
            title="Repair Café",
            start=start,
            end=start + timedelta(hours=1),
            organisation_id=organisation.id,
            recurrence=domain.Recurrence(freq="weekly", count=2),
        ),
        now=datetime(2026, 11, 1, tzinfo=UTC),
    )
    first, second = booking.occurrences
    decline(
        manager,
        booking.id,
        "Die Aula wird gestrichen.",
        [first.id],
        now=datetime(2026, 11, 2, tzinfo=UTC),
    )
    cancel(colleague, booking.id, [second.id], now=datetime(2026, 11, 2, tzinfo=UTC))
    cancel_own = request_booking(
        requester,
        BookingCommand(
            room_id=room.id,
            title="Own",
            start=start + timedelta(days=30),
            end=start + timedelta(days=30, hours=1),
        ),
        now=datetime(2026, 11, 1, tzinfo=UTC),
    )
    cancel(requester, cancel_own.id, now=datetime(2026, 11, 2, tzinfo=UTC))
    db.session.commit()

    deliver(app)
    # The requester's mails (the site's manager is told of each new request: test_manager_mails).
    mails = [m for rcpt, m in smtp.messages if rcpt == ["req@example.org"]]
    subjects = [m["Subject"] for m in mails]
    assert subjects == [
        "Buchungsanfrage erhalten: Repair Café",
        "Buchung abgelehnt: Repair Café",
        "Buchung abgesagt: Repair Café",
        "Buchungsanfrage erhalten: Own",
    ]  # nobody is told about their own cancellation
    declined = _body(mails[1])
    assert "Die Aula wird gestrichen." in declined
    assert "Donnerstag, 3. Dezember 2026" in declined
    assert "10. Dezember" not in declined


def test_failed_delivery_backs_off_and_gives_up(app, db, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nothing listens there
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 3)
    mail.enqueue("a@example.org", "Hallo", "Text")
    db.session.commit()
    t0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    db.session.scalars(select(OutboxMessage)).one().next_attempt_at = t0
    db.session.commit()

    # Nobody listens: the message records the failure, and the pass reports the server.
    assert deliver(app, now=t0) == {"sent": 0, "failed": 1, "given_up": 0, "server_error": 1}
    [message] = _outbox()
    assert message.attempts == 1
    assert message.next_attempt_at == t0 + timedelta(minutes=1)
    assert "Connection" in message.last_error or "refused" in message.last_error.lower()

    # Not due yet: nothing is tried.
    assert deliver(app, now=t0 + timedelta(seconds=30))["failed"] == 0
    assert deliver(app, now=t0 + timedelta(minutes=1))["failed"] == 1
    [message] = _outbox()
    assert message.next_attempt_at == t0 + timedelta(minutes=1) + timedelta(minutes=2)

    with caplog.at_level(logging.ERROR, logger="booking.services.mail"):
        result = deliver(app, now=t0 + timedelta(hours=1))
    assert result == {"sent": 0, "failed": 0, "given_up": 1, "server_error": 1}
    [message] = _outbox()
    assert message.attempts == 3 and message.next_attempt_at is None and message.sent_at is None
    assert message.given_up
    assert "Giving up" in caplog.text
    assert deliver(app, now=t0 + timedelta(days=1)) == {
        "sent": 0,
        "failed": 0,
        "given_up": 0,
        "server_error": 0,
    }


def test_back_off_grows_and_is_capped():
    delays = [mail.retry_delay(n) for n in range(1, 12)]
    assert delays[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert delays == sorted(delays)
    assert max(delays) == mail.LONGEST_RETRY


def test_without_mail_server_mails_go_to_the_log(app, db, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    mail.enqueue("a@example.org", "Hallo Welt", "Der Text der Mail")
    db.session.commit()
    with caplog.at_level(logging.INFO, logger="booking.services.mail"):
        assert deliver(app)["sent"] == 1
    assert "a@example.org" in caplog.text
    assert "Hallo Welt" in caplog.text and "Der Text der Mail" in caplog.text


def test_send_mail_command_runs_one_pass(app, db, smtp):
    mail.enqueue("a@example.org", "Per Kommando", "Text")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    assert "1 sent" in result.output
    assert [m["Subject"] for _, m in smtp.messages] == ["Per Kommando"]


def test_unknown_address_gets_no_reset_mail(app, db):
    accounts.request_password_reset("nobody@example.org")
    accounts.request_password_reset("not an address")
    db.session.commit()
    assert db.session.scalars(select(OutboxMessage)).all() == []


class SlowInbox(SmtpInbox):
    """An SMTP server that takes a moment per mail, as real ones do: while one worker talks to
    it, the other has time to claim a message of its own."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.1)
        return await super().handle_DATA(server, session, envelope)


def test_parallel_workers_share_the_mails_and_send_each_once(app, db, monkeypatch):
    """Two workers at once: each claims a message in a short write transaction before sending
    (PostgreSQL: row lock with SKIP LOCKED; SQLite: the single writer), so both get work while
    the other is sending, and none goes out twice."""
    import threading

    inbox = SlowInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", controller.port)
    for n in range(12):
        mail.enqueue(f"m{n}@example.org", f"Mail {n}", "Text")
    db.session.commit()
    barrier = threading.Barrier(2)
    results = []
    errors = []

    def worker():
        barrier.wait()
        try:
            results.append(deliver(app))
        except Exception as exc:  # a worker that crashed must fail the test, not hang it
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        controller.stop()
    assert errors == []
    recipients = sorted(inbox.recipients())
    assert recipients == sorted(f"m{n}@example.org" for n in range(12))  # each exactly once
    assert len({m["Message-ID"] for _, m in inbox.messages}) == 12
    sent = sorted(r["sent"] for r in results)
    assert sum(sent) == 12
    assert sent[0] >= 2, f"one worker did (nearly) everything: {sent}"


def test_send_mail_loop_keeps_sending_until_stopped(app, db, smtp, monkeypatch):
    import booking.cli_mail

    passes = []

    def fake_sleep(seconds):
        passes.append(seconds)
        if len(passes) == 1:
            mail.enqueue("late@example.org", "Später", "Text")  # arrives while the worker waits
            db.session.commit()
            return
        raise KeyboardInterrupt  # what Ctrl-C does to a sleeping worker

    monkeypatch.setattr(booking.cli_mail.time, "sleep", fake_sleep)
    mail.enqueue("early@example.org", "Früh", "Text")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["send-mail", "--loop", "--interval", "2"])
    assert result.exit_code == 0, result.output
    assert passes == [2.0, 2.0]
    assert [m["Subject"] for _, m in smtp.messages] == ["Früh", "Später"]
