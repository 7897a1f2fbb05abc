"""Booking services: request, approve, decline, cancel and change.

Each service checks permission, asks the pure scheduling core, writes models and flushes; the
caller commits once. On SQLite the write lock is taken (``begin_write``) before the conflict check;
on PostgreSQL the exclusion constraint on ``occupancy`` is the guarantee and its violation turns
into the same ``Conflict`` the Python check gives.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from booking import domain
from booking.database import begin_write
from booking.extensions import db
from booking.models import (
    ApprovalPolicy,
    AuditEvent,
    Booking,
    Occupancy,
    Occurrence,
    OccurrenceStatus,
    Organisation,
    Room,
    User,
)
from booking.services import permissions
from booking.services import rooms as room_data
from booking.services.errors import (
    Conflict,
    InvalidRequest,
    InvalidTransition,
    NotFound,
    NotPermitted,
)
from booking.services.notifications import notify_booking_changed, notify_booking_received

TITLE_MAX = 200
DESCRIPTION_MAX = 5000
ATTENDEES_MAX = 10_000
REASON_MAX = 2000
# One date longer than this cannot be a room booking, whatever the room allows.
LONGEST_DATE = room_data.LONGEST_DATE

ACTIVE = (OccurrenceStatus.PENDING, OccurrenceStatus.APPROVED)


@dataclass(frozen=True)
class BookingCommand:
    """What a requester asks for, parsed by a form or a JSON schema into the same shape.

    ``start`` and ``end`` are the first date's local wall times in the site's zone (naive); an
    aware value is converted to the site's zone first.
    """

    room_id: int
    title: str
    start: datetime
    end: datetime
    organisation_id: int | None = None
    description: str = ""
    attendees: int | None = None
    is_public: bool = False
    recurrence: domain.Recurrence | None = None
    # Book the dates that are free and leave out the others; otherwise any problem books nothing.
    book_free_dates_only: bool = False
    house_rules_accepted: bool = False


@dataclass(frozen=True)
class DatePlan:
    """One requested date with every reason it cannot be booked (none: bookable)."""

    slot: domain.Slot
    local_start: datetime
    local_end: datetime
    problems: tuple[domain.Problem, ...] = ()

    @property
    def bookable(self) -> bool:
        return not self.problems

    @property
    def reasons(self) -> list[str]:
        return [p.reason.value for p in self.problems]


@dataclass(frozen=True)
class BookingPlan:
    room: Room
    zone: ZoneInfo
    dates: tuple[DatePlan, ...]
    skipped: tuple[domain.Skipped, ...]
    status: OccurrenceStatus
    organisation: Organisation | None = None
    tree: room_data.RoomTree | None = None  # the site's rooms, reused when the booking is written

    @property
    def bookable(self) -> list[DatePlan]:
        return [d for d in self.dates if d.bookable]

    @property
    def blocked(self) -> list[DatePlan]:
        return [d for d in self.dates if not d.bookable]


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _require_user(user) -> User:
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotPermitted("You need to log in to do this.")
    if not user.active:
        raise NotPermitted("This account is disabled.")
    return user


def _local_naive(value: datetime, zone: ZoneInfo) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(zone).replace(tzinfo=None)


def validate_command(cmd: BookingCommand) -> BookingCommand:
    """Shape and meaning checks that need no database: these can never be valid."""
    title = (cmd.title or "").strip()
    if not title:
        raise InvalidRequest("Please give the booking a title.", "title")
    if len(title) > TITLE_MAX:
        raise InvalidRequest(f"The title may have at most {TITLE_MAX} characters.", "title")
    if len(cmd.description or "") > DESCRIPTION_MAX:
        raise InvalidRequest(
            f"The description may have at most {DESCRIPTION_MAX} characters.", "description"
        )
    if cmd.attendees is not None and not (1 <= cmd.attendees <= ATTENDEES_MAX):
        raise InvalidRequest(
            f"The number of people must be between 1 and {ATTENDEES_MAX}.", "attendees"
        )
    if (cmd.start.tzinfo is None) != (cmd.end.tzinfo is None):
        raise InvalidRequest("Give start and end both with or both without a UTC offset.", "end")
    if cmd.end <= cmd.start:
        raise InvalidRequest("The end must be after the start.", "end")
    if cmd.end - cmd.start > LONGEST_DATE:
        raise InvalidRequest("A single date may last at most 14 days.", "end")
    return cmd


def initial_status(user: User, room: Room, organisation: Organisation | None) -> OccurrenceStatus:
    """Approved straight away for the site's managers and by the room's policy, else pending."""
    if permissions.can_manage_site(user, room.site_id):
        return OccurrenceStatus.APPROVED
    if room.approval_policy is ApprovalPolicy.AUTOMATIC:
        return OccurrenceStatus.APPROVED
    if (
        room.approval_policy is ApprovalPolicy.TRUSTED
        and organisation is not None
        and organisation.trusted
    ):
        return OccurrenceStatus.APPROVED
    return OccurrenceStatus.PENDING


def _load_room(room_id: int) -> Room:
    room = db.session.get(Room, room_id, options=[joinedload(Room.site)])
    if room is None or not room.active or not room.site.active:
        raise NotFound("There is no such room.")
    return room


def _load_organisation(user: User, organisation_id: int | None) -> Organisation | None:
    if organisation_id is None:
        return None
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise InvalidRequest("There is no such organisation.", "organisation_id")
    if not user.is_admin and not permissions.is_member(user, organisation_id):
        raise NotPermitted("You can only book for organisations you belong to.")
    return organisation


def _expand(cmd: BookingCommand, room: Room, zone: ZoneInfo, tree) -> domain.Expansion:
    start, end = _local_naive(cmd.start, zone), _local_naive(cmd.end, zone)
    try:
        expansion = domain.expand(start, end, zone, cmd.recurrence)
        if cmd.recurrence is not None and cmd.recurrence.skip_closures and expansion.slots:
            window = domain.Slot(expansion.slots[0].starts_at, expansion.slots[-1].ends_at)
            expansion = domain.expand(
                start, end, zone, cmd.recurrence, closures=room_data.closures(room, window, tree)
            )
    except domain.RecurrenceError as exc:
        raise InvalidRequest(str(exc), f"recurrence.{exc.field}") from exc
    slots = expansion.slots
    if not slots:
        raise InvalidRequest("The repetition gives no dates at all.", "recurrence")
    for earlier, later in itertools.pairwise(slots):
        if earlier.overlaps(later):
            raise InvalidRequest("The dates of the series would overlap each other.", "end")
    return expansion


def check_dates(
    room: Room,
    zone: ZoneInfo,
    slots: Sequence[domain.Slot],
    *,
    tree,
    now: datetime,
    attendees: int | None,
    check_time_rules: bool = True,
    exclude_occurrences: Iterable[int] = (),
) -> list[DatePlan]:
    """Every problem of every date, against approved bookings, closures and the room's rules."""
    rules = room_data.room_rules(room, tree)
    padded = [s.padded(rules.buffer_before, rules.buffer_after) for s in slots]
    busy = room_data.busy(tree.units(room.id), padded, exclude_occurrences=exclude_occurrences)
    window = domain.Slot(min(s.starts_at for s in slots), max(s.ends_at for s in slots))
    closures = room_data.closures(room, window, tree)
    problems = domain.check(
        slots,
        rules=rules,
        tz=zone,
        now=now,
        busy=busy,
        closures=closures,
        attendees=attendees,
        check_time_rules=check_time_rules,
    )
    return [
        DatePlan(
            slot=slot,
            local_start=domain.to_local(slot.starts_at, zone).replace(tzinfo=None),
            local_end=domain.to_local(slot.ends_at, zone).replace(tzinfo=None),
            problems=tuple(found),
        )
        for slot, found in zip(slots, problems, strict=True)
    ]


