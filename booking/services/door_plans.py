"""Plans for the door: a site's day or week plan and a room's door sign, for its managers.

Everything is in the site's wall time: a day is local midnight to local midnight (23 or 25 hours
on a DST change), a week starts on Monday. A plan loads its rooms and dates in a fixed number of
statements, however many bookings there are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from booking import domain
from booking.extensions import db
from booking.models import Booking, Occurrence, OccurrenceStatus, Room, Site
from booking.services import permissions
from booking.services.errors import N_, InvalidRequest, NotFound, NotPermitted

PlanView = Literal["day", "week"]
VIEWS: tuple[PlanView, ...] = ("day", "week")


@dataclass(frozen=True)
class PlanEntry:
    """One booked date as a plan shows it; times are aware datetimes in the site's zone."""

    occurrence_id: int
    booking_id: int
    room_id: int
    room_name: str
    status: OccurrenceStatus
    starts_at: datetime
    ends_at: datetime
    set_up_from: datetime  # starts_at minus the room's set-up buffer
    cleaned_by: datetime  # ends_at plus the room's cleaning buffer
    title: str
    is_public: bool
    organisation: str | None
    contact_name: str | None
    contact_email: str | None
    attendees: int | None

    @property
    def pending(self) -> bool:
        return self.status == OccurrenceStatus.PENDING

    @property
    def has_set_up(self) -> bool:
        return self.set_up_from != self.starts_at

    @property
    def has_cleaning(self) -> bool:
        return self.cleaned_by != self.ends_at


@dataclass(frozen=True)
class RoomDay:
    room: Room
    entries: tuple[PlanEntry, ...]


@dataclass(frozen=True)
class PlanDay:
    day: date
    rooms: tuple[RoomDay, ...]

    @property
    def is_empty(self) -> bool:
        return not any(r.entries for r in self.rooms)


@dataclass(frozen=True)
class SitePlan:
    site: Site
    zone: ZoneInfo
    view: PlanView
    first_day: date
    days: tuple[PlanDay, ...]
    with_pending: bool

    @property
    def last_day(self) -> date:
        return self.days[-1].day

    @property
    def previous(self) -> date:
        return self.first_day - timedelta(days=len(self.days))

    @property
    def next(self) -> date:
        return self.first_day + timedelta(days=len(self.days))


@dataclass(frozen=True)
class DoorSign:
    room: Room
    site: Site
    zone: ZoneInfo
    day: date
    # The room's approved dates that day, and those of the rooms it is part of or divided into
    # (a booking of the whole hall uses each third, and a third's booking a part of the hall).
    entries: tuple[PlanEntry, ...]


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def site_plan(
    user, site_id: int, day: date, view: PlanView = "day", *, with_pending: bool = False
) -> SitePlan:
    """The site's active rooms and their approved dates (and, if asked, the pending ones) on
    ``day`` or in the week (Monday to Sunday) that contains it. For the site's managers only:
    the plan shows every booking's title, organisation and contact, private ones too."""
    if view not in VIEWS:
        raise InvalidRequest(N_("A plan shows a day or a week."), "view", code="invalid_view")
    site = _managed_site(user, site_id)
    zone = ZoneInfo(site.timezone)
    first = week_start(day) if view == "week" else day
    days = [first + timedelta(days=i) for i in range(7 if view == "week" else 1)]
    rooms = list(
        db.session.scalars(
            select(Room).where(Room.site_id == site.id, Room.active).order_by(Room.name, Room.id)
        )
    )
    statuses = [OccurrenceStatus.APPROVED]
    if with_pending:
        statuses.append(OccurrenceStatus.PENDING)
    entries = _entries([r.id for r in rooms], days[0], days[-1], zone, statuses)
    plan_days = []
    for d in days:
        starts, ends = _day_bounds(d, zone)
        plan_days.append(
            PlanDay(
                d,
                tuple(
                    RoomDay(
                        room,
                        tuple(
                            e
                            for e in entries
                            if e.room_id == room.id and e.starts_at < ends and e.ends_at > starts
                        ),
                    )
                    for room in rooms
                ),
            )
        )
    return SitePlan(site, zone, view, first, tuple(plan_days), with_pending)


