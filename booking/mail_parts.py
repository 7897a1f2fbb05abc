"""The HTML part and the calendar attachment of the booking mails (``booking.mails`` renders
the text and subject and calls these in the recipient's language).

The HTML repeats the text part as a page a mail program can show: the dates as a table, the
room's address and house rules, a link to the booking. The ``.ics`` holds the approved dates the
mail tells of, written by the feeds' own writer, so each date has the UID it has in every feed.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from urllib.parse import urlsplit

from flask import render_template
from flask_babel import get_locale

from booking.feeds import calendar
from booking.feeds.service import ONE_BOOKING, Feed
from booking.links import base_url
from booking.models import Booking, Occurrence, OccurrenceStatus, utcnow
from booking.models.mail import Attachment
from booking.services.notifications import MailDate, Notice

# The mails with an HTML part: the ones about bookings. Password reset, invitation and the
# organisation mails stay plain text (a link and two sentences).
HTML_KINDS = frozenset(
    {"booking_received", "booking_changed", "booking_moved", "request_received", "request_digest"}
)


def booking_link(notice: Notice) -> str:
    """Where the mail's button leads: the booking on "My bookings", or the manager's list."""
    link = base_url() + notice.path
    if notice.booking is not None and notice.path == "/my/bookings":
        link += f"#booking-{notice.booking.id}"
    return link


def house_rules(booking: Booking | None) -> str:
    """The booked room's house rules; a part of a divisible room has its whole's."""
    room = booking.room if booking is not None else None
    while room is not None:
        if room.house_rules.strip():
            return room.house_rules.strip()
        room = room.parent
    return ""


def html(notice: Notice, subject: str, **context) -> str | None:
    """The HTML alternative of ``notice``'s mail (None: this kind is text only)."""
    if notice.kind not in HTML_KINDS:
        return None
    return render_template(
        f"mail/{notice.kind}.html",
        lang=locale.language if (locale := get_locale()) is not None else "de",
        subject=subject,
        booking_link=booking_link(notice),
        **context,
    )


def approved_dates(notice: Notice) -> tuple[MailDate, ...]:
    """The dates this mail confirms: approved dates of a receipt, an approval or a move."""
    if notice.kind not in ("booking_received", "booking_changed", "booking_moved"):
        return ()
    return tuple(
        d
        for d in notice.dates
        if d.status is OccurrenceStatus.APPROVED and d.occurrence_id is not None
    )


def _row(occurrence: Occurrence, now: datetime) -> SimpleNamespace:
    """An occurrence in the shape of a feed row (``service.Selection.rows``)."""
    booking, room = occurrence.booking, occurrence.room
    site = room.site
    return SimpleNamespace(
        id=occurrence.id,
        room_id=room.id,
        starts_at=occurrence.starts_at,
        ends_at=occurrence.ends_at,
        status=occurrence.status,
        status_reason=occurrence.status_reason,
        sequence=occurrence.sequence,
        created_at=occurrence.created_at or now,
        changed=now,  # with METHOD, DTSTAMP is when the file was made
        booking_id=booking.id,
        title=booking.title,
        description=booking.description,
        is_public=booking.is_public,
        organisation=booking.organisation.name if booking.organisation else None,
        room_name=room.name,
        site_name=site.name,
        street=site.street,
        postcode=site.postcode,
        city=site.city,
        timezone=site.timezone,
    )


def calendar_attachment(notice: Notice, lang: str) -> tuple[Attachment, ...]:
    """The approved dates of ``notice`` as ``booking-<id>.ics`` (nothing if there are none)."""
    booking = notice.booking
    ids = {d.occurrence_id for d in approved_dates(notice)}
    if booking is None or not ids:
        return ()
    occurrences = sorted(
        (o for o in booking.occurrences if o.id in ids), key=lambda o: (o.starts_at, o.id)
    )
    now = utcnow()
    feed = Feed(
        kind="booking",
        lang=lang,
        selection=ONE_BOOKING,
        values={"booking_id": booking.id},
        scopes=set(),
        detailed=True,
        timezone=booking.room.site.timezone,
        booking=booking,
        label=booking.title,
    )
    base = base_url()
    text = calendar.invitation(
        feed,
        [_row(o, now) for o in occurrences],
        host=urlsplit(base).hostname or "localhost",
        base_url=base,
        now=now,
    ).decode()
    return (
        Attachment(f"booking-{booking.id}.ics", "text/calendar", text, (("method", "PUBLISH"),)),
    )
