"""What a facility manager sees: the day at their sites and the open requests, with conflicts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from booking import domain
from booking.extensions import db
from booking.models import Booking, Occurrence, OccurrenceStatus, Organisation, Room, Site
from booking.services import catalogue, permissions, places
from booking.services.errors import N_, InvalidTransition, NotFound, NotPermitted
from booking.services.paging import Paged
from booking.services.room_context import load_context
from booking.services.visibility import get_booking

REQUESTS_PER_PAGE = 20
DASHBOARD_REQUESTS = 5  # the oldest open requests the dashboard lists by name


@dataclass(frozen=True)
class PendingDate:
    occurrence: Occurrence
    problems: tuple[domain.Problem, ...]  # against approved bookings, closures and the rules
    competing: tuple[Occurrence, ...]  # other groups' open requests for overlapping times


@dataclass(frozen=True)
class PendingRequest:
    booking: Booking
    dates: tuple[PendingDate, ...]

    @property
    def has_problems(self) -> bool:
        return any(d.problems or d.competing for d in self.dates)


def managed_sites(user) -> list[Site]:
    site_ids = permissions.managed_site_ids(user)
    query = select(Site).order_by(Site.name)
    if site_ids is not None:
        if not site_ids:
            return []
        query = query.where(Site.id.in_(site_ids))
    return list(db.session.scalars(query))


def _site_scope(user, site_id: int | None) -> set[int] | None:
    """The sites a manager's question covers (None: every site, for an administrator)."""
    site_ids = permissions.managed_site_ids(user)
    if site_ids is not None and not site_ids:
        raise NotPermitted(N_("You do not manage any site."), code="no_managed_site")
    if site_id is not None:
        if site_ids is not None and site_id not in site_ids:
            raise NotPermitted(N_("You do not manage this site."), code="site_not_managed")
        site_ids = {site_id}
    return site_ids


def pending_requests(
    user, *, site_id: int | None = None, now: datetime | None = None
) -> list[PendingRequest]:
    """Bookings with upcoming pending dates at the user's sites, oldest request first."""
    now = now or datetime.now(UTC)
    site_ids = _site_scope(user, site_id)
    pending = (
        select(Occurrence)
        .join(Room, Room.id == Occurrence.room_id)
        .where(Occurrence.status == OccurrenceStatus.PENDING, Occurrence.ends_at > now)
        .order_by(Occurrence.booking_id, Occurrence.starts_at)
    )
    if site_ids is not None:
        pending = pending.where(Room.site_id.in_(site_ids))
    occurrences = list(db.session.scalars(pending))
    if not occurrences:
        return []
    by_booking: dict[int, list[Occurrence]] = defaultdict(list)
    for occurrence in occurrences:
        by_booking[occurrence.booking_id].append(occurrence)
    bookings = db.session.scalars(
        select(Booking)
        .where(Booking.id.in_(by_booking))
        .options(
            selectinload(Booking.room).selectinload(Room.site),
            selectinload(Booking.organisation),
            selectinload(Booking.requested_by),
        )
        .order_by(Booking.created_at, Booking.id)
    ).all()
    result = []
    for booking in bookings:
        dates = by_booking[booking.id]
        result.append(PendingRequest(booking, tuple(_assess(dates, occurrences, now))))
    return result


def _assess(
    dates: list[Occurrence], all_pending: list[Occurrence], now: datetime
) -> list[PendingDate]:
    """Problems of each pending date as if approved now, and rival requests for its time."""
    by_room: dict[int, list[Occurrence]] = defaultdict(list)
    for occurrence in dates:
        by_room[occurrence.room_id].append(occurrence)
    assessed: dict[int, PendingDate] = {}
    for room_id, occurrences in by_room.items():
        slots = [domain.Slot(o.starts_at, o.ends_at) for o in occurrences]
        context = load_context(room_id, slots)
        related_units = set(context.units)
        plans = context.check(
            slots,
            now=now,
            attendees=occurrences[0].booking.attendees,
            check_time_rules=False,
        )
        for occurrence, plan in zip(occurrences, plans, strict=True):
            rivals = rivals_of(occurrence, all_pending, context.tree, related_units)
            assessed[occurrence.id] = PendingDate(occurrence, plan.problems, rivals)
    return [assessed[o.id] for o in dates]