def plan_booking(user, cmd: BookingCommand, *, now: datetime | None = None) -> BookingPlan:
    """What a preview shows: each date, whether it can be booked and why not. Writes nothing."""
    user = _require_user(user)
    return _plan(user, validate_command(cmd), now)


def _plan(user: User, cmd: BookingCommand, now: datetime | None) -> BookingPlan:
    room = _load_room(cmd.room_id)
    organisation = _load_organisation(user, cmd.organisation_id)
    zone = room_data.site_zone(room)
    tree = room_data.room_tree(room)
    expansion = _expand(cmd, room, zone, tree)
    dates = check_dates(
        room, zone, expansion.slots, tree=tree, now=_now(now), attendees=cmd.attendees
    )
    return BookingPlan(
        room=room,
        zone=zone,
        dates=tuple(dates),
        skipped=expansion.skipped,
        status=initial_status(user, room, organisation),
        organisation=organisation,
        tree=tree,
    )


def _occupancy_rows(occurrences: Sequence[Occurrence], room: Room, tree) -> list[dict]:
    """The occupancy rows of approved dates: one per date and smallest room part, padded."""
    before = timedelta(minutes=room.buffer_before_minutes)
    after = timedelta(minutes=room.buffer_after_minutes)
    units = tree.units(room.id)
    return [
        {
            "occurrence_id": occ.id,
            "unit_id": unit,
            "starts_at": occ.starts_at - before,
            "ends_at": occ.ends_at + after,
        }
        for occ in occurrences
        for unit in units
    ]


