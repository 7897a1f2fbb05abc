"""The mail worker under things that go wrong: a poisoned outbox row, an SMTP answer lost after
the server took the mail, STARTTLS with a login. Against real SMTP servers on localhost
(aiosmtpd), through ``flask send-mail`` where the operator would run it."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import ssl
import subprocess
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

import booking.cli_mail
from booking.models import OutboxMessage
from booking.models.mail import ENVELOPE
from booking.services import mail
from tests.conftest import SmtpInbox, free_port

EVIL = "x@evil.example"
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def deliver(app, **kwargs) -> dict[str, int]:
    """One delivery pass as the worker runs it: in an app context of its own."""
    with app.app_context():
        return mail.send_pending(mail.MailSettings.from_config(app.config), **kwargs)


def _outbox(db) -> dict[str, OutboxMessage]:
    """The outbox as the worker left it (it commits in a session of its own), by recipient."""
    db.session.rollback()
    return {m.recipient: m for m in db.session.scalars(select(OutboxMessage))}


def _row(db, recipient: str, subject: str = "Hallo", body_html: str | None = None) -> None:
    """An outbox row as an older release (or a field no input check covers) may have left it:
    written directly, past ``enqueue``'s cleaning."""
    db.session.add(
        OutboxMessage(
            recipient=recipient,
            subject=subject,
            body_text="Text",
            body_html=body_html,
            next_attempt_at=T0,
        )
    )
    db.session.commit()


# An envelope whose attachment lost its fields: building the mail raises KeyError.
UNBUILDABLE = json.dumps({"format": ENVELOPE, "html": None, "attachments": [{"text": "x"}]})


@contextmanager
def serving(app, monkeypatch, handler, **smtp_options):
    """An aiosmtpd server with ``handler`` that the app's outbox delivers to."""
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **smtp_options)
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", controller.port)
    monkeypatch.setitem(app.config, "MAIL_USE_TLS", False)
    monkeypatch.setitem(app.config, "MAIL_USERNAME", "")
    try:
        yield handler
    finally:
        controller.stop()


# --- a poisoned message among good ones -----------------------------------------------------


def test_header_text_keeps_a_subject_on_one_line():
    assert mail.header_text("Chorprobe\rBcc: x@evil.example") == "Chorprobe Bcc: x@evil.example"
    assert mail.header_text("a\r\n\tb\x00c\x85d\u2028e\u2029f\x1b") == "a b c d e f"
    assert mail.header_text("Café – Probe") == "Café – Probe"


def test_enqueue_writes_a_clean_subject(app, db):
    mail.enqueue("a@example.org", "Buchung bestätigt: Chorprobe\rBcc: x@evil.example", "Text")
    db.session.commit()
    [row] = db.session.scalars(select(OutboxMessage)).all()
    assert row.subject == "Buchung bestätigt: Chorprobe Bcc: x@evil.example"


def test_send_mail_delivers_the_good_ones_and_records_the_poisoned_one(app, db, smtp):
    """A title with a carriage return goes out as a one-line subject; a recipient with one
    cannot be sent to and is that message's failure: recorded with back-off, the rest sent, and
    the command succeeds (one bad message is no reason to wake the operator)."""
    _row(db, "first@example.org", "Buchung bestätigt: Orchester")
    _row(db, "chor@example.org", f"Buchung bestätigt: Chorprobe\rBcc: {EVIL}")
    _row(db, f"bad@example.org\r\nBcc: {EVIL}", "Hallo")
    _row(db, "last@example.org", "Buchung bestätigt: Theater")

    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    assert "3 sent, 1 failed." in result.output

    assert sorted(smtp.recipients()) == [
        "chor@example.org",
        "first@example.org",
        "last@example.org",
    ]
    [poisoned] = smtp.to("chor@example.org")
    assert poisoned["Subject"] == f"Buchung bestätigt: Chorprobe Bcc: {EVIL}"
    assert poisoned["Bcc"] is None
    assert all(EVIL not in str(m) for _, m in smtp.messages if m is not poisoned)

    rows = _outbox(db)
    assert rows["chor@example.org"].sent_at is not None
    bad = rows[f"bad@example.org\r\nBcc: {EVIL}"]
    assert bad.sent_at is None and bad.attempts == 1
    assert "control characters" in bad.last_error
    assert bad.next_attempt_at is not None and bad.next_attempt_at > T0  # retried later


