"""Outgoing mail through an outbox table.

``enqueue`` only writes a row in the caller's transaction, so a mail exists exactly when the change
that caused it was committed. ``send_pending`` is one delivery pass, run by
``flask --app booking send-mail`` (once, e.g. from cron) or ``send-mail --loop`` (a worker).

Delivery is at-least-once: a server that takes a mail but whose answer is lost (a timeout after
the data was sent) gets it again on the retry. Every attempt carries the same ``Message-ID``
(``message_id``), so receivers can drop the copy. Whatever goes wrong with one message, while it
is built or sent, is that message's failure (recorded, retried, given up after
``MAIL_MAX_ATTEMPTS``); only the database or an unusable mail server ends a pass early.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from booking.database import begin_write
from booking.extensions import db
from booking.models import OutboxMessage, utcnow
from booking.models.mail import Attachment

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
# A claimed message is left alone this long; longer than any SMTP conversation takes (each
# answer is awaited at most MAIL_TIMEOUT seconds).
CLAIM_LEASE = timedelta(minutes=10)
SMTP_TIMEOUT_SECONDS = 20
LONGEST_ERROR = 2000


@dataclass(frozen=True)
class MailSettings:
    """How the outbox is delivered (``MAIL_*`` settings); no server: mails go to the log.

    With ``use_tls`` the server's certificate is verified (the system's CAs, or ``ca_file`` for a
    private CA); ``message_id_host`` is the right side of every ``Message-ID``.
    """

    sender: str
    server: str | None = None
    port: int = 25
    username: str | None = None
    password: str = field(default="", repr=False)  # settings may end up in a log
    use_tls: bool = False
    ca_file: str | None = None
    timeout: float = SMTP_TIMEOUT_SECONDS
    max_attempts: int = MAX_ATTEMPTS
    message_id_host: str = "localhost"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailSettings:
        sender = config["MAIL_DEFAULT_SENDER"]
        return cls(
            sender=sender,
            server=config.get("MAIL_SERVER") or None,
            port=config.get("MAIL_PORT", 25),
            username=config.get("MAIL_USERNAME") or None,
            password=config.get("MAIL_PASSWORD", "") or "",
            use_tls=bool(config.get("MAIL_USE_TLS")),
            ca_file=config.get("MAIL_CA_FILE") or None,
            timeout=float(config.get("MAIL_TIMEOUT") or SMTP_TIMEOUT_SECONDS),
            max_attempts=config.get("MAIL_MAX_ATTEMPTS", MAX_ATTEMPTS),
            message_id_host=_message_id_host(config.get("BOOKING_BASE_URL") or "", sender),
        )


def _message_id_host(base_url: str, sender: str) -> str:
    """The site's host name (``BOOKING_BASE_URL``), else the sender's domain."""
    host = urlsplit(base_url).hostname or parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return f"[{host}]" if ":" in host else host  # an IPv6 address as a domain literal


class MailServerError(Exception):
    """The SMTP server could not be reached, or refused TLS or the login: no message's fault."""


def _is_line_breaking(char: str) -> bool:
    # Cc: CR, LF, tab, NUL, NEL ...; Zl/Zp: U+2028/U+2029, which Python's str.splitlines and
    # some mail programs also take for line ends.
    return unicodedata.category(char) in ("Cc", "Zl", "Zp")


def header_text(value: str) -> str:
    """``value`` fit for a header line: control characters and line separators become spaces.

    A booking title is part of a subject; a carriage return in it must neither start a header of
    its own ("Bcc: ...") nor make the mail impossible to build.
    """
    return " ".join("".join(" " if _is_line_breaking(c) else c for c in value).split())


def message_id(message: OutboxMessage, host: str) -> str:
    """The ``Message-ID`` of an outbox row: the same on every attempt, so a receiver can tell a
    retry's copy from a new mail. ``created_at`` keeps ids apart should row ids start over (a
    restored or a second database)."""
    return f"<outbox-{message.id}.{message.created_at:%Y%m%d%H%M%S}@{host}>"


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
            subject=header_text(subject)[:300],
            body_text=body_text,
            body_html=OutboxMessage.pack_html(body_html, tuple(attachments)),
        )
    )


def enqueue_notice(recipient: str, notice: str) -> OutboxMessage:
    """Add a mail that is written later: the row keeps the notice (JSON, see
    ``notifications.encode``) until ``render_pending`` or the worker fills it in."""
    message = OutboxMessage(recipient=recipient, subject="", body_text="", notice=notice)
    db.session.add(message)
    db.session.flush()
    if _scheduler is not None:
        _scheduler(message.id)
    return message


# Installed by booking.services.notifications (how a row's notice becomes its mail) and by the
# application (when: after the answer has been sent, see booking/mails.py).
_filler: Callable[[OutboxMessage], None] | None = None
_scheduler: Callable[[int], None] | None = None


def use_filler(filler: Callable[[OutboxMessage], None]) -> None:
    global _filler
    _filler = filler


def use_scheduler(scheduler: Callable[[int], None] | None) -> None:
    global _scheduler
    _scheduler = scheduler


def fill_in(message: OutboxMessage) -> None:
    """Write the mail of a row that still holds only its notice; nothing for a written one."""
    if message.notice is None:
        return
    if _filler is None:
        raise RuntimeError("No mail filler installed: import booking.services.notifications.")
    _filler(message)