def _release(occurrence_ids: Sequence[int]) -> None:
    if occurrence_ids:
        db.session.execute(delete(Occupancy).where(Occupancy.occurrence_id.in_(occurrence_ids)))


def _write_guarded(
    message: str,
    plans: list[DatePlan] | None = None,
    *,
    occupy: Sequence[Occurrence] = (),
    room: Room | None = None,
    tree=None,
) -> None:
    """Flush, then write the occupancy of the ``occupy`` dates in one bulk INSERT, inside a
    savepoint. The database's overlap guard has the last word: on PostgreSQL a row committed
    meanwhile breaks the exclusion constraint, and that refusal becomes a ``Conflict``."""
    try:
        with db.session.begin_nested():
            db.session.flush()
            if occupy:
                db.session.execute(insert(Occupancy), _occupancy_rows(occupy, room, tree))
    except IntegrityError as exc:
        if "ex_occupancy_no_overlap" in str(exc.orig) or "23P01" in str(
            getattr(exc.orig, "sqlstate", "")
        ):
            raise Conflict(message, plans or []) from None
        raise


def _audit(
    action: str,
    actor: User | None,
    booking: Booking,
    occurrences: Sequence[Occurrence] = (),
    reason: str = "",
    **details,
) -> None:
    db.session.add(
        AuditEvent(
            booking_id=booking.id,
            occurrence_ids=[o.id for o in occurrences],
            actor_id=actor.id if actor else None,
            action=action,
            reason=reason,
            details=details,
        )
    )


def _conflict_message(blocked: list[DatePlan]) -> str:
    if len(blocked) == 1:
        return f"1 date cannot be booked ({', '.join(blocked[0].reasons)})."
    return f"{len(blocked)} dates cannot be booked."


def request_booking(user, cmd: BookingCommand, *, now: datetime | None = None) -> Booking:
    """Write a booking and its dates atomically, or raise and write nothing."""
    user = _require_user(user)
    cmd = validate_command(cmd)  # never-valid input is refused before any lock or conflict check
    begin_write()
    plan = _plan(user, cmd, now)
    room = plan.room
    if room.house_rules.strip() and not cmd.house_rules_accepted:
        raise InvalidRequest("Please confirm the house rules of the room.", "house_rules_accepted")
    blocked = plan.blocked
    if blocked and (not cmd.book_free_dates_only or not plan.bookable):
        raise Conflict(_conflict_message(blocked), list(plan.dates))

    recurrence = cmd.recurrence
    booking = Booking(
        room=room,
        organisation=plan.organisation,
        requested_by=user,
        title=cmd.title.strip(),
        description=(cmd.description or "").strip(),
        attendees=cmd.attendees,
        is_public=cmd.is_public,
        rrule=recurrence.to_rrule() if recurrence else None,
        exdates=sorted(d.isoformat() for d in recurrence.exdates) if recurrence else [],
        skip_closures=bool(recurrence and recurrence.skip_closures),
        house_rules_accepted_at=_now(now) if cmd.house_rules_accepted else None,
    )
    db.session.add(booking)
    db.session.flush()
    # The dates in one bulk INSERT (an executemany: a 52-week series is one statement on
    # PostgreSQL, not 52), then read back in one query. RETURNING in parameter order would cost
    # one statement per row on SQLite, which does not promise the order of RETURNING rows.
    decided = plan.status is OccurrenceStatus.APPROVED
    decided_at = _now(now) if decided else None
    db.session.execute(
        insert(Occurrence),
        [
            {
                "booking_id": booking.id,
                "room_id": room.id,
                "starts_at": d.slot.starts_at,
                "ends_at": d.slot.ends_at,
                "status": plan.status,
                "decided_by_id": user.id if decided else None,
                "decided_at": decided_at,
            }
            for d in plan.bookable
        ],
    )
    occurrences = db.session.scalars(
        select(Occurrence)
        .where(Occurrence.booking_id == booking.id)
        .order_by(Occurrence.starts_at, Occurrence.id)
    ).all()
    set_committed_value(booking, "occurrences", occurrences)
    _audit(
        "requested",
        user,
        booking,
        occurrences,
        status=plan.status.value,
        left_out=[d.local_start.isoformat() for d in blocked],
    )
    _write_guarded(
        "Someone else booked this time a moment ago.",
        list(plan.dates),
        occupy=occurrences if decided else (),
        room=room,
        tree=plan.tree,
    )
    notify_booking_received(booking)
    return booking