def test_a_message_that_cannot_be_built_backs_off_and_is_given_up(
    app, db, smtp, monkeypatch, caplog
):
    """Before, such a row raised out of the worker and was claimed again every lease, forever."""
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 3)
    _row(db, "broken@example.org", body_html=UNBUILDABLE)
    _row(db, "good@example.org")
    with caplog.at_level(logging.ERROR, logger="booking.services.mail"):
        counts = deliver(app, now=T0)
    assert counts == {"sent": 1, "failed": 1, "given_up": 0, "server_error": 0}
    assert "could not be built or sent" in caplog.text and "KeyError" in caplog.text
    broken = _outbox(db)["broken@example.org"]
    assert broken.last_error.startswith("KeyError")
    assert broken.next_attempt_at == T0 + timedelta(minutes=1)

    assert deliver(app, now=T0 + timedelta(seconds=59))["failed"] == 0  # not due yet
    assert deliver(app, now=T0 + timedelta(minutes=1))["failed"] == 1
    assert deliver(app, now=T0 + timedelta(minutes=3))["given_up"] == 1
    broken = _outbox(db)["broken@example.org"]
    assert broken.given_up and broken.attempts == 3
    # Given up is final: not claimed again a lease later, nor a day later.
    assert deliver(app, now=T0 + timedelta(days=1)) == {
        "sent": 0,
        "failed": 0,
        "given_up": 0,
        "server_error": 0,
    }
    assert smtp.recipients() == ["good@example.org"]


def test_send_mail_loop_survives_a_message_that_cannot_be_built(app, db, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 1)
    passes = []

    def fake_sleep(seconds):
        passes.append(seconds)
        if len(passes) == 1:
            _row(db, "later@example.org")  # arrives while the worker waits
            return
        raise KeyboardInterrupt

    monkeypatch.setattr(booking.cli_mail.time, "sleep", fake_sleep)
    _row(db, "broken@example.org", body_html=UNBUILDABLE)
    _row(db, "early@example.org")
    result = app.test_cli_runner().invoke(args=["send-mail", "--loop", "--interval", "1"])
    assert result.exit_code == 0, result.output
    assert len(passes) == 2  # the worker lived on to the second pass
    assert "1 sent, 1 failed (1 given up)." in result.output
    assert smtp.recipients() == ["early@example.org", "later@example.org"]
    assert _outbox(db)["broken@example.org"].given_up


def test_send_mail_loop_outlives_a_failing_database(app, db, smtp, monkeypatch, caplog):
    """The database away for a pass: the worker logs it and carries on; ``send-mail`` run once
    fails loudly (cron tells the operator)."""
    real_send_pending = mail.send_pending
    passes = []

    def database_away_at_first(settings, **kwargs):
        passes.append(settings)
        if len(passes) == 1:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))
        return real_send_pending(settings, **kwargs)

    def fake_sleep(seconds):
        if len(passes) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(mail, "send_pending", database_away_at_first)
    monkeypatch.setattr(booking.cli_mail.time, "sleep", fake_sleep)
    _row(db, "a@example.org")
    with caplog.at_level(logging.ERROR, logger="booking.cli_mail"):
        result = app.test_cli_runner().invoke(args=["send-mail", "--loop"])
    assert result.exit_code == 0, result.output
    assert len(passes) == 2 and "Mail pass failed" in caplog.text
    assert smtp.recipients() == ["a@example.org"]

    passes.clear()
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code != 0
    assert isinstance(result.exception, OperationalError)


# --- at-least-once: the same Message-ID on every attempt ------------------------------------


class LostAnswerInbox(SmtpInbox):
    """Keeps the first mail, then answers only after the client has given up waiting."""

    stall_seconds = 1.0

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        if len(self.messages) == 1:
            await asyncio.sleep(self.stall_seconds)
        return answer


