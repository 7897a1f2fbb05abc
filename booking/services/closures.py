"""Closures: periods when a site or room cannot be booked, and their import from iCalendar.

A site's managers (and administrators) list, add and delete closures, and import them from an
``.ics`` file (the NRW holiday files in ``booking/data`` with one click), matched by the events'
UIDs so that importing the same file again changes nothing. Closures never change bookings by
themselves: ``hit_dates`` lists the approved and pending dates a closure falls on (a closure of
a room hits the room, its parts and the whole it belongs to, as the room context reads it), and
``cancel_hit_dates`` cancels them in one step through the decisions service, with one reason:
each booking gets its own audit event and its requester one mail. The closures themselves write
``closure_created``, ``closure_deleted`` and ``closures_imported`` audit events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from booking import domain
from booking.database import begin_write
from booking.domain import from_local
from booking.extensions import db
from booking.models import Booking, Closure, Occurrence, OccurrenceStatus, Room, Site, User
from booking.services import audit as audit_trail
from booking.services import decisions, occupancy, permissions
from booking.services.errors import N_, InvalidRequest, NotFound, NotPermitted
from booking.services.paging import Paged
from booking.services.requests import ACTIVE, now_or

REASON_MAX = 200
ICS_MAX_BYTES = 1024 * 1024
LONGEST_CLOSURE = timedelta(days=3 * 366)  # a renovation may take long; a typo should not
CLOSURES_PER_PAGE = 50
DASHBOARD_CLOSURES = 10
# The holiday files shipped in booking/data, by the name the import buttons send.
HOLIDAY_FILES = {
    "school": "nrw-school-holidays-2026-2028.ics",
    "public": "nrw-public-holidays-2026-2028.ics",
}


@dataclass(frozen=True)
class ImportedPeriod:
    uid: str
    reason: str
    first_day: date
    last_day: date  # inclusive


def _unreadable(field: str, detail: str) -> InvalidRequest:
    return InvalidRequest(
        N_("This is not a readable iCalendar file."),
        field,
        code="ics_unreadable",
        detail=f"This is not a readable iCalendar file ({detail}).",
    )


def _day(value, field: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise _unreadable(field, f"an event has no valid date: {str(value)[:40]!r}")


def parse_ics_periods(data: bytes, *, field: str = "file") -> list[ImportedPeriod]:
    """All-day (or timed) events of an iCalendar file as whole local days.

    DTEND of an all-day event is exclusive (RFC 5545), so a one-day holiday has DTEND = next day.
    ``field`` names the input in errors (the upload's "file", the API's "body").
    """
    if len(data) > ICS_MAX_BYTES:
        raise InvalidRequest(
            N_("The file is too large (at most %(max)d kB)."),
            field,
            code="ics_too_large",
            max=ICS_MAX_BYTES // 1024,
        )
    try:
        calendar = icalendar.Calendar.from_ical(data)
        events = calendar.walk("VEVENT")
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise _unreadable(field, str(exc)[:200]) from exc
    periods = []
    for event in events:
        if "DTSTART" not in event:
            raise _unreadable(field, "an event has no DTSTART")
        try:
            start = event.decoded("DTSTART")
            end = event.decoded("DTEND") if "DTEND" in event else None
        except (ValueError, TypeError, KeyError) as exc:
            raise _unreadable(field, str(exc)[:200]) from exc
        first = _day(start, field)
        if end is None:
            last = first
        elif isinstance(end, datetime):
            last = end.date() if end.time() != time(0) else end.date() - timedelta(days=1)
        else:
            last = _day(end, field) - timedelta(days=1)
        last = max(last, first)
        uid = str(event.get("UID") or f"{first.isoformat()}-{event.get('SUMMARY')}")[:255]
        periods.append(ImportedPeriod(uid, str(event.get("SUMMARY", "")).strip(), first, last))
    if not periods:
        raise InvalidRequest(
            N_("The file has no events to import."), field, code="ics_empty", detail="No VEVENT."
        )
    return sorted(periods, key=lambda p: p.first_day)


@dataclass(frozen=True)
class ImportResult:
    """What one import did to one site: ``closure_ids`` are the closures of the file's events
    (new, changed and unchanged), for the list of the dates they hit."""

    created: int
    changed: int
    unchanged: int
    closure_ids: tuple[int, ...]


def _import_site(
    user, site: Site, periods: Sequence[ImportedPeriod], *, since, until, source: str
) -> ImportResult:
    zone = ZoneInfo(site.timezone)
    existing = {
        c.source_uid: c
        for c in db.session.scalars(
            select(Closure).where(
                Closure.site_id == site.id,
                Closure.room_id.is_(None),
                Closure.source_uid.is_not(None),
            )
        )
    }
    created = changed = unchanged = 0
    closures: list[Closure] = []
    for period in periods:
        if (since and period.last_day < since) or (until and period.first_day > until):
            continue
        starts_at = from_local(datetime.combine(period.first_day, time(0)), zone)
        ends_at = from_local(datetime.combine(period.last_day + timedelta(days=1), time(0)), zone)
        reason = period.reason[:REASON_MAX] or "Closed"
        closure = existing.get(period.uid)
        if closure is None:
            closure = Closure(
                site_id=site.id,
                starts_at=starts_at,
                ends_at=ends_at,
                reason=reason,
                source_uid=period.uid,
            )
            db.session.add(closure)
            existing[period.uid] = closure
            created += 1
        elif (closure.starts_at, closure.ends_at, closure.reason) != (starts_at, ends_at, reason):
            closure.starts_at, closure.ends_at, closure.reason = starts_at, ends_at, reason
            changed += 1
        else:
            unchanged += 1
        closures.append(closure)
    db.session.flush()
    if created or changed:
        audit_trail.record(
            "closures_imported",
            user,
            site_id=site.id,
            created=created,
            changed=changed,
            unchanged=unchanged,
            source=source[:200],
        )
    return ImportResult(created, changed, unchanged, tuple(dict.fromkeys(c.id for c in closures)))


def import_periods(
    user,
    site_ids: Sequence[int],
    periods: Sequence[ImportedPeriod],
    *,
    since: date | None = None,
    until: date | None = None,
    source: str = "",
) -> int:
    """Create or update one closure per period and site; re-importing changes nothing twice.

    Returns the number of closures created or changed.
    """
    for site_id in site_ids:
        if not permissions.can_manage_site(user, site_id):
            raise NotPermitted(N_("You can only add closures to sites you manage."))
    begin_write()
    sites = db.session.scalars(select(Site).where(Site.id.in_(site_ids))).all()
    results = [
        _import_site(user, site, periods, since=since, until=until, source=source) for site in sites
    ]
    return sum(r.created + r.changed for r in results)


# --- a site's closures ------------------------------------------------------------------------


def _managed_site(user, site_id: int) -> tuple[User, Site]:
    user = permissions.require_user(user)
    site = db.session.get(Site, site_id)
    if site is None:
        raise NotFound(N_("There is no such site."))
    if not permissions.can_manage_site(user, site.id):
        raise NotPermitted(
            N_("Only this site's managers and administrators may change its closures."),
            code="site_not_managed",
        )
    return user, site


def site_for_closures(user, site_id: int) -> Site:
    """The site, if ``user`` may see and change its closures."""
    return _managed_site(user, site_id)[1]


@dataclass(frozen=True)
class ClosureRow:
    closure: Closure
    hits: int | None  # approved and pending upcoming dates it falls on (None: it is over)


@dataclass(frozen=True)
class ClosurePage(Paged):
    items: list[ClosureRow]
    page: int
    per_page: int
    total: int
    upcoming: int  # how many of all are not over yet


def list_closures(user, site_id: int, *, page: int = 1, now: datetime | None = None) -> ClosurePage:
    """The site's closures, those not over yet first (soonest first), then the past ones
    (latest first), each upcoming one with the number of dates it hits."""
    _user, site = _managed_site(user, site_id)
    now = now_or(now)
    rows = list(
        db.session.scalars(
            select(Closure)
            .where(Closure.site_id == site.id)
            .options(selectinload(Closure.room))
            .order_by(Closure.starts_at, Closure.id)
        )
    )
    upcoming = [c for c in rows if c.ends_at > now]
    past = sorted((c for c in rows if c.ends_at <= now), key=lambda c: c.starts_at, reverse=True)
    ordered = upcoming + past
    page = max(1, page)
    chosen = ordered[(page - 1) * CLOSURES_PER_PAGE : page * CLOSURES_PER_PAGE]
    counts = _hit_counts(site.id, [c for c in chosen if c.ends_at > now], now)
    return ClosurePage(
        items=[ClosureRow(c, counts.get(c.id, 0) if c.ends_at > now else None) for c in chosen],
        page=page,
        per_page=CLOSURES_PER_PAGE,
        total=len(ordered),
        upcoming=len(upcoming),
    )


@dataclass(frozen=True)
class ClosureCommand:
    """A closure entered by hand. ``start``/``end``: local dates (from the first day's start to
    the end of the last day) or times (naive: the site's wall time; aware: that instant)."""

    start: date | datetime | None
    end: date | datetime | None
    reason: str
    room_id: int | None = None


def _instant(value: date | datetime, zone: ZoneInfo, *, end: bool) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else from_local(value, zone)
    return from_local(datetime.combine(value + timedelta(days=1 if end else 0), time(0)), zone)


def _period(cmd: ClosureCommand, zone: ZoneInfo) -> tuple[datetime, datetime]:
    if cmd.start is None:
        raise InvalidRequest(N_("Please give the first day."), "from", code="from_missing")
    if cmd.end is None:
        raise InvalidRequest(N_("Please give the last day."), "to", code="to_missing")
    try:
        starts_at = _instant(cmd.start, zone, end=False)
    except (OverflowError, ValueError):
        raise InvalidRequest(N_("Please check the date."), "from", code="invalid_date") from None
    try:
        ends_at = _instant(cmd.end, zone, end=True)
    except (OverflowError, ValueError):
        raise InvalidRequest(N_("Please check the date."), "to", code="invalid_date") from None
    if ends_at <= starts_at:
        raise InvalidRequest(N_("The end must be after the start."), "to", code="end_before_start")
    if ends_at - starts_at > LONGEST_CLOSURE:
        raise InvalidRequest(
            N_("A closure may last at most %(years)d years."),
            "to",
            code="period_too_long",
            years=3,
        )
    return starts_at, ends_at


def _reason(value) -> str:
    reason = value.strip() if isinstance(value, str) else ""
    if not reason:
        raise InvalidRequest(N_("Please give a reason."), "reason", code="reason_missing")
    if len(reason) > REASON_MAX or "\x00" in reason:
        raise InvalidRequest(
            N_("The text may have at most %(max)d characters."),
            "reason",
            code="reason_too_long",
            max=REASON_MAX,
        )
    return reason


def _room_of_site(site: Site, room_id: int | None) -> Room | None:
    if room_id is None:
        return None
    room = db.session.get(Room, room_id)
    if room is None or room.site_id != site.id:
        raise InvalidRequest(N_("This site has no such room."), "room_id", code="room_unknown")
    return room


def create_closure(user, site_id: int, cmd: ClosureCommand) -> Closure:
    """Close the site (or one of its rooms) for a period, by hand. Bookings are not touched:
    ``hit_dates`` lists what the closure falls on."""
    user, site = _managed_site(user, site_id)
    begin_write()
    room = _room_of_site(site, cmd.room_id)
    starts_at, ends_at = _period(cmd, ZoneInfo(site.timezone))
    reason = _reason(cmd.reason)
    closure = Closure(
        site_id=site.id,
        room_id=None if room is None else room.id,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
    )
    db.session.add(closure)
    db.session.flush()
    audit_trail.record(
        "closure_created",
        user,
        site_id=site.id,
        room_id=closure.room_id,
        reason=reason,
        closure_id=closure.id,
        starts_at=starts_at.isoformat(),
        ends_at=ends_at.isoformat(),
    )
    return closure


def delete_closure(user, site_id: int, closure_id: int) -> Closure:
    """Remove a closure of the site; the dates it blocked become bookable again."""
    user, site = _managed_site(user, site_id)
    begin_write()
    closure = db.session.get(Closure, closure_id)
    if closure is None or closure.site_id != site.id:
        raise NotFound(N_("There is no such closure."))
    audit_trail.record(
        "closure_deleted",
        user,
        site_id=site.id,
        room_id=closure.room_id,
        reason=closure.reason,
        closure_id=closure.id,
        starts_at=closure.starts_at.isoformat(),
        ends_at=closure.ends_at.isoformat(),
        source_uid=closure.source_uid,
    )
    db.session.delete(closure)
    db.session.flush()
    return closure


def import_ics(
    user, site_id: int, data: bytes, *, source: str = "", field: str = "file"
) -> ImportResult:
    """Import the events of an uploaded iCalendar file as closures of the whole site, matched
    by UID: importing the same file again changes nothing."""
    user, site = _managed_site(user, site_id)
    periods = parse_ics_periods(data, field=field)
    begin_write()
    return _import_site(user, site, periods, since=None, until=None, source=source)


def import_holidays(user, site_id: int, which: str) -> ImportResult:
    """One click for a school: the shipped NRW school (``which="school"``) or public holidays."""
    name = HOLIDAY_FILES.get(which)
    if name is None:
        raise InvalidRequest(N_("There is no such holiday file."), "holidays", code="unknown_file")
    data = resources.files("booking").joinpath("data", name).read_bytes()
    return import_ics(user, site_id, data, source=name)


# --- the dates closures hit -------------------------------------------------------------------


@dataclass(frozen=True)
class HitDate:
    """An approved or pending upcoming date that falls on a closure (the first one)."""

    occurrence: Occurrence
    closures: tuple[Closure, ...]

    @property
    def closure(self) -> Closure:
        return self.closures[0]

    @property
    def booking(self) -> Booking:
        return self.occurrence.booking


def _site_tree(site_id: int) -> domain.RoomTree:
    return domain.RoomTree(
        dict(
            db.session.execute(select(Room.id, Room.parent_id).where(Room.site_id == site_id)).all()
        )
    )


def _hits(site_id: int, closures: Iterable[Closure], now: datetime) -> list[HitDate]:
    """The site's approved and pending dates not over yet that overlap ``closures``: a site's
    closure hits every room, a room's closure the room, its wholes and its parts."""
    closures = sorted((c for c in closures if c.ends_at > now), key=lambda c: c.starts_at)
    if not closures:
        return []
    overlaps = [
        and_(Occurrence.starts_at < c.ends_at, Occurrence.ends_at > c.starts_at) for c in closures
    ]
    dates = db.session.scalars(
        select(Occurrence)
        .join(Room, Room.id == Occurrence.room_id)
        .where(
            Room.site_id == site_id,
            Occurrence.status.in_(ACTIVE),
            Occurrence.ends_at > now,
            or_(*overlaps),
        )
        .options(
            selectinload(Occurrence.room),
            selectinload(Occurrence.booking).selectinload(Booking.organisation),
            selectinload(Occurrence.booking).selectinload(Booking.requested_by),
        )
        .order_by(Occurrence.starts_at, Occurrence.id)
    )
    tree = _site_tree(site_id)
    found = []
    for occ in dates:
        related = set(tree.related(occ.room_id))
        hit = tuple(
            c
            for c in closures
            if c.starts_at < occ.ends_at
            and c.ends_at > occ.starts_at
            and (c.room_id is None or c.room_id in related)
        )
        if hit:
            found.append(HitDate(occ, hit))
    return found


def _hit_counts(site_id: int, closures: Sequence[Closure], now: datetime) -> dict[int, int]:
    counts: dict[int, int] = defaultdict(int)
    for hit in _hits(site_id, closures, now):
        for closure in hit.closures:
            counts[closure.id] += 1
    return counts


def _chosen_closures(site: Site, closure_ids: Sequence[int] | None, now: datetime):
    stmt = select(Closure).where(Closure.site_id == site.id, Closure.ends_at > now)
    if closure_ids is not None:
        stmt = stmt.where(Closure.id.in_(sorted(set(closure_ids))))
    return list(db.session.scalars(stmt.options(selectinload(Closure.room))))


def hit_dates(
    user, site_id: int, closure_ids: Sequence[int] | None = None, *, now: datetime | None = None
) -> list[HitDate]:
    """The approved and pending upcoming dates of the site that the chosen closures (ids of
    other sites are left out) or, without ``closure_ids``, all its upcoming closures fall on."""
    _user, site = _managed_site(user, site_id)
    now = now_or(now)
    return _hits(site.id, _chosen_closures(site, closure_ids, now), now)


@dataclass(frozen=True)
class CancelOutcome:
    cancelled: int  # approved dates cancelled (their time is free again)
    declined: int  # pending dates declined
    bookings: int  # bookings touched, each with one audit event and one mail


def cancel_hit_dates(
    user,
    site_id: int,
    closure_ids: Sequence[int] | None,
    reason: str,
    *,
    now: datetime | None = None,
) -> CancelOutcome:
    """Cancel every date the closures hit, in one step with one reason the requesters are told:
    a booking's approved dates are cancelled (their time released), a booking with only pending
    dates hit is declined. Through ``decisions``, so each booking gets one audit event and its
    requester one mail. All or nothing."""
    user, site = _managed_site(user, site_id)
    now = now_or(now)
    reason = decisions.clean_reason(reason, required=True, field="reason")
    begin_write()  # SQLite: the write lock before the dates are read
    hits = _hits(site.id, _chosen_closures(site, closure_ids, now), now)
    by_booking: dict[int, list[Occurrence]] = defaultdict(list)
    for hit in hits:
        by_booking[hit.occurrence.booking_id].append(hit.occurrence)
    cancelled = declined = 0
    with occupancy.guarded(N_("The dates changed meanwhile. Please try again.")):
        for booking_id, dates in by_booking.items():
            ids = [o.id for o in dates]
            if all(o.status is OccurrenceStatus.PENDING for o in dates):
                decisions.decline(user, booking_id, reason, ids, now=now)
                declined += len(ids)
            else:
                # One decision per booking (one mail): pending dates of a booking that also
                # has approved ones hit are cancelled with them.
                decisions.cancel(user, booking_id, ids, reason, now=now)
                cancelled += len(ids)
    return CancelOutcome(cancelled, declined, len(by_booking))


@dataclass(frozen=True)
class ClosureHits:
    closure: Closure
    hits: int


def closures_hitting_bookings(
    user, *, now: datetime | None = None, limit: int = DASHBOARD_CLOSURES
) -> list[ClosureHits]:
    """For the manager's dashboard: the soonest upcoming closures at the user's sites that fall
    on approved or pending dates, with how many."""
    now = now_or(now)
    site_ids = permissions.managed_site_ids(user)
    stmt = (
        select(Closure)
        .where(Closure.ends_at > now)
        .options(selectinload(Closure.site), selectinload(Closure.room))
        .order_by(Closure.starts_at, Closure.id)
        .limit(500)
    )
    if site_ids is not None:
        if not site_ids:
            return []
        stmt = stmt.where(Closure.site_id.in_(sorted(site_ids)))
    by_site: dict[int, list[Closure]] = defaultdict(list)
    for closure in db.session.scalars(stmt):
        by_site[closure.site_id].append(closure)
    found = []
    for site_id, closures in by_site.items():
        counts = _hit_counts(site_id, closures, now)
        found.extend(ClosureHits(c, counts[c.id]) for c in closures if counts.get(c.id))
    found.sort(key=lambda h: (h.closure.starts_at, h.closure.id))
    return found[:limit]
