"""Outgoing mail through an outbox table.

``enqueue`` only writes a row in the caller's transaction, so a mail exists exactly when the change
that caused it was committed. ``send_pending`` is one delivery pass, run by
``flask --app booking send-mail`` (once, e.g. from cron) or ``send-mail --loop`` (a worker).
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from sqlalchemy import select

from booking.database import begin_write
from booking.extensions import db
from booking.models import OutboxMessage, utcnow
from booking.models.mail import Attachment

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
# A claimed message is left alone this long; longer than any SMTP conversation takes.
CLAIM_LEASE = timedelta(minutes=10)
SMTP_TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class MailSettings:
    """How the outbox is delivered (``MAIL_*`` settings); no server: mails go to the log."""

    sender: str
    server: str | None = None
    port: int = 25
    username: str | None = None
    password: str = ""
    use_tls: bool = False
    max_attempts: int = MAX_ATTEMPTS

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailSettings:
        return cls(
            sender=config["MAIL_DEFAULT_SENDER"],
            server=config.get("MAIL_SERVER") or None,
            port=config.get("MAIL_PORT", 25),
            username=config.get("MAIL_USERNAME") or None,
            password=config.get("MAIL_PASSWORD", "") or "",
            use_tls=bool(config.get("MAIL_USE_TLS")),
            max_attempts=config.get("MAIL_MAX_ATTEMPTS", MAX_ATTEMPTS),
        )


def enqueue(
    recipient: str,
    subject: str,
    body_text: str,
    body_html: str | None = None,
    attachments: tuple[Attachment, ...] = (),
) -> None:
    """Add a mail to the outbox in the current transaction. Never sends, never commits.

    With ``body_html`` the mail goes out as multipart/alternative (text and HTML); attachments
    (a booking's ``.ics``) are added beside it.
    """
    db.session.add(
        OutboxMessage(
            recipient=recipient,
            subject=subject.replace("\n", " ")[:300],
            body_text=body_text,
            body_html=OutboxMessage.pack_html(body_html, tuple(attachments)),
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
    html = message.html
    if html:
        mail.add_alternative(html, subtype="html")
    for attachment in message.attachments:
        # As bytes (base64): a calendar's CRLF line ends and folded lines arrive unchanged.
        maintype, _, subtype = attachment.content_type.partition("/")
        mail.add_attachment(
            attachment.text.encode(),
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
            params={**dict(attachment.params), "charset": "utf-8"},
        )
    return mail


def _deliver(settings: MailSettings, mail: EmailMessage) -> None:
    assert settings.server is not None
    with smtplib.SMTP(settings.server, settings.port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if settings.use_tls:
            smtp.starttls()
        if settings.username:
            smtp.login(settings.username, settings.password)
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


def send_pending(settings: MailSettings, *, now: datetime | None = None) -> dict[str, int]:
    """One delivery pass over every due message. Returns how many were sent, failed, given up.

    The mail worker is its own unit of work: each claim and each outcome is committed at once.
    """
    counts = {"sent": 0, "failed": 0, "given_up": 0}
    now = now or utcnow()
    while (message := _claim(now)) is not None:
        counts[_attempt(settings, message, now)] += 1
    return counts


def _attempt(settings: MailSettings, message: OutboxMessage, now: datetime) -> str:
    """Send one claimed message and record the outcome ("sent", "failed" or "given_up")."""
    mail = _build(message, settings.sender)
    error = None
    try:
        if settings.server:
            _deliver(settings, mail)
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
    elif message.attempts >= settings.max_attempts:
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