def test_a_retry_after_a_lost_answer_carries_the_same_message_id(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 0.3)
    with serving(app, monkeypatch, LostAnswerInbox()) as inbox:
        _row(db, "a@example.org")
        assert deliver(app, now=T0) == {"sent": 0, "failed": 1, "given_up": 0, "server_error": 0}
        [row] = _outbox(db).values()
        assert "timed out" in row.last_error
        assert deliver(app, now=T0 + timedelta(minutes=1))["sent"] == 1

    first, second = (m for _, m in inbox.messages)
    assert first["Message-ID"] == second["Message-ID"]
    stamp = row.created_at.strftime("%Y%m%d%H%M%S")
    assert first["Message-ID"] == f"<outbox-{row.id}.{stamp}@raumboerse.test>"


def test_each_mail_has_its_own_message_id(app, db, smtp):
    _row(db, "a@example.org")
    _row(db, "b@example.org")
    deliver(app)
    ids = [m["Message-ID"] for _, m in smtp.messages]
    assert len(set(ids)) == 2
    assert all(re.fullmatch(r"<outbox-\d+\.\d{14}@raumboerse\.test>", i) for i in ids)


# --- STARTTLS and login ----------------------------------------------------------------------

USER, PASSWORD = "raumboerse", "s3cret-Passwort"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (the SMTP server's name in these tests)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = ["openssl", "req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"]
    command += ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    command += ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)]
    subprocess.run(
        command,
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


class LoginInbox(SmtpInbox):
    """Takes mail only after STARTTLS and a login; a refused login echoes what it was sent, as
    a careless server might."""

    def __init__(self) -> None:
        super().__init__()
        self.logins: list[tuple[str, bool]] = []  # (user name, over TLS)

    def __call__(self, server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append((login, session.ssl is not None))
        if (login, password) == (USER, PASSWORD):
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False, message=f"535 5.7.8 No: {password}")


@pytest.fixture
def tls_smtp(app, monkeypatch, certificate):
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = LoginInbox()
    with serving(
        app,
        monkeypatch,
        inbox,
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        authenticator=inbox,
    ):
        monkeypatch.setitem(app.config, "MAIL_USE_TLS", True)
        monkeypatch.setitem(app.config, "MAIL_CA_FILE", cert)
        monkeypatch.setitem(app.config, "MAIL_USERNAME", USER)
        monkeypatch.setitem(app.config, "MAIL_PASSWORD", PASSWORD)
        yield inbox


def test_mail_goes_out_over_starttls_with_a_login(app, db, tls_smtp):
    _row(db, "a@example.org", "Über TLS")
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    assert "1 sent, 0 failed." in result.output
    assert tls_smtp.logins == [(USER, True)]
    [message] = tls_smtp.to("a@example.org")
    assert message["Subject"] == "Über TLS"


def test_wrong_credentials_are_a_recorded_failure_without_the_password(
    app, db, tls_smtp, monkeypatch
):
    monkeypatch.setitem(app.config, "MAIL_PASSWORD", "wrong-Passwort")
    _row(db, "a@example.org")
    _row(db, "b@example.org")
    assert deliver(app, now=T0) == {"sent": 0, "failed": 1, "given_up": 0, "server_error": 1}
    rows = _outbox(db)
    failed = [r for r in rows.values() if r.attempts]
    assert len(failed) == 1  # the pass stopped: the other mail keeps its attempts
    [row] = failed
    assert "SMTPAuthenticationError" in row.last_error
    assert "wrong-Passwort" not in row.last_error and "***" in row.last_error
    assert row.next_attempt_at == T0 + timedelta(minutes=1)
    assert tls_smtp.messages == []

    # As a cron job: a summary and an error naming the server, no traceback, exit status 1.
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "0 sent, 1 failed." in result.output
    assert "cannot be used" in result.output and "wrong-Passwort" not in result.output


def test_an_untrusted_certificate_is_refused_before_the_login(app, db, tls_smtp, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_CA_FILE", "")  # only the system's CAs
    _row(db, "a@example.org")
    assert deliver(app, now=T0)["server_error"] == 1
    [row] = _outbox(db).values()
    assert "CERTIFICATE_VERIFY_FAILED" in row.last_error
    assert tls_smtp.logins == [] and tls_smtp.messages == []  # the password never left
