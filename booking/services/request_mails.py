"""How site managers hear of new requests: a mail for each (``notifications.notify_new_request``,
sent by ``request_booking``), one daily summary (``send_digests``, run by
``flask --app booking send-digests`` from cron) or none; each manager chooses on their profile.

The summary lists the requests still waiting at the manager's sites that came in since the last
summary (all waiting requests for the first one) and how many wait in all. Nothing new, no mail.
``digest_sent_at`` remembers the last run, so a second run the same day sends nothing again.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from booking.database import begin_write
from booking.extensions import db
from booking.models import Booking, Occurrence, OccurrenceStatus, RequestMails, Room, User
from booking.services import audit, notifications, permissions
from booking.services.errors import N_, InvalidRequest, NotPermitted

CHOICES = tuple(RequestMails)


def set_request_mails(user, choice: str) -> User:
    """A manager's choice how they hear of new requests: ``each``, ``digest`` or ``none``."""
    user = permissions.require_user(user)
    begin_write()
    if not permissions.manages_any_site(user):
        raise NotPermitted(
            N_("Only the managers of a site get e-mails about requests."), code="not_a_manager"
        )
    try:
        value = RequestMails(choice)
    except ValueError:
        raise InvalidRequest(
            N_("Please choose how you want to hear about new requests."),
            "request_mails",
            code="request_mails_unknown",
        ) from None
    if value is not user.request_mails:
        audit.record(
            "request_mails_changed",
            user,
            user_id=user.id,
            previous=user.request_mails.value,
            value=value.value,
        )
        user.request_mails = value
    db.session.flush()
    return user


def send_digests(*, now: datetime | None = None) -> int:
    """Put each daily summary in the outbox; returns how many. Every manager who chose the
    summary is marked as done at ``now``, whether or not there was anything new."""
    now = now or datetime.now(UTC)
    begin_write()
    managers = db.session.scalars(
        select(User)
        .where(
            User.request_mails == RequestMails.DIGEST,
            User.active.is_(True),
            User.managed_sites.any(),
        )
        .options(selectinload(User.managed_sites))
        .order_by(User.id)
        .with_for_update(of=User)  # PostgreSQL: a second run at once waits, then finds them done
    ).all()
    sent = 0
    for manager in managers:
        waiting = _waiting_requests({site.id for site in manager.managed_sites}, now)
        since = manager.digest_sent_at
        new = [
            notifications.digest_request(booking, dates)
            for booking, dates in waiting
            if since is None or booking.created_at > since
        ]
        if new:
            notifications.notify_request_digest(manager, new, len(waiting))
            sent += 1
        manager.digest_sent_at = now
    db.session.flush()
    return sent


def _waiting_requests(site_ids: set[int], now: datetime) -> list[tuple[Booking, list[Occurrence]]]:
    """The bookings with upcoming pending dates at these sites, each with those dates, by site,
    room and age."""
    occurrences = db.session.scalars(
        select(Occurrence)
        .join(Room, Room.id == Occurrence.room_id)
        .where(
            Room.site_id.in_(site_ids),
            Occurrence.status == OccurrenceStatus.PENDING,
            Occurrence.ends_at > now,
        )
        .order_by(Occurrence.starts_at, Occurrence.id)
    ).all()
    by_booking: dict[int, list[Occurrence]] = defaultdict(list)
    for occurrence in occurrences:
        by_booking[occurrence.booking_id].append(occurrence)
    if not by_booking:
        return []
    bookings = db.session.scalars(
        select(Booking)
        .where(Booking.id.in_(by_booking))
        .options(
            selectinload(Booking.room).selectinload(Room.site),
            selectinload(Booking.organisation),
            selectinload(Booking.requested_by),
        )
    ).all()
    bookings = sorted(bookings, key=lambda b: (b.room.site.name, b.room.name, b.created_at, b.id))
    return [(booking, by_booking[booking.id]) for booking in bookings]
