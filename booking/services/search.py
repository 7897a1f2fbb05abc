"""Finding rooms: which rooms fit and are free, and what a room's week looks like.

Everything a search needs is loaded in a fixed number of queries (rooms, room trees, opening
hours, closures, occupancy), whatever the number of rooms; the pure core then decides per room.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, cast, column, func, literal_column, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import joinedload, selectinload

from booking import domain
from booking.extensions import db
from booking.models import (
    BOOKING_TEXT_VECTOR,
    Booking,
    Occupancy,
    Occurrence,
    OccurrenceStatus,
    Organisation,
    Room,
    RoomFeature,
    Site,
    User,
)
from booking.services import catalogue, occupancy, room_context, visibility
from booking.services.errors import N_, InvalidRequest
from booking.services.requests import recurrence_problem

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
    features: tuple[str, ...] = ()  # feature keys; each one is required
    district: str | None = None
    site_id: int | None = None
    step_free: bool = False
    weekly_until: date | None = None
    # Weekly only: leave out the weeks a room is closed (school holidays), as the booking form
    # does by default, instead of counting them as not free.
    skip_closures: bool = False


@dataclass(frozen=True)
class RoomMatch:
    room: Room
    score: float  # higher is a better fit
    slots: tuple[domain.Slot, ...] = ()  # the UTC slots checked (empty without a time)
    # Weekly searches: the dates checked for this room (without the skipped closed weeks),
    # how many of them are free, and how many weeks were skipped because the room is closed.
    dates: int = 0
    free_dates: int = 0
    skipped_weeks: int = 0

    @property
    def partial(self) -> bool:
        return self.free_dates < self.dates


@dataclass(frozen=True)
class WeeklyResult:
    """A weekly search: the rooms free on every date checked, then those free on most."""

    matches: list[RoomMatch]
    partial: list[RoomMatch]


@dataclass(frozen=True)
class BusyBlock:
    """An occupied (or, for the site's managers, requested) time as the viewer may see it:
    to the public, details only for public bookings; to the site's managers, every booking's
    title, organisation and requester (``detailed``)."""

    slot: domain.Slot  # the booking's own time, without buffers
    occurrence_id: int
    booking_id: int
    room_id: int  # the room booked (may be the whole hall when a part is shown)
    is_public: bool
    title: str | None  # None unless public or detailed
    organisation: str | None  # None unless public or detailed
    requester: str | None = None  # None unless detailed
    detailed: bool = False  # shown to the site's managers: every detail above is filled in
    pending: bool = False  # a request waiting for approval (only ever shown when detailed)


@dataclass
class RoomAvailability:
    room: Room
    window: domain.Slot
    zone: ZoneInfo
    busy: list[BusyBlock] = field(default_factory=list)
    free: list[domain.Slot] = field(default_factory=list)
    closures: list[domain.Closure] = field(default_factory=list)
    pending: list[BusyBlock] = field(default_factory=list)  # only for the site's managers
    detailed: bool = False  # the viewer manages the site: who booked, and the requests


@dataclass(frozen=True)
class DayView:
    day: date
    busy: list[BusyBlock]
    free: list[domain.Slot]
    closures: list[domain.Closure]
    pending: list[BusyBlock] = field(default_factory=list)


@dataclass(frozen=True)
class RoomWeek:
    room: Room
    zone: ZoneInfo
    monday: date
    days: list[DayView]
    detailed: bool = False  # see ``RoomAvailability.detailed``

    @property
    def previous_week(self) -> date:
        return self.monday - timedelta(days=7)

    @property
    def next_week(self) -> date:
        return self.monday + timedelta(days=7)


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


def _query_slots(query: RoomQuery, zone: ZoneInfo) -> list[domain.Slot]:
    if query.start is None and query.end is None:
        return []
    if query.start is None or query.end is None:
        raise InvalidRequest(
            N_("Give both a start and an end time."),
            "end" if query.start else "start",
            code="time_incomplete",
        )
    start, end = query.start, query.end
    if start.tzinfo is not None:
        start = start.astimezone(zone).replace(tzinfo=None)
    if end.tzinfo is not None:
        end = end.astimezone(zone).replace(tzinfo=None)
    if end <= start:
        raise InvalidRequest(N_("The end must be after the start."), "end", code="end_before_start")
    if end - start > timedelta(days=14):
        raise InvalidRequest(
            N_("Search for at most %(days)d days at once."), "end", code="search_too_long", days=14
        )
    recurrence = None
    if query.weekly_until is not None:
        recurrence = domain.Recurrence(domain.Frequency.WEEKLY, until=query.weekly_until)
    try:
        return list(domain.expand(start, end, zone, recurrence).slots)
    except domain.RecurrenceError as exc:
        raise recurrence_problem(exc, "weekly_until") from exc


def _score(room: Room, query: RoomQuery) -> float:
    need = query.min_capacity or 1
    # The smallest room that fits is the best fit: a choir of 20 should not block the assembly hall.
    fit = need / room.capacity if room.capacity else 0.0
    extras = 0.05 * (room.step_free + room.accessible_toilet + room.hearing_loop)
    return round(fit + extras, 4)


def search_rooms(
    query: RoomQuery, *, zone: ZoneInfo, now: datetime | None = None
) -> list[RoomMatch]:
    """Rooms matching the filters and, when a time is given, free for all of it and bookable
    by the room's own rules at ``now`` (notice, how far ahead, duration); best fit first.

    ``zone`` is the city's: the zone of a query given as local wall time.
    """
    slots = _query_slots(query, zone)
    if slots and query.weekly_until is not None and query.skip_closures:
        return search_weekly(query, zone=zone, now=now, partial_limit=0).matches
    # With a time, only the rooms found free become objects.
    rooms = _load_rooms(_room_ids(query, slots, now=now)) if slots else filter_rooms(query)
    matches = [RoomMatch(room, _score(room, query), tuple(slots)) for room in rooms]
    matches.sort(key=lambda m: (-m.score, m.room.site.name, m.room.name))
    return matches


def room_ids(
    query: RoomQuery,
    *,
    zone: ZoneInfo,
    now: datetime | None = None,
    found: catalogue.Catalogue | None = None,
) -> list[int]:
    """The ids of the rooms ``search_rooms`` finds, in id order, without loading them (the API
    serialises rooms from its own per-catalogue cache)."""
    return _room_ids(query, _query_slots(query, zone), now=now, found=found)


def _room_ids(
    query: RoomQuery,
    slots: Sequence[domain.Slot],
    *,
    now: datetime | None,
    found: catalogue.Catalogue | None = None,
) -> list[int]:
    found = found or catalogue.current()
    candidates = [room.id for room in _candidates(query, found)]
    if not slots:
        return candidates
    now = now or datetime.now(UTC)
    if query.weekly_until is not None and query.skip_closures:
        # The weeks a room is closed are left out: free on every date that is left.
        counts = count_free_dates(candidates, slots, now=now, skip_closures=True, found=found)
        return sorted(i for i, c in counts.items() if c.dates and c.free == c.dates)
    return sorted(free_room_ids(candidates, slots, now=now, found=found))


def free_room_ids(
    room_ids: Sequence[int],
    slots: Sequence[domain.Slot],
    *,
    now: datetime,
    found: catalogue.Catalogue | None = None,
) -> list[int]:
    """The ids of those rooms that could be booked for every slot: open, not closed, not
    occupied (buffers included), and within the room's notice, advance and duration limits."""
    if not room_ids or not slots:
        return list(room_ids)
    contexts = room_context.load_contexts(room_ids, slots, found=found)
    # Rooms of one site mostly share their opening hours: whether they cover a slot is worked
    # out once per set of hours (``hours_key``: weekly windows and dated exceptions) and slot.
    # A covered slot is free under those hours exactly when it is free with no hours at all;
    # an uncovered one is never free. The same holds for the time rules.
    covered: dict[tuple, bool] = {}
    in_time: dict[tuple, bool] = {}
    candidates = []
    for context in contexts.values():
        rules, zone = context.rules, context.zone
        if rules.opening is not None:
            owner = context.tree.hours_key(context.room_id, context.facts.site_id)
            open_for_all = True
            for slot in slots:
                key = (owner, context.facts.timezone, slot)
                if key not in covered:
                    covered[key] = rules.opening.covers(slot, zone)
                if not covered[key]:
                    open_for_all = False
                    break
            if not open_for_all:
                continue
        limits = (rules.min_lead, rules.max_advance, rules.min_duration, rules.max_duration)
        if limits not in in_time:
            in_time[limits] = domain.within_time_rules(slots, rules, now)
        if in_time[limits]:
            candidates.append(context)
    # The bookings in the way: asked of the database for all candidates at once (room ids
    # come back, not occupancy rows); closures are few and checked here.
    taken = occupancy.rooms_in_use(
        {c.room_id: (c.units, c.rules.buffer_before, c.rules.buffer_after) for c in candidates},
        slots,
    )
    free = []
    for context in candidates:
        if context.room_id in taken:
            continue
        if context.closures and not domain.all_free(
            slots,
            tz=context.zone,
            rules=dataclasses.replace(context.rules, opening=None),
            busy=[],
            closures=context.closures,
        ):
            continue
        free.append(context.room_id)
    return free


PARTIAL_LIMIT = 10  # rooms free on most dates, listed after the rooms free on all of them


@dataclass(frozen=True)
class DateCount:
    """One room in a weekly search: the dates checked, how many are free, weeks skipped."""

    dates: int
    free: int
    skipped: int


def count_free_dates(
    room_ids: Sequence[int],
    slots: Sequence[domain.Slot],
    *,
    now: datetime,
    skip_closures: bool,
    found: catalogue.Catalogue | None = None,
) -> dict[int, DateCount]:
    """Per room, how many of ``slots`` could be booked, by the same rules as ``free_room_ids``.

    With ``skip_closures`` a slot on which the room is closed is left out (and counted as a
    skipped week), as the booking form's expansion does with "skip school holidays and
    closures"; without, it is a date that is not free. One statement for closures and one for
    the dates in use, whatever the number of rooms.
    """
    if not room_ids or not slots:
        return {}
    contexts = room_context.load_contexts(room_ids, slots, found=found)
    # The dates each room has bookings on, decided in the database (see ``free_room_ids``).
    in_use = occupancy.dates_in_use(
        {
            c.room_id: (c.units, c.rules.buffer_before, c.rules.buffer_after)
            for c in contexts.values()
        },
        slots,
    )
    covered: dict[tuple, bool] = {}
    counts: dict[int, DateCount] = {}
    for context in contexts.values():
        rules, zone = context.rules, context.zone
        closed = [False] * len(slots)
        if context.closures:
            hits = domain.find_overlaps(slots, [domain.Busy(c.slot) for c in context.closures])
            closed = [bool(hit) for hit in hits]
        taken = in_use.get(context.room_id, ())
        owner = (
            context.tree.hours_key(context.room_id, context.facts.site_id)
            if rules.opening is not None
            else None
        )
        dates = free = skipped = 0
        for index, slot in enumerate(slots):
            if closed[index] and skip_closures:
                skipped += 1
                continue
            dates += 1
            if closed[index] or index in taken:
                continue
            if rules.opening is not None:
                key = (owner, context.facts.timezone, slot)
                if key not in covered:
                    covered[key] = rules.opening.covers(slot, zone)
                if not covered[key]:
                    continue
            if domain.within_time_rules((slot,), rules, now):
                free += 1
        counts[context.room_id] = DateCount(dates, free, skipped)
    return counts


def search_weekly(
    query: RoomQuery,
    *,
    zone: ZoneInfo,
    now: datetime | None = None,
    partial_limit: int = PARTIAL_LIMIT,
) -> WeeklyResult:
    """A weekly search counted per room: the rooms free on every date checked (best fit
    first), then up to ``partial_limit`` rooms free on most of them, more than half (most
    free dates first). With ``query.skip_closures`` the weeks a room is closed are left out.

    Only the rooms listed become ``Room`` objects; the others stay catalogue facts.
    """
    slots = _query_slots(query, zone)
    if not slots:
        return WeeklyResult(search_rooms(query, zone=zone, now=now), [])
    found = catalogue.current()
    candidates = _candidates(query, found)
    counts = count_free_dates(
        [room.id for room in candidates],
        slots,
        now=now or datetime.now(UTC),
        skip_closures=query.skip_closures,
        found=found,
    )
    full = [i for i, c in counts.items() if c.dates and c.free == c.dates]
    need = query.min_capacity or 1

    def most_free_first(room_id: int) -> tuple:
        count, capacity = counts[room_id], found.rooms[room_id].capacity
        return (-count.free / count.dates, -need / max(capacity, 1), room_id)

    most = sorted(
        (i for i, c in counts.items() if c.free < c.dates < 2 * c.free), key=most_free_first
    )[:partial_limit]
    rooms = {room.id: room for room in _load_rooms(full + most)}

    def match(room_id: int) -> RoomMatch:
        room, count = rooms[room_id], counts[room_id]
        return RoomMatch(
            room,
            _score(room, query),
            tuple(slots),
            dates=count.dates,
            free_dates=count.free,
            skipped_weeks=count.skipped,
        )

    matches = [match(i) for i in full]
    matches.sort(key=lambda m: (-m.score, m.room.site.name, m.room.name))
    return WeeklyResult(matches, [match(i) for i in most])


def room_availability(room: Room, window: domain.Slot, *, user=None) -> RoomAvailability:
    """Busy blocks and free intervals of one room within ``window``.

    Privacy-safe for everyone but the managers of the room's site (and administrators): given
    as ``user``, they see who booked each time and the requests waiting for it as well.
    """
    if window.duration > MAX_WINDOW:
        raise InvalidRequest(
            N_("Ask for at most %(days)d days at once."),
            "end",
            code="window_too_long",
            days=MAX_WINDOW.days,
        )
    context = room_context.load_contexts([room.id], [window])[room.id]
    zone, units = context.zone, context.units
    # The free times shown are where a booking could go: the room's own buffers keep it apart
    # from the busy times; notice and duration limits are the booking form's business.
    rules = dataclasses.replace(
        context.rules, min_lead=timedelta(0), max_advance=None, min_duration=None, max_duration=None
    )
    pad = rules.buffer_before + rules.buffer_after
    rows = db.session.execute(
        _with_people(
            select(Occupancy.starts_at, Occupancy.ends_at, *_BLOCK_COLUMNS).join(
                Occurrence, Occurrence.id == Occupancy.occurrence_id
            )
        ).where(
            Occupancy.unit_id.in_(units),
            occupancy.overlap(window.starts_at - pad, window.ends_at + pad),
        )
    ).all()
    detailed = visibility.viewer(user).manages(room.site_id)
    busy, blocks = [], {}
    for o_start, o_end, occ_id, start, end, room_id, booking_id, public, *who in rows:
        busy.append(domain.Busy(domain.Slot(o_start, o_end), ref=occ_id))
        if occ_id not in blocks and start < window.ends_at and end > window.starts_at:
            blocks[occ_id] = _block(
                (occ_id, start, end, room_id, booking_id, public, *who), detailed=detailed
            )
    pending = _pending_blocks(room.site_id, units, context.tree, window) if detailed else []
    closures = context.closures
    free = domain.free_intervals(window, tz=zone, rules=rules, busy=busy, closures=closures)
    return RoomAvailability(
        room=room,
        window=window,
        zone=zone,
        busy=sorted(blocks.values(), key=lambda b: b.slot),
        free=free,
        closures=closures,
        pending=pending,
        detailed=detailed,
    )


# What a calendar block shows of a date, in the order ``_block`` reads it.
_BLOCK_COLUMNS = (
    Occurrence.id,
    Occurrence.starts_at,
    Occurrence.ends_at,
    Occurrence.room_id,
    Booking.id,
    Booking.is_public,
    Booking.title,
    Organisation.name,
    User.name,
)


def _with_people(stmt):
    """``stmt`` (selecting ``_BLOCK_COLUMNS`` from occurrences) joined to the booking, its
    organisation and its requester."""
    return (
        stmt.join(Booking, Booking.id == Occurrence.booking_id)
        .outerjoin(Organisation, Organisation.id == Booking.organisation_id)
        .outerjoin(User, User.id == Booking.requested_by_id)
    )


def _block(row, *, detailed: bool, pending: bool = False) -> BusyBlock:
    """One date as the viewer may see it: the public only the titles of public bookings."""
    occ_id, start, end, room_id, booking_id, public, title, organisation, requester = row
    shown = detailed or public
    return BusyBlock(
        slot=domain.Slot(start, end),
        occurrence_id=occ_id,
        booking_id=booking_id,
        room_id=room_id,
        is_public=public,
        title=title if shown else None,
        organisation=organisation if shown else None,
        requester=requester if detailed else None,
        detailed=detailed,
        pending=pending,
    )


def _pending_blocks(
    site_id: int, units: Sequence[int], tree: domain.RoomTree, window: domain.Slot
) -> list[BusyBlock]:
    """The requests waiting for approval within ``window`` that want a part of these units
    (a whole hall's request is shown on its thirds and the other way round)."""
    rows = db.session.execute(
        _with_people(select(*_BLOCK_COLUMNS))
        .join(Room, Room.id == Occurrence.room_id)
        .where(
            Room.site_id == site_id,
            Occurrence.status == OccurrenceStatus.PENDING,
            Occurrence.starts_at < window.ends_at,
            Occurrence.ends_at > window.starts_at,
        )
        .order_by(Occurrence.starts_at, Occurrence.id)
    ).all()
    wanted = set(units)
    return [
        _block(tuple(row), detailed=True, pending=True)
        for row in rows
        if not wanted.isdisjoint(tree.units(row[3]))
    ]


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def room_week(room: Room, monday: date, *, user=None) -> RoomWeek:
    """The room's week (Monday to Sunday, local time) split into days for a calendar; in full
    for the managers of its site (see ``room_availability``)."""
    monday = week_start(monday)
    zone = ZoneInfo(room.site.timezone)
    day_starts = [
        domain.from_local(datetime.combine(monday + timedelta(days=i), time(0)), zone)
        for i in range(8)
    ]
    availability = room_availability(room, domain.Slot(day_starts[0], day_starts[7]), user=user)
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
                pending=[p for p in availability.pending if p.slot.overlaps(day)],
            )
        )
    return RoomWeek(room=room, zone=zone, monday=monday, days=days, detailed=availability.detailed)


