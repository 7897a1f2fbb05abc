"""Changing booked dates: move one date, or give a series' upcoming dates new times or a room.

Every changed date is checked again as a new request would be (bookings, closures, the room's
rules), against everything but the dates being changed themselves.
"""

from __future__ import annotations

from datetime import date, datetime, time

from booking import domain
from booking.database import begin_write
from booking.extensions import db
from booking.models import Booking, Occurrence, OccurrenceStatus, Room, User
from booking.services import occupancy, permissions
from booking.services.errors import (
    N_,
    Conflict,
    InvalidRequest,
    InvalidTransition,
    NotFound,
    NotPermitted,
)
from booking.services.requests import (
    ACTIVE,
    audit,
    blocked_message,
    check_span,
    initial_status,
    local_naive,
    now_or,
)
from booking.services.room_context import active_room, facts, load_context
from booking.services.visibility import get_booking


def _reschedule(
    user: User,
    booking: Booking,
    changes: list[tuple[Occurrence, datetime, datetime]],
    room: Room,
    now: datetime,
    action: str,
) -> Booking:
    """Give occurrences new local times (and maybe a new room), re-checking every conflict."""
    if not permissions.is_party_to(user, booking) and not permissions.can_manage_site(
        user, booking.room.site_id
    ):
        raise NotPermitted(N_("You cannot change this booking."))
    zone = facts(room.id).zone
    slots = []
    for _occ, start, end in changes:
        check_span(start, end)
        slots.append(domain.Slot(domain.from_local(start, zone), domain.from_local(end, zone)))
    ids = [occ.id for occ, _, _ in changes]
    context = load_context(room.id, slots, exclude_occurrences=ids)
    plans = context.check(slots, now=now, attendees=booking.attendees)
    blocked = [p for p in plans if not p.bookable]
    if blocked:
        message, params = blocked_message(blocked)
        raise Conflict(message, plans, **params)
    status = (
        OccurrenceStatus.APPROVED
        if permissions.can_manage_site(user, room.site_id)
        else initial_status(user, room, booking.organisation)
    )
    with occupancy.guarded(N_("Someone else booked this time a moment ago."), plans):
        occupancy.release(ids)
        approved = []
        for (occ, _start, _end), slot in zip(changes, slots, strict=True):
            occ.starts_at, occ.ends_at = slot.starts_at, slot.ends_at
            occ.room = room
            if occ.status is OccurrenceStatus.APPROVED and status is OccurrenceStatus.PENDING:
                occ.status = OccurrenceStatus.PENDING
                occ.decided_by, occ.decided_at = None, None
            occ.sequence += 1
            if occ.status is OccurrenceStatus.APPROVED:
                approved.append(occ)
        if room.id != booking.room_id and all(
            o.room_id == room.id or o.status not in ACTIVE for o in booking.occurrences
        ):
            booking.room = room
        audit(
            action,
            user,
            booking,
            [occ for occ, _, _ in changes],
            room_id=room.id,
            dates=[p.local_start.isoformat() for p in plans],
        )
        db.session.flush()
        occupancy.occupy(approved, context.units, context.rules)
    return booking


def move_occurrence(
    user,
    occurrence_id: int,
    start: datetime,
    end: datetime,
    room_id: int | None = None,
    *,
    now: datetime | None = None,
) -> Booking:
    """Move one date to a new local start and end (and optionally another room)."""
    user = permissions.require_user(user)
    now = now_or(now)
    begin_write()
    occurrence = db.session.get(Occurrence, occurrence_id)
    if occurrence is None:
        raise NotFound(N_("There is no such date."))
    booking = get_booking(user, occurrence.booking_id)
    if occurrence.status not in ACTIVE or occurrence.ends_at <= now:
        raise InvalidTransition(N_("Only upcoming pending or approved dates can be moved."))
    room = active_room(room_id) if room_id is not None else booking.room
    zone = facts(room.id).zone
    return _reschedule(
        user,
        booking,
        [(occurrence, local_naive(start, zone), local_naive(end, zone))],
        room,
        now,
        "moved",
    )


def change_series(
    user,
    booking_id: int,
    *,
    from_date: date,
    start_time: time,
    end_time: time,
    room_id: int | None = None,
    now: datetime | None = None,
) -> Booking:
    """New times (and optionally a new room) for every upcoming active date from ``from_date``.

    Dates cancelled or declined one by one stay as they are.
    """
    user = permissions.require_user(user)
    now = now_or(now)
    booking = get_booking(user, booking_id, for_update=True)
    room = active_room(room_id) if room_id is not None else booking.room
    zone = facts(room.id).zone
    if end_time <= start_time:
        raise InvalidRequest(
            N_("The end must be after the start."), "end_time", code="end_before_start"
        )
    changes = []
    for occ in booking.occurrences:
        day = domain.to_local(occ.starts_at, zone).date()
        if occ.status in ACTIVE and occ.starts_at > now and day >= from_date:
            changes.append(
                (occ, datetime.combine(day, start_time), datetime.combine(day, end_time))
            )
    if not changes:
        raise InvalidTransition(N_("No upcoming date of this booking can be changed."))
    return _reschedule(user, booking, changes, room, now, "series_changed")
