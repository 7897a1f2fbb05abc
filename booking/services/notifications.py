"""Mails about accounts and bookings, rendered in the recipient's language and put in the outbox.

Called by the services at the end of a change, inside its transaction: if the change is rolled
back, the mail is never sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from flask_babel import force_locale, gettext

from booking.models import Booking, Occurrence, OccurrenceStatus, User
from booking.services import mail


@dataclass(frozen=True)
class MailDate:
    """One date of a booking as the mail shows it: local wall times in the site's zone."""

    starts_at: datetime
    ends_at: datetime
    status: OccurrenceStatus
    reason: str


def _language(user: User) -> str:
    languages = current_app.config.get("LANGUAGES", ("de", "en"))
    return user.language if user.language in languages else languages[0]


def _dates(booking: Booking, occurrences: Iterable[Occurrence]) -> list[MailDate]:
    zone = ZoneInfo(booking.room.site.timezone)
    return [
        MailDate(
            o.starts_at.astimezone(zone), o.ends_at.astimezone(zone), o.status, o.status_reason
        )
        for o in sorted(occurrences, key=lambda o: o.starts_at)
    ]


def send_password_reset(user: User, token: str, expires_in_minutes: int) -> None:
    """The reset link holds the only copy of the token; the database keeps its hash."""
    link = f"{mail.base_url()}/password-reset/{token}"
    with force_locale(_language(user)):
        subject = gettext("Reset your password")
        body = render_template(
            "mail/password_reset.txt", user=user, link=link, minutes=expires_in_minutes
        )
    mail.enqueue(user.email, subject, body)


def notify_booking_received(booking: Booking) -> None:
    """Tell the requester which dates were booked and whether they still wait for approval."""
    user = booking.requested_by
    if user is None or not booking.occurrences:
        return
    dates = _dates(booking, booking.occurrences)
    pending = any(d.status is OccurrenceStatus.PENDING for d in dates)
    with force_locale(_language(user)):
        subject = (
            gettext("Booking request received: %(title)s", title=booking.title)
            if pending
            else gettext("Booking confirmed: %(title)s", title=booking.title)
        )
        body = render_template(
            "mail/booking_received.txt",
            user=user,
            booking=booking,
            dates=dates,
            pending=pending,
            link=f"{mail.base_url()}/my/bookings",
        )
    mail.enqueue(user.email, subject, body)


def notify_booking_changed(booking: Booking, occurrences: Iterable[Occurrence], actor) -> None:
    """Tell the requester that a manager (or a fellow member) approved, declined or cancelled
    dates. Nobody is told about their own action."""
    user = booking.requested_by
    changed = list(occurrences)
    if user is None or not changed or getattr(actor, "id", None) == user.id:
        return
    dates = _dates(booking, changed)
    status = changed[0].status
    with force_locale(_language(user)):
        subjects = {
            OccurrenceStatus.APPROVED: gettext("Booking approved: %(title)s", title=booking.title),
            OccurrenceStatus.DECLINED: gettext("Booking declined: %(title)s", title=booking.title),
            OccurrenceStatus.CANCELLED: gettext(
                "Booking cancelled: %(title)s", title=booking.title
            ),
        }
        subject = subjects.get(status, gettext("Booking changed: %(title)s", title=booking.title))
        body = render_template(
            "mail/booking_changed.txt",
            user=user,
            booking=booking,
            dates=dates,
            status=status,
            link=f"{mail.base_url()}/my/bookings",
        )
    mail.enqueue(user.email, subject, body)