def get_booking(user, booking_id: int, *, for_update: bool = False) -> Booking:
    """A booking the user may see; others get NotFound (no hint whether it exists)."""
    if for_update:
        begin_write()
    booking = db.session.scalar(
        select(Booking).where(Booking.id == booking_id).options(selectinload(Booking.occurrences))
    )
    if booking is None or not permissions.can_view_booking(user, booking):
        raise NotFound("There is no such booking.")
    return booking


def _targets(
    booking: Booking,
    occurrence_ids: Sequence[int] | None,
    allowed: tuple[OccurrenceStatus, ...],
    verb: str,
    now: datetime,
) -> list[Occurrence]:
    if occurrence_ids:
        wanted = set(occurrence_ids)
        chosen = [o for o in booking.occurrences if o.id in wanted]
        unknown = wanted - {o.id for o in chosen}
        if unknown:
            raise InvalidRequest(
                f"These dates do not belong to the booking: {sorted(unknown)}.", "occurrence_ids"
            )
        for occ in chosen:
            if occ.status not in allowed:
                raise InvalidTransition(f"A {occ.status.value} date cannot be {verb}.")
            if occ.ends_at <= now:
                raise InvalidTransition(f"A date that is over cannot be {verb}.")
        return chosen
    chosen = [o for o in booking.occurrences if o.status in allowed and o.ends_at > now]
    if not chosen:
        raise InvalidTransition(f"No date of this booking can be {verb}.")
    return chosen


def _set_status(
    occurrences: Iterable[Occurrence],
    status: OccurrenceStatus,
    actor: User,
    reason: str,
    now: datetime,
) -> None:
    for occ in occurrences:
        occ.status = status
        occ.status_reason = reason
        occ.decided_by = actor
        occ.decided_at = now
        occ.sequence += 1


def approve(
    user,
    booking_id: int,
    occurrence_ids: Sequence[int] | None = None,
    comment: str = "",
    *,
    now: datetime | None = None,
) -> Booking:
    user = _require_user(user)
    now = _now(now)
    booking = get_booking(user, booking_id, for_update=True)
    room = booking.room
    if not permissions.can_manage_site(user, room.site_id):
        raise NotPermitted("Only the managers of this site can approve bookings.")
    if len(comment) > REASON_MAX:
        raise InvalidRequest(f"The comment may have at most {REASON_MAX} characters.", "comment")
    targets = _targets(booking, occurrence_ids, (OccurrenceStatus.PENDING,), "approved", now)
    tree = room_data.room_tree(room)
    plans = check_dates(
        room,
        room_data.site_zone(room),
        [domain.Slot(o.starts_at, o.ends_at) for o in targets],
        tree=tree,
        now=now,
        attendees=None,
        check_time_rules=False,
    )
    blocking = {domain.Reason.TAKEN, domain.Reason.CLOSED}
    clashes = [p for p in plans if any(x.reason in blocking for x in p.problems)]
    if clashes:
        raise Conflict(_conflict_message(clashes), plans)
    _set_status(targets, OccurrenceStatus.APPROVED, user, comment.strip(), now)
    _audit("approved", user, booking, targets, comment.strip())
    _write_guarded(
        "Another booking was approved for this time a moment ago.",
        plans,
        occupy=targets,
        room=room,
        tree=tree,
    )
    notify_booking_changed(booking, targets, user)
    return booking


