"""Mails about accounts and bookings: what to tell whom, put in the outbox by the services.

Called by the services at the end of a change, inside its transaction: if the change is rolled
back, the mail is never sent. What a mail *says* (its language, wording, links) is the surface's
business: the application installs a ``Renderer`` (``booking.mails``) that turns a ``Notice``
into subject and text, so services stay free of templates and request state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from booking.models import Booking, Occurrence, OccurrenceStatus, User
from booking.services import mail


@dataclass(frozen=True)
class MailDate:
    """One date of a booking as the mail shows it: aware times in the site's zone."""

    starts_at: datetime
    ends_at: datetime
    status: OccurrenceStatus
    reason: str
    room: str = ""  # the room's name, where a mail names each date's room (a move)
    previous: tuple[datetime, datetime] | None = None  # a moved date's old start and end


@dataclass(frozen=True)
class Notice:
    """Something to tell ``recipient``: ``kind`` names the mail, ``path`` the page it links to
    (relative to the site's base URL), ``values`` what the text needs."""

    kind: str  # "password_reset", "booking_received", "booking_changed", "booking_moved"
    recipient: User
    path: str
    booking: Booking | None = None
    dates: tuple[MailDate, ...] = ()
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str | None = None


Renderer = Callable[[Notice], RenderedMail]
_renderer: Renderer | None = None


def use_renderer(renderer: Renderer) -> None:
    """Install how notices become mails (done once by the application factory)."""
    global _renderer
    _renderer = renderer


def _post(notice: Notice) -> None:
    if _renderer is None:
        raise RuntimeError("No mail renderer installed: create the app first.")
    rendered = _renderer(notice)
    mail.enqueue(notice.recipient.email, rendered.subject, rendered.text, rendered.html)


def _dates(booking: Booking, occurrences: Iterable[Occurrence]) -> tuple[MailDate, ...]:
    zone = ZoneInfo(booking.room.site.timezone)
    return tuple(
        MailDate(
            o.starts_at.astimezone(zone), o.ends_at.astimezone(zone), o.status, o.status_reason
        )
        for o in sorted(occurrences, key=lambda o: o.starts_at)
    )


def send_password_reset(user: User, token: str, expires_in_minutes: int) -> None:
    """The reset link holds the only copy of the token; the database keeps its hash."""
    _post(
        Notice(
            "password_reset",
            user,
            f"/password-reset/{token}",
            values={"minutes": expires_in_minutes},
        )
    )


def notify_booking_received(booking: Booking) -> None:
    """Tell the requester which dates were booked and whether they still wait for approval."""
    user = booking.requested_by
    if user is None or not booking.occurrences:
        return
    dates = _dates(booking, booking.occurrences)
    pending = any(d.status is OccurrenceStatus.PENDING for d in dates)
    _post(
        Notice(
            "booking_received",
            user,
            "/my/bookings",
            booking=booking,
            dates=dates,
            values={"pending": pending},
        )
    )


def notify_booking_changed(booking: Booking, occurrences: Iterable[Occurrence], actor) -> None:
    """Tell the requester that a manager (or a fellow member) approved, declined or cancelled
    dates. Nobody is told about their own action."""
    user = booking.requested_by
    changed = list(occurrences)
    if user is None or not changed or getattr(actor, "id", None) == user.id:
        return
    _post(
        Notice(
            "booking_changed",
            user,
            "/my/bookings",
            booking=booking,
            dates=_dates(booking, changed),
            values={"status": changed[0].status},
        )
    )


def notify_booking_moved(
    booking: Booking,
    occurrences: Iterable[Occurrence],
    previous: dict[int, tuple[datetime, datetime]],
    actor,
    reason: str = "",
) -> None:
    """Tell the requester that a manager (or a fellow member) gave dates new times or a new
    room: each date's old and new time, and why. Nobody is told about their own change."""
    user = booking.requested_by
    moved = sorted(occurrences, key=lambda o: o.starts_at)
    if user is None or not moved or getattr(actor, "id", None) == user.id:
        return
    zone = ZoneInfo(booking.room.site.timezone)
    dates = tuple(
        MailDate(
            o.starts_at.astimezone(zone),
            o.ends_at.astimezone(zone),
            o.status,
            o.status_reason,
            room=o.room.name,
            previous=tuple(t.astimezone(zone) for t in previous[o.id]),
        )
        for o in moved
    )
    _post(
        Notice(
            "booking_moved",
            user,
            "/my/bookings",
            booking=booking,
            dates=dates,
            values={"reason": reason},
        )
    )