def rivals_of(
    occurrence: Occurrence,
    candidates: Iterable[Occurrence],
    tree: domain.RoomTree,
    units: Iterable[int] | None = None,
) -> tuple[Occurrence, ...]:
    """Other bookings' dates among ``candidates`` that want a part of the same room at an
    overlapping time (a whole hall's request rivals a third's). The one rule for the manager's
    list and for declining rivals on approval."""
    related = set(tree.units(occurrence.room_id) if units is None else units)
    return tuple(
        other
        for other in candidates
        if other.booking_id != occurrence.booking_id
        and other.starts_at < occurrence.ends_at
        and other.ends_at > occurrence.starts_at
        and not related.isdisjoint(tree.units(other.room_id))
    )


def pending_rivals(
    user, dates: Sequence[Occurrence], *, now: datetime | None = None
) -> list[Occurrence]:
    """Pending upcoming dates of other bookings, at sites ``user`` manages, that rival any of
    ``dates``; each once, soonest first."""
    if not dates:
        return []
    now = now or datetime.now(UTC)
    site_ids = permissions.managed_site_ids(user)
    query = (
        select(Occurrence)
        .join(Room, Room.id == Occurrence.room_id)
        .where(
            Occurrence.status == OccurrenceStatus.PENDING,
            Occurrence.ends_at > now,
            Occurrence.starts_at < max(o.ends_at for o in dates),
            Occurrence.ends_at > min(o.starts_at for o in dates),
            Occurrence.booking_id.not_in({o.booking_id for o in dates}),
        )
        .order_by(Occurrence.starts_at, Occurrence.id)
    )
    if site_ids is not None:
        query = query.where(Room.site_id.in_(site_ids))
    candidates = list(db.session.scalars(query))
    tree = catalogue.current().tree
    found: dict[int, Occurrence] = {}
    for occurrence in dates:
        for rival in rivals_of(occurrence, candidates, tree):
            found[rival.id] = rival
    return sorted(found.values(), key=lambda o: (o.starts_at, o.id))


@dataclass(frozen=True)
class RequestFilter:
    """Which open requests a manager looks at; None means any. ``day`` is a local date."""

    site_id: int | None = None
    room_id: int | None = None
    organisation_id: int | None = None
    day: date | None = None


@dataclass(frozen=True)
class RequestPage(Paged):
    items: list[PendingRequest]
    page: int
    per_page: int
    total: int

    def by_site_and_room(self) -> list[tuple[Site, list[tuple[Room, list[PendingRequest]]]]]:
        """The page's requests grouped by site, then room, in the page's order."""
        groups: dict[Site, dict[Room, list[PendingRequest]]] = {}
        for item in self.items:
            room = item.booking.room
            groups.setdefault(room.site, {}).setdefault(room, []).append(item)
        return [(site, list(rooms.items())) for site, rooms in groups.items()]