def door_sign(user, room_id: int, day: date) -> DoorSign:
    """What happens in one room on one local day, for the sign on its door: approved dates
    only. For the managers of the room's site."""
    permissions.require_user(user)
    room = db.session.get(Room, room_id)
    if room is None or not room.active:
        raise NotFound(N_("There is no such room."), code="room_not_found")
    site = _managed_site(user, room.site_id)
    zone = ZoneInfo(site.timezone)
    site_rooms = {r.id: r for r in db.session.scalars(select(Room).where(Room.site_id == site.id))}
    related = _related_rooms(room.id, site_rooms)
    entries = _entries(related, day, day, zone, [OccurrenceStatus.APPROVED])
    return DoorSign(room, site, zone, day, tuple(entries))


def _managed_site(user, site_id: int) -> Site:
    permissions.require_user(user)
    if not permissions.can_manage_site(user, site_id):
        raise NotPermitted(N_("You do not manage this site."), code="site_not_managed")
    site = db.session.get(Site, site_id)
    if site is None:
        raise NotFound(N_("There is no such site."), code="site_not_found")
    return site


def _day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Local midnight to the next local midnight, as UTC instants."""
    return (
        domain.from_local(datetime.combine(day, time(0)), zone),
        domain.from_local(datetime.combine(day + timedelta(days=1), time(0)), zone),
    )


def _related_rooms(room_id: int, rooms: dict[int, Room]) -> list[int]:
    """The room, the rooms it is a part of and its parts, at any depth."""
    found = {room_id}
    parent = rooms[room_id].parent_id
    while parent is not None and parent not in found:
        found.add(parent)
        parent = rooms[parent].parent_id if parent in rooms else None
    below = [room_id]
    while below:
        parent_id = below.pop()
        for r in rooms.values():
            if r.parent_id == parent_id and r.id not in found:
                found.add(r.id)
                below.append(r.id)
    return sorted(found)


def _entries(
    room_ids: Iterable[int],
    first_day: date,
    last_day: date,
    zone: ZoneInfo,
    statuses: list[OccurrenceStatus],
) -> list[PlanEntry]:
    """The dates of these rooms overlapping the local days, in one statement, by start time."""
    room_ids = list(room_ids)
    if not room_ids:
        return []
    starts, _ = _day_bounds(first_day, zone)
    _, ends = _day_bounds(last_day, zone)
    occurrences = db.session.scalars(
        select(Occurrence)
        .where(
            Occurrence.room_id.in_(room_ids),
            Occurrence.status.in_(statuses),
            Occurrence.starts_at < ends,
            Occurrence.ends_at > starts,
        )
        .options(
            joinedload(Occurrence.room),
            joinedload(Occurrence.booking).joinedload(Booking.organisation),
            joinedload(Occurrence.booking).joinedload(Booking.requested_by),
        )
        .order_by(Occurrence.starts_at, Occurrence.ends_at, Occurrence.id)
    ).all()
    return [_entry(o, zone) for o in occurrences]


def _entry(occurrence: Occurrence, zone: ZoneInfo) -> PlanEntry:
    booking, room = occurrence.booking, occurrence.room
    requester = booking.requested_by
    return PlanEntry(
        occurrence_id=occurrence.id,
        booking_id=booking.id,
        room_id=room.id,
        room_name=room.name,
        status=occurrence.status,
        starts_at=domain.to_local(occurrence.starts_at, zone),
        ends_at=domain.to_local(occurrence.ends_at, zone),
        set_up_from=domain.to_local(
            occurrence.starts_at - timedelta(minutes=room.buffer_before_minutes), zone
        ),
        cleaned_by=domain.to_local(
            occurrence.ends_at + timedelta(minutes=room.buffer_after_minutes), zone
        ),
        title=booking.title,
        is_public=booking.is_public,
        organisation=booking.organisation.name if booking.organisation else None,
        contact_name=requester.name if requester else None,
        contact_email=requester.email if requester else None,
        attendees=booking.attendees,
    )
