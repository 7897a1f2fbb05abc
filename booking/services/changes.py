"""Changing booked dates: move one date, or give a series' upcoming dates new times or a room.

Every changed date is checked again as a new request would be (bookings, closures, the room's
rules), against everything but the dates being changed themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from booking import domain
from booking.database import begin_write
from booking.extensions import db
from booking.models import Booking, Occurrence, OccurrenceStatus, Room, User
from booking.services import occupancy, permissions
from booking.services.decisions import clean_reason
from booking.services.errors import (
    N_,
    Conflict,
    InvalidRequest,
    InvalidTransition,
    NotFound,
    NotPermitted,
)
from booking.services.notifications import notify_booking_moved
from booking.services.requests import (
    ACTIVE,
    audit,
    blocked_message,
    check_span,
    initial_status,
    local_naive,
    now_or,
)
from booking.services.room_context import RoomContext, active_room, facts, load_context
from booking.services.visibility import get_booking

Change = tuple[Occurrence, datetime, datetime]  # a date and its new local (naive) start and end


@dataclass(frozen=True)
class ChangePlan:
    """A change checked but not written: each date's new time with its problems, in order."""

    booking: Booking
    room: Room
    occurrences: tuple[Occurrence, ...]  # the dates to change, as they are now
    dates: tuple[domain.DatePlan, ...]  # their new times, each with what is in the way
    context: RoomContext

    @property
    def blocked(self) -> list[domain.DatePlan]:
        return [d for d in self.dates if not d.bookable]

    @property
    def bookable(self) -> list[domain.DatePlan]:
        return [d for d in self.dates if d.bookable]


def _plan(
    user: User, booking: Booking, changes: list[Change], room: Room, now: datetime
) -> ChangePlan:
    """Check the new times of ``changes`` as a new request would be checked, against everything
    but these dates themselves: the one check of every preview and every change."""
    if not permissions.is_party_to(user, booking) and not permissions.can_manage_site(
        user, booking.room.site_id
    ):
        raise NotPermitted(N_("You cannot change this booking."))
    zone = facts(room.id).zone
    slots = []
    for _occ, start, end in changes:
        check_span(start, end)
        slots.append(domain.Slot(domain.from_local(start, zone), domain.from_local(end, zone)))
    context = load_context(room.id, slots, exclude_occurrences=[occ.id for occ, _, _ in changes])
    plans = context.check(slots, now=now, attendees=booking.attendees)
    return ChangePlan(booking, room, tuple(occ for occ, _, _ in changes), tuple(plans), context)


def _reschedule(
    user: User,
    booking: Booking,
    changes: list[Change],
    room: Room,
    now: datetime,
    action: str,
    reason: str = "",
) -> Booking:
    """Give occurrences new local times (and maybe a new room), re-checking every conflict."""
    plan = _plan(user, booking, changes, room, now)
    plans, context = list(plan.dates), plan.context
    if plan.blocked:
        message, params = blocked_message(plan.blocked)
        raise Conflict(message, plans, **params)
    status = (
        OccurrenceStatus.APPROVED
        if permissions.can_manage_site(user, room.site_id)
        else initial_status(user, room, booking.organisation)
    )
    ids = [occ.id for occ in plan.occurrences]
    previous = {occ.id: (occ.starts_at, occ.ends_at) for occ in plan.occurrences}
    with occupancy.guarded(N_("Someone else booked this time a moment ago."), plans):
        occupancy.release(ids)
        approved = []
        for occ, date_plan in zip(plan.occurrences, plans, strict=True):
            occ.starts_at, occ.ends_at = date_plan.slot.starts_at, date_plan.slot.ends_at
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
            plan.occurrences,
            reason,
            to_room_id=room.id,
            dates=[p.local_start.isoformat() for p in plans],
        )
        db.session.flush()
        occupancy.occupy(approved, context.units, context.rules)
        notify_booking_moved(booking, plan.occurrences, previous, user, reason)
    return booking


def _move(
    user: User, occurrence_id: int, start: datetime, end: datetime, room_id: int | None, now
) -> tuple[Booking, list[Change], Room]:
    """What moving one date means: the booking, the date with its new local times, the room."""
    occurrence = db.session.get(Occurrence, occurrence_id)
    if occurrence is None:
        raise NotFound(N_("There is no such date."))
    booking = get_booking(user, occurrence.booking_id)
    if occurrence.status not in ACTIVE or occurrence.ends_at <= now:
        raise InvalidTransition(N_("Only upcoming pending or approved dates can be moved."))
    room = active_room(room_id) if room_id is not None else booking.room
    zone = facts(room.id).zone
    return booking, [(occurrence, local_naive(start, zone), local_naive(end, zone))], room


def _series(
    user: User,
    booking_id: int,
    from_date: date,
    start_time: time,
    end_time: time,
    room_id: int | None,
    now: datetime,
    *,
    for_update: bool = False,
) -> tuple[Booking, list[Change], Room]:
    """What a series change means: every upcoming active date from ``from_date`` at the new
    local times. Dates cancelled or declined one by one stay as they are."""
    booking = get_booking(user, booking_id, for_update=for_update)
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
    return booking, changes, room


def plan_move(
    user,
    occurrence_id: int,
    start: datetime,
    end: datetime,
    room_id: int | None = None,
    *,
    now: datetime | None = None,
) -> ChangePlan:
    """The preview of ``move_occurrence``: the new time checked, nothing written."""
    user = permissions.require_user(user)
    now = now_or(now)
    booking, changes, room = _move(user, occurrence_id, start, end, room_id, now)
    return _plan(user, booking, changes, room, now)


def move_occurrence(
    user,
    occurrence_id: int,
    start: datetime,
    end: datetime,
    room_id: int | None = None,
    *,
    reason: str = "",
    now: datetime | None = None,
) -> Booking:
    """Move one date to a new local start and end (and optionally another room); the requester
    is told, with ``reason``."""
    user = permissions.require_user(user)
    now = now_or(now)
    reason = clean_reason(reason, required=False, field="reason")
    begin_write()
    booking, changes, room = _move(user, occurrence_id, start, end, room_id, now)
    return _reschedule(user, booking, changes, room, now, "moved", reason)


def plan_series_change(
    user,
    booking_id: int,
    *,
    from_date: date,
    start_time: time,
    end_time: time,
    room_id: int | None = None,
    now: datetime | None = None,
) -> ChangePlan:
    """The preview of ``change_series``: every changed date checked, nothing written."""
    user = permissions.require_user(user)
    now = now_or(now)
    booking, changes, room = _series(
        user, booking_id, from_date, start_time, end_time, room_id, now
    )
    return _plan(user, booking, changes, room, now)


def change_series(
    user,
    booking_id: int,
    *,
    from_date: date,
    start_time: time,
    end_time: time,
    room_id: int | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> Booking:
    """New times (and optionally a new room) for every upcoming active date from ``from_date``;
    the requester is told, with ``reason``."""
    user = permissions.require_user(user)
    now = now_or(now)
    reason = clean_reason(reason, required=False, field="reason")
    booking, changes, room = _series(
        user, booking_id, from_date, start_time, end_time, room_id, now, for_update=True
    )
    return _reschedule(user, booking, changes, room, now, "series_changed", reason)