WORDS_MAX = 100


def offer_words(text: str | None) -> list[str]:
    """The words of a search for offers (letters and digits; at most ``WORDS_MAX`` characters
    typed, else ``InvalidRequest`` on ``q``); punctuation alone searches for nothing."""
    text = (text or "").strip()
    if len(text) > WORDS_MAX:
        message = N_("Please enter at most %(max)d characters.")
        raise InvalidRequest(message, "q", code="query_too_long", max=WORDS_MAX)
    return re.findall(r"\w+", text)


def _matching_words(words: list[str]):
    """Bookings whose title or description holds every word: PostgreSQL by German stems (the
    GIN index of migration 0017), SQLite by word beginnings (its FTS5 table ``booking_text``)."""
    if db.session.get_bind().dialect.name == "postgresql":
        vector = BOOKING_TEXT_VECTOR.replace("(title", "(booking.title").replace(
            "(description", "(booking.description"
        )
        query = func.plainto_tsquery(literal_column("'german'"), " ".join(words))
        return literal_column(vector).op("@@")(query)
    # Each word quoted (no FTS5 syntax gets through) and matched by its beginning.
    match = " ".join('"' + w.replace('"', "") + '"*' for w in words)
    found = text("SELECT rowid FROM booking_text WHERE booking_text MATCH :match").bindparams(
        match=match
    )
    return Booking.id.in_(found.columns(column("rowid", Integer)))


