"""Outgoing mail through an outbox table.

``enqueue`` only writes a row in the caller's transaction, so a mail exists exactly when the change
that caused it was committed. ``send_pending`` is one delivery pass, run by
``flask --app booking send-mail`` (once, e.g. from cron) or ``send-mail --loop`` (a worker).
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import Flask, current_app
from sqlalchemy import select

from booking.database import begin_write
from booking.extensions import db
from booking.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
# A claimed message is left alone this long; longer than any SMTP conversation takes.
CLAIM_LEASE = timedelta(minutes=10)
SMTP_TIMEOUT_SECONDS = 20


def enqueue(recipient: str, subject: str, body_text: str, body_html: str | None = None) -> None:
    """Add a mail to the outbox in the current transaction. Never sends, never commits."""
    db.session.add(
        OutboxMessage(
            recipient=recipient,
            subject=subject.replace("\n", " ")[:300],
            body_text=body_text,
            body_html=body_html,
        )
    )


def retry_delay(attempts: int) -> timedelta:
    """Exponential back-off: 1, 2, 4 ... minutes after the 1st, 2nd, 3rd failure, capped."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def _build(message: OutboxMessage, sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.recipient
    mail["Subject"] = message.subject
    mail["Date"] = format_datetime(message.created_at)
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.body_text)
    if message.body_html:
        mail.add_alternative(message.body_html, subtype="html")
    return mail


def _deliver(app: Flask, mail: EmailMessage) -> None:
    config = app.config
    with smtplib.SMTP(
        config["MAIL_SERVER"], config["MAIL_PORT"], timeout=SMTP_TIMEOUT_SECONDS
    ) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
        smtp.send_message(mail)


def _claim(now: datetime) -> OutboxMessage | None:
    """Take the next due message for this worker and commit the claim before sending.

    The claim (one more attempt, and a lease: not due again for a while) is written in a short
    write transaction, so no lock is held while talking to the SMTP server and a second worker
    passes the message by. A worker that dies mid-send leaves it to be retried after the lease.
    """
    begin_write()  # SQLite: one writer at a time, taken before the read
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    message = db.session.scalar(query)
    if message is not None:
        message.attempts += 1
        message.next_attempt_at = now + CLAIM_LEASE
    db.session.commit()
    return message


def send_pending(app: Flask, *, now: datetime | None = None) -> dict[str, int]:
    """One delivery pass over every due message. Returns how many were sent, failed, given up."""
    counts = {"sent": 0, "failed": 0, "given_up": 0}
    with app.app_context():
        now = now or utcnow()
        max_attempts = app.config.get("MAIL_MAX_ATTEMPTS", MAX_ATTEMPTS)
        sender = app.config["MAIL_DEFAULT_SENDER"]
        while (message := _claim(now)) is not None:
            counts[_attempt(app, message, sender, now, max_attempts)] += 1
    return counts


def _attempt(
    app: Flask, message: OutboxMessage, sender: str, now: datetime, max_attempts: int
) -> str:
    """Send one claimed message and record the outcome ("sent", "failed" or "given_up")."""
    mail = _build(message, sender)
    error = None
    try:
        if app.config.get("MAIL_SERVER"):
            _deliver(app, mail)
        else:
            # Development delivery: the whole mail goes to the log. A reset mail's body holds
            # its link; that is how a developer without SMTP resets a password. Configure
            # MAIL_SERVER in production so no mail body is logged.
            log.info(
                "Mail (no MAIL_SERVER set, not sent)\nTo: %s\nSubject: %s\n\n%s",
                message.recipient,
                message.subject,
                message.body_text,
            )
    except (smtplib.SMTPException, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
    begin_write()
    if error is None:
        message.sent_at = utcnow()
        message.next_attempt_at = None
        message.last_error = ""
        outcome = "sent"
    elif message.attempts >= max_attempts:
        message.next_attempt_at = None
        message.last_error = error
        outcome = "given_up"
        log.error("Giving up on mail %s after %d attempts: %s", message.id, message.attempts, error)
    else:
        message.next_attempt_at = now + retry_delay(message.attempts)
        message.last_error = error
        outcome = "failed"
        log.warning(
            "Mail %s failed (attempt %d), next try at %s: %s",
            message.id,
            message.attempts,
            message.next_attempt_at.isoformat(),
            error,
        )
    db.session.commit()
    return outcome


def base_url() -> str:
    """The absolute base for links in mails (BOOKING_BASE_URL, else this request's host)."""
    from flask import has_request_context, request

    base = current_app.config.get("BOOKING_BASE_URL") or ""
    if not base and has_request_context():
        base = request.host_url
    return (base or "http://localhost").rstrip("/")