def render_pending(ids: Iterable[int] | None = None) -> int:
    """Write the mails still waiting as notices (those of ``ids``, or all); returns how many.
    A notice that cannot be written is left for the worker, which records the failure."""
    statement = select(OutboxMessage).where(OutboxMessage.notice.is_not(None))
    if ids is not None:
        statement = statement.where(OutboxMessage.id.in_(list(ids)))
    done = 0
    for message in db.session.scalars(statement.order_by(OutboxMessage.id)):
        try:
            with db.session.begin_nested():
                fill_in(message)
        except SQLAlchemyError:
            raise
        except Exception:
            log.warning("Mail %s could not be written yet", message.id, exc_info=True)
            continue
        done += 1
    db.session.flush()
    return done


def retry_delay(attempts: int) -> timedelta:
    """Exponential back-off: 1, 2, 4 ... minutes after the 1st, 2nd, 3rd failure, capped."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def _build(message: OutboxMessage, settings: MailSettings) -> EmailMessage:
    """The MIME message of an outbox row. Rows written before the checks on input existed may
    carry control characters: the subject is cleaned, a broken recipient address refused."""
    if any(_is_line_breaking(c) for c in message.recipient):
        raise ValueError("the recipient address contains control characters")
    mail = EmailMessage()
    mail["From"] = settings.sender
    mail["To"] = message.recipient
    mail["Subject"] = header_text(message.subject)
    mail["Date"] = format_datetime(message.created_at)
    mail["Message-ID"] = message_id(message, settings.message_id_host)
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


def _describe(error: BaseException, settings: MailSettings) -> str:
    """An error as ``last_error`` and the log keep it: never with the SMTP password in it (a
    server may echo what it was sent)."""
    text = f"{type(error).__name__}: {error}"
    if settings.password:
        text = text.replace(settings.password, "***")
    return text[:LONGEST_ERROR]


def _deliver(settings: MailSettings, mail: EmailMessage, recipient: str) -> None:
    """Hand ``mail`` to the SMTP server for ``recipient`` (the envelope names only the outbox
    row's address, never one read from the headers).

    Failing to connect, to start TLS or to log in raises ``MailServerError``.
    """
    if settings.server is None:  # callers check first; no server is a server problem
        raise MailServerError("no mail server is configured (MAIL_SERVER)")
    try:
        smtp = smtplib.SMTP(settings.server, settings.port, timeout=settings.timeout)
    except (smtplib.SMTPException, OSError) as exc:
        raise MailServerError(_describe(exc, settings)) from exc
    try:
        try:
            if settings.use_tls:
                # Verified, unlike smtplib's default; MAIL_CA_FILE trusts a private CA.
                smtp.starttls(context=ssl.create_default_context(cafile=settings.ca_file))
            if settings.username:
                smtp.login(settings.username, settings.password)
        except (smtplib.SMTPException, OSError) as exc:
            raise MailServerError(_describe(exc, settings)) from exc
        smtp.send_message(mail, to_addrs=[recipient])
    finally:
        _hang_up(smtp)


def _hang_up(smtp: smtplib.SMTP) -> None:
    """Say goodbye; once the mail is handed over, an odd answer to QUIT is no failure."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


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
    """One delivery pass over every due message.

    Returns how many were sent, failed (to be retried) and given up, and ``server_error``: 1 when
    the pass stopped because the mail server could not be used (unreachable, TLS, login), which
    the failed message records; the others keep their attempts for the next pass. A database
    error is raised: that is no message's fault either.

    The mail worker is its own unit of work: each claim and each outcome is committed at once.
    """
    counts = {"sent": 0, "failed": 0, "given_up": 0, "server_error": 0}
    now = now or utcnow()
    while (message := _claim(now)) is not None:
        outcome, server_error = _attempt(settings, message, now)
        counts[outcome] += 1
        if server_error:
            counts["server_error"] = 1
            break
    return counts


def _attempt(settings: MailSettings, message: OutboxMessage, now: datetime) -> tuple[str, bool]:
    """Build and send one claimed message and record the outcome ("sent", "failed" or
    "given_up"), and whether the mail server itself failed.

    Any error but the database's is this message's failure: a row that cannot be built (say a
    control character in an old row) must not stop the worker nor come back every lease forever.
    """
    error = None
    server_error = False
    try:
        if message.notice is not None:
            # A mail kept as its notice is written now, in a short write of its own: a retry
            # then sends the same words, and the lock is not held while the server talks.
            begin_write()
            fill_in(message)
            db.session.commit()
        mail = _build(message, settings)
        if settings.server:
            _deliver(settings, mail, message.recipient)
        else:
            # Development delivery: the whole mail goes to the log. A reset mail's body holds
            # its link; that is how a developer without SMTP resets a password. Configure
            # MAIL_SERVER in production so no mail body is logged.
            log.info(
                "Mail (no MAIL_SERVER set, not sent)\nTo: %s\nSubject: %s\n\n%s",
                message.recipient,
                mail["Subject"],
                message.body_text,
            )
    except SQLAlchemyError:
        raise
    except MailServerError as exc:
        error, server_error = str(exc), True
        log.error("Mail server %s:%s cannot be used: %s", settings.server, settings.port, error)
    except (smtplib.SMTPException, OSError) as exc:
        error = _describe(exc, settings)
    except Exception as exc:
        error = _describe(exc, settings)
        log.error("Mail %s could not be built or sent: %s", message.id, error, exc_info=True)
        db.session.rollback()  # a mail half written from its notice is not kept
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
    return outcome, server_error