@dataclass(frozen=True)
class OfferFilter:
    """What an open offer is, as people filter by it (``None``/``False``: any)."""

    category: str | None = None
    audience: str | None = None
    language: str | None = None
    free: bool = False
    drop_in: bool = False

    def conditions(self) -> list:
        found = []
        if self.category:
            found.append(Booking.offer_category == self.category)
        if self.audience:
            found.append(Booking.offer_audience == self.audience)
        if self.language:
            found.append(_speaks(self.language))
        if self.free:
            found.append(Booking.free_of_charge)
        if self.drop_in:
            found.append(Booking.drop_in)
        return found


def _speaks(language: str):
    """The booking's languages (a JSON list of codes) hold ``language``."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(Booking.offer_languages, JSONB).contains([language])
    spoken = select(literal_column("1")).select_from(
        func.json_each(Booking.offer_languages).table_valued("value")
    )
    return spoken.where(literal_column("value") == language).exists()


def upcoming_public(
    *,
    district: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    words: list[str] | None = None,
    accessible: bool = False,
    offer: OfferFilter | None = None,
):
    """A select of approved dates of public bookings (open offers), soonest first; with
    ``words`` only those whose title or description holds all of them, with ``accessible`` only
    in step-free rooms."""
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
    if words:
        stmt = stmt.where(_matching_words(words))
    if accessible:
        stmt = stmt.where(Room.step_free)
    if offer is not None:
        stmt = stmt.where(*offer.conditions())
    return stmt
