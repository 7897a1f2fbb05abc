"""Finding rooms: which rooms fit and are free, and what a room's week looks like.

Everything a search needs is loaded in a fixed number of queries (rooms, room trees, opening
hours, closures, occupancy), whatever the number of rooms; the pure core then decides per room.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from booking import domain
from booking.extensions import db
from booking.models import (
    Booking,
    Closure,
    Feature,
    Occupancy,
    Occurrence,
    OccurrenceStatus,
    Organisation,
    Room,
    RoomFeature,
    Site,
)
from booking.services import catalogue
from booking.services import rooms as room_data
from booking.services.errors import InvalidRequest

MAX_WINDOW = timedelta(days=62)  # availability windows longer than this are refused


@dataclass(frozen=True)
class RoomQuery:
    """What a searcher asks for. ``start``/``end``: naive local wall time (or aware).

    Without a time, only the static filters apply. With ``weekly_until`` the room must be free
    at the same local time every week from ``start`` up to that date (a term's club evening).
    """

    start: datetime | None = None
    end: datetime | None = None
    min_capacity: int | None = None
    features: tuple[Feature, ...] = ()
    district: str | None = None
    site_id: int | None = None
    step_free: bool = False
    weekly_until: date | None = None


@dataclass(frozen=True)
class RoomMatch:
    room: Room
    score: float  # higher is a better fit
    slots: tuple[domain.Slot, ...] = ()  # the UTC slots checked (empty without a time)


@dataclass(frozen=True)
class BusyBlock:
    """An occupied time as the public may see it: details only for public bookings."""

    slot: domain.Slot  # the booking's own time, without buffers
    occurrence_id: int
    booking_id: int
    room_id: int  # the room booked (may be the whole hall when a part is shown)
    is_public: bool
    title: str | None  # None unless public
    organisation: str | None  # None unless public


@dataclass
class RoomAvailability:
    room: Room
    window: domain.Slot
    zone: ZoneInfo
    busy: list[BusyBlock] = field(default_factory=list)
    free: list[domain.Slot] = field(default_factory=list)
    closures: list[domain.Closure] = field(default_factory=list)


@dataclass(frozen=True)
class DayView:
    day: date
    busy: list[BusyBlock]
    free: list[domain.Slot]
    closures: list[domain.Closure]


@dataclass(frozen=True)
class RoomWeek:
    room: Room
    zone: ZoneInfo
    monday: date
    days: list[DayView]

    @property
    def previous_week(self) -> date:
        return self.monday - timedelta(days=7)

    @property
    def next_week(self) -> date:
        return self.monday + timedelta(days=7)


def default_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BOOKING_TIMEZONE"])


def _filtered(stmt, query: RoomQuery):
    """``stmt`` (which joins Room and Site) limited to active rooms matching the static filters."""
    stmt = stmt.where(Room.active, Site.active)
    if query.min_capacity:
        stmt = stmt.where(Room.capacity >= query.min_capacity)
    if query.district:
        stmt = stmt.where(Site.district == query.district)
    if query.site_id:
        stmt = stmt.where(Room.site_id == query.site_id)
    if query.step_free:
        stmt = stmt.where(Room.step_free)
    for feature in set(query.features):
        stmt = stmt.where(
            select(RoomFeature.room_id)
            .where(RoomFeature.room_id == Room.id, RoomFeature.feature == feature)
            .exists()
        )
    return stmt


def filter_rooms(query: RoomQuery) -> list[Room]:
    """Active rooms matching the static filters, with site and features loaded."""
    stmt = (
        select(Room)
        .join(Room.site)
        .options(selectinload(Room.site), selectinload(Room.feature_rows))
        .order_by(Room.id)
    )
    return list(db.session.scalars(_filtered(stmt, query)))


def _candidates(query: RoomQuery, found: catalogue.Catalogue) -> list[catalogue.RoomFacts]:
    """The rooms matching the static filters, from the catalogue (no query). A search for a
    time keeps a fraction of them; only those become ``Room`` objects."""
    return found.matching(
        min_capacity=query.min_capacity,
        district=query.district,
        site_id=query.site_id,
        step_free=query.step_free,
        features=query.features,
    )


def _load_rooms(room_ids: Sequence[int]) -> list[Room]:
    """``Room`` objects with their site and features, in two queries."""
    if not room_ids:
        return []
    return list(
        db.session.scalars(
            select(Room)
            .where(Room.id.in_(room_ids))
            .options(joinedload(Room.site), selectinload(Room.feature_rows))
            .order_by(Room.id)
        )
    )


class _SiteData:
    """Room tree and opening hours (from the catalogue) and closures of a set of sites."""

    def __init__(
        self, site_ids: Iterable[int], window: domain.Slot, tree: room_data.RoomTree
    ) -> None:
        site_ids = sorted(set(site_ids))
        self.tree = tree
        self.closures: dict[int, list[tuple[int | None, domain.Closure]]] = defaultdict(list)
        for site_id, room_id, start, end, reason in db.session.execute(
            select(
                Closure.site_id, Closure.room_id, Closure.starts_at, Closure.ends_at, Closure.reason
            ).where(
                Closure.site_id.in_(site_ids),
                Closure.starts_at < window.ends_at,
                Closure.ends_at > window.starts_at,
            )
        ):
            self.closures[site_id].append(
                (room_id, domain.Closure(domain.Slot(start, end), reason))
            )

    def opening_owner(self, room: Room) -> tuple[int, int | None] | None:
        return self.tree.hours_owner(room.id, room.site_id)

    def opening(self, room: Room) -> domain.OpeningHours | None:
        return self.tree.opening_hours(room.id, room.site_id)

    def rules(self, room: Room, *, with_opening: bool = True) -> domain.RoomRules:
        return domain.RoomRules(
            capacity=room.capacity,
            buffer_before=timedelta(minutes=room.buffer_before_minutes),
            buffer_after=timedelta(minutes=room.buffer_after_minutes),
            opening=self.opening(room) if with_opening else None,
        )

    def closures_for(self, room: Room) -> list[domain.Closure]:
        if not self.closures.get(room.site_id):
            return []
        related = set(self.tree.related(room.id))
        return [c for owner, c in self.closures[room.site_id] if owner is None or owner in related]


def _busy_by_unit(
    units: Sequence[int], slots: Sequence[domain.Slot], pad: timedelta
) -> dict[int, list[domain.Busy]]:
    found: dict[int, list[domain.Busy]] = defaultdict(list)
    padded = [s.padded(pad, pad) for s in slots]
    for row in room_data.occupied(units, padded):
        found[row.unit_id].append(
            domain.Busy(domain.Slot(row.starts_at, row.ends_at), ref=row.occurrence_id)
        )
    return found


def _query_slots(query: RoomQuery, zone: ZoneInfo) -> list[domain.Slot]:
    if query.start is None and query.end is None:
        return []
    if query.start is None or query.end is None:
        raise InvalidRequest(
            "Give both a start and an end time.", "end" if query.start else "start"
        )
    start, end = query.start, query.end
    if start.tzinfo is not None:
        start = start.astimezone(zone).replace(tzinfo=None)
    if end.tzinfo is not None:
        end = end.astimezone(zone).replace(tzinfo=None)
    if end <= start:
        raise InvalidRequest("The end must be after the start.", "end")
    if end - start > timedelta(days=14):
        raise InvalidRequest("Search for at most 14 days at once.", "end")
    recurrence = None
    if query.weekly_until is not None:
        recurrence = domain.Recurrence(domain.Frequency.WEEKLY, until=query.weekly_until)
    try:
        return list(domain.expand(start, end, zone, recurrence).slots)
    except domain.RecurrenceError as exc:
        raise InvalidRequest(exc.message, "weekly_until") from exc


def _score(room: Room, query: RoomQuery) -> float:
    need = query.min_capacity or 1
    # The smallest room that fits is the best fit: a choir of 20 should not block the assembly hall.
    fit = need / room.capacity if room.capacity else 0.0
    extras = 0.05 * (room.step_free + room.accessible_toilet + room.hearing_loop)
    return round(fit + extras, 4)


def search_rooms(query: RoomQuery, *, zone: ZoneInfo | None = None) -> list[RoomMatch]:
    """Rooms matching the filters and, when a time is given, free for all of it; best fit first."""
    zone = zone or default_zone()
    slots = _query_slots(query, zone)
    # With a time, only the rooms found free become objects.
    if slots:
        found = catalogue.current()
        rooms = _load_rooms(free_room_ids(_candidates(query, found), slots, found.tree))
    else:
        rooms = filter_rooms(query)
    matches = [RoomMatch(room, _score(room, query), tuple(slots)) for room in rooms]
    matches.sort(key=lambda m: (-m.score, m.room.site.name, m.room.name))
    return matches


def free_room_ids(
    rooms: Sequence, slots: Sequence[domain.Slot], tree: room_data.RoomTree
) -> list[int]:
    """The ids of those ``rooms`` free (open, not closed, not occupied incl. buffers) for every
    slot. A room here is anything with ``id``, ``site_id``, ``capacity``, the two buffer
    columns and its site's ``timezone`` (``RoomFacts``); ``tree`` is the catalogue's."""
    if not rooms or not slots:
        return [room.id for room in rooms]
    window = domain.Slot(min(s.starts_at for s in slots), max(s.ends_at for s in slots))
    data = _SiteData({r.site_id for r in rooms}, window, tree)
    units = {r.id: data.tree.units(r.id) for r in rooms}
    pad = timedelta(minutes=max(r.buffer_before_minutes + r.buffer_after_minutes for r in rooms))
    busy = _busy_by_unit(sorted({u for us in units.values() for u in us}), slots, pad)
    # Rooms of one site share their opening hours: whether they cover a slot is worked out once
    # per site and slot. A covered slot is free under those hours exactly when it is free with
    # no hours at all; an uncovered one is never free.
    covered: dict[tuple, bool] = {}
    free = []
    for room in rooms:
        zone = ZoneInfo(room.timezone)
        owner = data.opening_owner(room)
        if owner is not None:
            hours = None
            open_for_all = True
            for slot in slots:
                key = (owner, room.timezone, slot)
                if key not in covered:
                    hours = hours or data.opening(room)
                    covered[key] = hours.covers(slot, zone)
                if not covered[key]:
                    open_for_all = False
                    break
            if not open_for_all:
                continue
        room_busy = [b for unit in units[room.id] for b in busy.get(unit, ())]
        closures = data.closures_for(room)
        if not room_busy and not closures:  # open, and nothing in the way
            free.append(room.id)
            continue
        rules = data.rules(room, with_opening=False)
        if domain.all_free(slots, tz=zone, rules=rules, busy=room_busy, closures=closures):
            free.append(room.id)
    return free


def room_availability(room: Room, window: domain.Slot) -> RoomAvailability:
    """Busy blocks (privacy-safe) and free intervals of one room within ``window``."""
    if window.duration > MAX_WINDOW:
        raise InvalidRequest("Ask for at most 62 days at once.", "end")
    zone = ZoneInfo(room.site.timezone)
    data = _SiteData([room.site_id], window, room_data.room_tree(room))
    units = data.tree.units(room.id)
    rules = data.rules(room)
    pad = rules.buffer_before + rules.buffer_after
    rows = db.session.execute(
        select(
            Occupancy.starts_at,
            Occupancy.ends_at,
            Occurrence.id,
            Occurrence.starts_at,
            Occurrence.ends_at,
            Occurrence.room_id,
            Booking.id,
            Booking.is_public,
            Booking.title,
            Organisation.name,
        )
        .join(Occurrence, Occurrence.id == Occupancy.occurrence_id)
        .join(Booking, Booking.id == Occurrence.booking_id)
        .outerjoin(Organisation, Organisation.id == Booking.organisation_id)
        .where(
            Occupancy.unit_id.in_(units),
            room_data.overlap(window.starts_at - pad, window.ends_at + pad),
        )
    ).all()
    busy, blocks = [], {}
    for o_start, o_end, occ_id, start, end, room_id, booking_id, public, title, org in rows:
        busy.append(domain.Busy(domain.Slot(o_start, o_end), ref=occ_id))
        if occ_id not in blocks and start < window.ends_at and end > window.starts_at:
            blocks[occ_id] = BusyBlock(
                slot=domain.Slot(start, end),
                occurrence_id=occ_id,
                booking_id=booking_id,
                room_id=room_id,
                is_public=public,
                title=title if public else None,
                organisation=org if public else None,
            )
    closures = data.closures_for(room)
    free = domain.free_intervals(window, tz=zone, rules=rules, busy=busy, closures=closures)
    return RoomAvailability(
        room=room,
        window=window,
        zone=zone,
        busy=sorted(blocks.values(), key=lambda b: b.slot),
        free=free,
        closures=closures,
    )


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def room_week(room: Room, monday: date) -> RoomWeek:
    """The room's week (Monday to Sunday, local time) split into days for a calendar."""
    monday = week_start(monday)
    zone = ZoneInfo(room.site.timezone)
    day_starts = [
        domain.from_local(datetime.combine(monday + timedelta(days=i), time(0)), zone)
        for i in range(8)
    ]
    availability = room_availability(room, domain.Slot(day_starts[0], day_starts[7]))
    days = []
    for i in range(7):
        day = domain.Slot(day_starts[i], day_starts[i + 1])
        days.append(
            DayView(
                day=monday + timedelta(days=i),
                busy=[b for b in availability.busy if b.slot.overlaps(day)],
                free=[
                    domain.Slot(max(s.starts_at, day.starts_at), min(s.ends_at, day.ends_at))
                    for s in availability.free
                    if s.overlaps(day)
                ],
                closures=[c for c in availability.closures if c.slot.overlaps(day)],
            )
        )
    return RoomWeek(room=room, zone=zone, monday=monday, days=days)


def upcoming_public(
    *, district: str | None = None, start: datetime | None = None, end: datetime | None = None
):
    """A select of approved dates of public bookings (open offers), soonest first."""
    start = start or datetime.now(UTC)
    stmt = (
        select(Occurrence)
        .join(Booking, Booking.id == Occurrence.booking_id)
        .join(Room, Room.id == Occurrence.room_id)
        .join(Site, Site.id == Room.site_id)
        .where(
            Booking.is_public,
            Occurrence.status == OccurrenceStatus.APPROVED,
            Occurrence.ends_at > start,
            Room.active,
            Site.active,
        )
        .order_by(Occurrence.starts_at, Occurrence.id)
    )
    if end is not None:
        stmt = stmt.where(Occurrence.starts_at < end)
    if district:
        stmt = stmt.where(Site.district == district)
    return stmt