def request_page(
    user,
    where: RequestFilter = RequestFilter(),
    *,
    page: int = 1,
    per_page: int = REQUESTS_PER_PAGE,
    zone: ZoneInfo | None = None,
    now: datetime | None = None,
) -> RequestPage:
    """One page of the open requests at the user's sites, by site and room, oldest first.

    Each request shows its pending dates that match the filter, with their problems and the
    rival requests (from every site the user manages, whatever the filter). ``zone`` reads
    ``where.day`` (the city's zone).
    """
    now = now or datetime.now(UTC)
    site_ids = _site_scope(user, where.site_id)
    scope = _pending_dates(site_ids, now)
    matching = scope.join(Booking, Booking.id == Occurrence.booking_id)
    if where.room_id is not None:
        matching = matching.where(Booking.room_id == where.room_id)
    if where.organisation_id is not None:
        matching = matching.where(Booking.organisation_id == where.organisation_id)
    if where.day is not None:
        zone = zone or ZoneInfo("Europe/Berlin")
        start = domain.from_local(datetime.combine(where.day, time(0)), zone)
        end = domain.from_local(datetime.combine(where.day + timedelta(days=1), time(0)), zone)
        matching = matching.where(Occurrence.starts_at < end, Occurrence.ends_at > start)
    booking_ids = matching.with_only_columns(Occurrence.booking_id).distinct()
    total = db.session.scalar(select(func.count()).select_from(booking_ids.subquery())) or 0
    result = RequestPage([], 1, per_page, total)
    page = min(max(1, page), result.pages)
    bookings = list(
        db.session.scalars(
            select(Booking)
            .join(Room, Room.id == Booking.room_id)
            .join(Site, Site.id == Room.site_id)
            .where(Booking.id.in_(booking_ids))
            .options(
                selectinload(Booking.room).selectinload(Room.site),
                selectinload(Booking.organisation),
                selectinload(Booking.requested_by),
            )
            .order_by(Site.name, Site.id, Room.name, Room.id, Booking.created_at, Booking.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    if not bookings:
        return RequestPage([], page, per_page, total)
    dates = list(
        db.session.scalars(
            matching.where(Occurrence.booking_id.in_([b.id for b in bookings])).order_by(
                Occurrence.booking_id, Occurrence.starts_at
            )
        )
    )
    # Rivals come from all the user's sites (a filter must not hide them), around these dates.
    candidates = list(
        db.session.scalars(
            _pending_dates(permissions.managed_site_ids(user), now).where(
                Occurrence.starts_at < max(o.ends_at for o in dates),
                Occurrence.ends_at > min(o.starts_at for o in dates),
            )
        )
    )
    by_booking: dict[int, list[Occurrence]] = defaultdict(list)
    for occurrence in dates:
        by_booking[occurrence.booking_id].append(occurrence)
    items = [PendingRequest(b, tuple(_assess(by_booking[b.id], candidates, now))) for b in bookings]
    return RequestPage(items, page, per_page, total)


def _pending_dates(site_ids: set[int] | None, now: datetime):
    query = (
        select(Occurrence)
        .join(Room, Room.id == Occurrence.room_id)
        .where(Occurrence.status == OccurrenceStatus.PENDING, Occurrence.ends_at > now)
    )
    if site_ids is not None:
        query = query.where(Room.site_id.in_(site_ids))
    return query


@dataclass(frozen=True)
class RequestChoices:
    """What the manager can filter the requests by: their sites' rooms and the organisations
    that have open requests there."""

    sites: list[Site]
    rooms: list[Room]
    organisations: list[Organisation]


def _sites_and_rooms(user) -> tuple[list[Site], list[Room]]:
    sites = managed_sites(user)
    if not sites:
        raise NotPermitted(N_("You do not manage any site."), code="no_managed_site")
    rooms = db.session.scalars(
        select(Room)
        .join(Site, Site.id == Room.site_id)
        .where(Room.site_id.in_([s.id for s in sites]))
        .options(selectinload(Room.site))
        .order_by(Site.name, Site.id, Room.name, Room.id)
    )
    return sites, list(rooms)


def request_choices(user, *, now: datetime | None = None) -> RequestChoices:
    now = now or datetime.now(UTC)
    sites, rooms = _sites_and_rooms(user)
    waiting = _pending_dates(permissions.managed_site_ids(user), now).join(
        Booking, Booking.id == Occurrence.booking_id
    )
    organisations = db.session.scalars(
        select(Organisation)
        .where(Organisation.id.in_(waiting.with_only_columns(Booking.organisation_id)))
        .order_by(Organisation.name)
    )
    return RequestChoices(sites, rooms, list(organisations))


@dataclass(frozen=True)
class Dashboard:
    """The manager's day: what waits for an answer and what happens at their sites."""

    pending_requests: int
    pending_dates: int
    oldest_request_at: datetime | None  # when the longest-waiting open request was made
    today: list[Occurrence]  # approved dates of today, by start
    this_week: list[Occurrence]  # approved dates after today up to Sunday
    # closures.ClosureHits: upcoming closures that fall on approved or pending dates
    closures_hitting: tuple = ()
    # The longest-waiting open requests (at most DASHBOARD_REQUESTS), each with its number of
    # pending dates: a short list, the rest is on the requests page.
    first_requests: tuple[tuple[Booking, int], ...] = ()


def dashboard(user, *, zone: ZoneInfo, now: datetime | None = None) -> Dashboard:
    """Counts of the open requests and today's and this week's approved dates at the user's
    sites; days are read in ``zone`` (the city's), times are shown in each site's zone."""
    now = now or datetime.now(UTC)
    site_ids = _site_scope(user, None)
    pending = _pending_dates(site_ids, now).join(Booking, Booking.id == Occurrence.booking_id)
    requests, dates, oldest = db.session.execute(
        pending.with_only_columns(
            func.count(Occurrence.booking_id.distinct()),
            func.count(Occurrence.id),
            func.min(Booking.created_at),
        )
    ).one()
    today = now.astimezone(zone).date()
    midnight = domain.from_local(datetime.combine(today, time(0)), zone)
    tomorrow = domain.from_local(datetime.combine(today + timedelta(days=1), time(0)), zone)
    week_end = domain.from_local(
        datetime.combine(today + timedelta(days=7 - today.weekday()), time(0)), zone
    )
    approved = (
        select(Occurrence)
        .join(Room, Room.id == Occurrence.room_id)
        .where(
            Occurrence.status == OccurrenceStatus.APPROVED,
            Occurrence.starts_at < week_end,
            Occurrence.ends_at > midnight,
        )
        .options(
            selectinload(Occurrence.room).selectinload(Room.site),
            selectinload(Occurrence.booking).selectinload(Booking.organisation),
        )
        .order_by(Occurrence.starts_at, Occurrence.id)
    )
    if site_ids is not None:
        approved = approved.where(Room.site_id.in_(site_ids))
    week = list(db.session.scalars(approved))
    waiting = db.session.execute(
        pending.with_only_columns(Booking, func.count(Occurrence.id))
        .group_by(Booking.id)
        .options(
            selectinload(Booking.room).selectinload(Room.site),
            selectinload(Booking.organisation),
        )
        .order_by(Booking.created_at, Booking.id)
        .limit(DASHBOARD_REQUESTS)
    ).all()
    from booking.services import closures  # closures -> decisions -> manage

    return Dashboard(
        pending_requests=requests,
        pending_dates=dates,
        oldest_request_at=oldest,
        today=[o for o in week if o.starts_at < tomorrow],
        this_week=[o for o in week if o.starts_at >= tomorrow],
        closures_hitting=tuple(closures.closures_hitting_bookings(user, now=now)),
        first_requests=tuple((booking, count) for booking, count in waiting),
    )


# Approved bookings (#11): what is booked at the manager's sites, to cancel or move.

BOOKINGS_PER_PAGE = 20


@dataclass(frozen=True)
class BookingFilter:
    """Which approved bookings a manager looks at; None means any. Dates are local (the city's
    zone) and inclusive."""

    site_id: int | None = None
    room_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    # Only dates that now collide with another approved date (after a room's buffers or
    # parts changed; see ``places.colliding_dates``).
    collisions: bool = False


@dataclass(frozen=True)
class ManagedBooking:
    """A booking at a site the user manages, with its upcoming approved dates (soonest first)
    and the site's active rooms (where its dates may go)."""

    booking: Booking
    dates: tuple[Occurrence, ...]
    rooms: tuple[Room, ...] = ()


@dataclass(frozen=True)
class BookingPage(Paged):
    items: list[ManagedBooking]
    page: int
    per_page: int
    total: int

    def by_site_and_room(self) -> list[tuple[Site, list[tuple[Room, list[ManagedBooking]]]]]:
        groups: dict[Site, dict[Room, list[ManagedBooking]]] = {}
        for item in self.items:
            room = item.booking.room
            groups.setdefault(room.site, {}).setdefault(room, []).append(item)
        return [(site, list(rooms.items())) for site, rooms in groups.items()]


def booking_choices(user) -> RequestChoices:
    """The sites and rooms a manager can filter the approved bookings by."""
    sites, rooms = _sites_and_rooms(user)
    return RequestChoices(sites, rooms, [])


def _upcoming_approved(now: datetime):
    return select(Occurrence).where(
        Occurrence.status == OccurrenceStatus.APPROVED, Occurrence.ends_at > now
    )


def booking_page(
    user,
    where: BookingFilter = BookingFilter(),
    *,
    page: int = 1,
    per_page: int = BOOKINGS_PER_PAGE,
    zone: ZoneInfo | None = None,
    now: datetime | None = None,
) -> BookingPage:
    """One page of the bookings with upcoming approved dates at the user's sites, by site and
    room, the soonest first; each with its dates that match the filter. ``zone`` reads the
    filter's dates (the city's)."""
    now = now or datetime.now(UTC)
    zone = zone or ZoneInfo("Europe/Berlin")
    site_ids = _site_scope(user, where.site_id)
    matching = _upcoming_approved(now).join(Room, Room.id == Occurrence.room_id)
    if site_ids is not None:
        matching = matching.where(Room.site_id.in_(site_ids))
    if where.room_id is not None:
        matching = matching.where(Occurrence.room_id == where.room_id)
    if where.collisions:
        scope = select(Room.id)
        if site_ids is not None:
            scope = scope.where(Room.site_id.in_(site_ids))
        colliding = places.colliding_dates(db.session.scalars(scope), now=now)
        matching = matching.where(Occurrence.id.in_(colliding))
    if where.date_from is not None:
        start = domain.from_local(datetime.combine(where.date_from, time(0)), zone)
        matching = matching.where(Occurrence.ends_at > start)
    if where.date_to is not None:
        after = where.date_to + timedelta(days=1)
        matching = matching.where(
            Occurrence.starts_at < domain.from_local(datetime.combine(after, time(0)), zone)
        )
    firsts = (
        matching.with_only_columns(
            Occurrence.booking_id, func.min(Occurrence.starts_at).label("first")
        )
        .group_by(Occurrence.booking_id)
        .subquery()
    )
    total = db.session.scalar(select(func.count()).select_from(firsts)) or 0
    bookings = list(
        db.session.scalars(
            select(Booking)
            .join(firsts, firsts.c.booking_id == Booking.id)
            .join(Room, Room.id == Booking.room_id)
            .join(Site, Site.id == Room.site_id)
            .options(
                selectinload(Booking.room).selectinload(Room.site),
                selectinload(Booking.organisation),
                selectinload(Booking.requested_by),
            )
            .order_by(Site.name, Site.id, Room.name, Room.id, firsts.c.first, Booking.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    if not bookings:
        return BookingPage([], page, per_page, total)
    dates = db.session.scalars(
        matching.where(Occurrence.booking_id.in_([b.id for b in bookings]))
        .options(selectinload(Occurrence.room))
        .order_by(Occurrence.starts_at, Occurrence.id)
    )
    by_booking: dict[int, list[Occurrence]] = defaultdict(list)
    for occurrence in dates:
        by_booking[occurrence.booking_id].append(occurrence)
    items = [ManagedBooking(b, tuple(by_booking[b.id])) for b in bookings]
    return BookingPage(items, page, per_page, total)


def managed_booking(user, booking_id: int, *, now: datetime | None = None) -> ManagedBooking:
    """A booking the user manages, for the manager's pages that cancel and move its dates.

    Its parties may cancel and move through their own pages and the API; here only the site's
    managers (and administrators) may."""
    now = now or datetime.now(UTC)
    booking = get_booking(permissions.require_user(user), booking_id)
    if not permissions.can_manage_site(user, booking.room.site_id):
        raise NotPermitted(N_("You do not manage this site."), code="site_not_managed")
    dates = db.session.scalars(
        _upcoming_approved(now)
        .where(Occurrence.booking_id == booking.id)
        .options(selectinload(Occurrence.room))
        .order_by(Occurrence.starts_at, Occurrence.id)
    )
    rooms = db.session.scalars(
        select(Room)
        .where(Room.site_id == booking.room.site_id, Room.active.is_(True))
        .order_by(Room.name, Room.id)
    )
    return ManagedBooking(booking, tuple(dates), tuple(rooms))


def managed_occurrence(
    user, occurrence_id: int, *, now: datetime | None = None
) -> tuple[ManagedBooking, Occurrence]:
    """One upcoming approved date of a booking the user manages (see ``managed_booking``)."""
    booking_id = db.session.scalar(
        select(Occurrence.booking_id).where(Occurrence.id == occurrence_id)
    )
    if booking_id is None:
        raise NotFound(N_("There is no such date."))
    managed = managed_booking(user, booking_id, now=now)
    for occurrence in managed.dates:
        if occurrence.id == occurrence_id:
            return managed, occurrence
    raise InvalidTransition(N_("Only upcoming approved dates can be changed here."))