def decline(
    user,
    booking_id: int,
    reason: str,
    occurrence_ids: Sequence[int] | None = None,
    *,
    now: datetime | None = None,
) -> Booking:
    user = _require_user(user)
    now = _now(now)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidRequest("Please tell the requester why.", "reason")
    if len(reason) > REASON_MAX:
        raise InvalidRequest(f"The reason may have at most {REASON_MAX} characters.", "reason")
    booking = get_booking(user, booking_id, for_update=True)
    if not permissions.can_manage_site(user, booking.room.site_id):
        raise NotPermitted("Only the managers of this site can decline bookings.")
    targets = _targets(booking, occurrence_ids, ACTIVE, "declined", now)
    _release([o.id for o in targets])
    _set_status(targets, OccurrenceStatus.DECLINED, user, reason, now)
    _audit("declined", user, booking, targets, reason)
    db.session.flush()
    notify_booking_changed(booking, targets, user)
    return booking


def cancel(
    user,
    booking_id: int,
    occurrence_ids: Sequence[int] | None = None,
    reason: str = "",
    *,
    now: datetime | None = None,
) -> Booking:
    user = _require_user(user)
    now = _now(now)
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise InvalidRequest(f"The reason may have at most {REASON_MAX} characters.", "reason")
    booking = get_booking(user, booking_id, for_update=True)
    if not permissions.can_cancel(user, booking):
        raise NotPermitted("You cannot cancel this booking.")
    targets = _targets(booking, occurrence_ids, ACTIVE, "cancelled", now)
    _release([o.id for o in targets])
    _set_status(targets, OccurrenceStatus.CANCELLED, user, reason, now)
    _audit("cancelled", user, booking, targets, reason)
    db.session.flush()
    notify_booking_changed(booking, targets, user)
    return booking


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
        raise NotPermitted("You cannot change this booking.")
    if room.id != booking.room_id and not room.active:
        raise NotFound("There is no such room.")
    zone = room_data.site_zone(room)
    tree = room_data.room_tree(room)
    slots = []
    for _occ, start, end in changes:
        if end <= start:
            raise InvalidRequest("The end must be after the start.", "end")
        if end - start > LONGEST_DATE:
            raise InvalidRequest("A single date may last at most 14 days.", "end")
        slots.append(domain.Slot(domain.from_local(start, zone), domain.from_local(end, zone)))
    ids = [occ.id for occ, _, _ in changes]
    plans = check_dates(
        room, zone, slots, tree=tree, now=now, attendees=booking.attendees, exclude_occurrences=ids
    )
    blocked = [p for p in plans if not p.bookable]
    if blocked:
        raise Conflict(_conflict_message(blocked), plans)
    status = (
        OccurrenceStatus.APPROVED
        if permissions.can_manage_site(user, room.site_id)
        else initial_status(user, room, booking.organisation)
    )
    _release(ids)
    db.session.flush()
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
    _audit(
        action,
        user,
        booking,
        [occ for occ, _, _ in changes],
        room_id=room.id,
        dates=[p.local_start.isoformat() for p in plans],
    )
    _write_guarded(
        "Someone else booked this time a moment ago.", plans, occupy=approved, room=room, tree=tree
    )
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
    user = _require_user(user)
    now = _now(now)
    begin_write()
    occurrence = db.session.get(Occurrence, occurrence_id)
    if occurrence is None:
        raise NotFound("There is no such date.")
    booking = get_booking(user, occurrence.booking_id)
    if occurrence.status not in ACTIVE or occurrence.ends_at <= now:
        raise InvalidTransition("Only upcoming pending or approved dates can be moved.")
    room = _load_room(room_id) if room_id is not None else booking.room
    zone = room_data.site_zone(room)
    return _reschedule(
        user,
        booking,
        [(occurrence, _local_naive(start, zone), _local_naive(end, zone))],
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
    user = _require_user(user)
    now = _now(now)
    booking = get_booking(user, booking_id, for_update=True)
    room = _load_room(room_id) if room_id is not None else booking.room
    zone = room_data.site_zone(room)
    if end_time <= start_time:
        raise InvalidRequest("The end must be after the start.", "end_time")
    changes = []
    for occ in booking.occurrences:
        day = domain.to_local(occ.starts_at, zone).date()
        if occ.status in ACTIVE and occ.starts_at > now and day >= from_date:
            changes.append(
                (occ, datetime.combine(day, start_time), datetime.combine(day, end_time))
            )
    if not changes:
        raise InvalidTransition("No upcoming date of this booking can be changed.")
    return _reschedule(user, booking, changes, room, now, "series_changed")
