"""Administration of sites and rooms: create, edit, deactivate.

Administrators create sites and (de)activate them; a site's managers edit it and create, edit
and deactivate its rooms. Every change writes an audit row (``site_created``, ``site_updated``,
``room_created``, ``room_updated``) whose details name the site, the room and each changed field
as ``[old, new]``. The catalogue cache notices the change through its database triggers.

Opening hours (``set_opening_hours``) are weekly windows of a site, or of one room overriding
the site's; the audit row ``opening_hours_set`` names the windows. Dated exceptions
(``set_opening_exception``, ``replace_opening_exceptions``, ``delete_opening_exception``) give
one date of a site or a room other hours, or close it; a room's own exception overrides the
site's for that date (see ``booking.domain.tree``). Audit rows: ``opening_exception_set``,
``opening_exception_deleted`` with the date and hours.

Approved dates are never re-checked here: when a room's buffers or its parts change, the
caller is told how many upcoming approved dates would now collide, so a manager can sort them
out by hand.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, timedelta
from functools import cache
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from booking import domain
from booking.database import begin_write
from booking.extensions import db
from booking.models import (
    ApprovalPolicy,
    Occurrence,
    OccurrenceStatus,
    OpeningException,
    OpeningWindow,
    Room,
    Site,
    SiteKind,
    User,
)
from booking.models.places import MAX_BUFFER_MINUTES
from booking.services import audit as audit_trail
from booking.services import catalogue, features, permissions
from booking.services.accounts import normalise_email
from booking.services.errors import N_, InvalidRequest, NotFound, NotPermitted
from booking.services.occupancy import LONGEST_DATE
from booking.services.requests import now_or
from booking.services.room_context import load_contexts
from booking.services.text import check_clean_text, check_single_line

NAME_MAX = 200
DISTRICT_MAX = 100
STREET_MAX = 200
POSTCODE_MAX = 10
CITY_MAX = 100
CONTACT_NAME_MAX = 200
EMAIL_MAX = 254
PHONE_MAX = 50
TEXT_MAX = 5000
CAPACITY_MAX = 100_000
AREA_MAX = 100_000
LEAD_MAX_MINUTES = 365 * 24 * 60
ADVANCE_MAX_DAYS = 5 * 365
DURATION_MAX_MINUTES = int(LONGEST_DATE.total_seconds() // 60)


@dataclass(frozen=True)
class SiteCommand:
    name: str
    kind: str
    district: str
    street: str = ""
    postcode: str = ""
    city: str = "Iserlohn"
    timezone: str = "Europe/Berlin"
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    description: str = ""
    active: bool = True


@dataclass(frozen=True)
class RoomCommand:
    name: str
    capacity: int
    parent_id: int | None = None
    area_m2: int | None = None
    description: str = ""
    house_rules: str = ""
    step_free: bool = False
    accessible_toilet: bool = False
    hearing_loop: bool = False
    approval_policy: str = ApprovalPolicy.MANUAL.value
    min_lead_minutes: int = 0
    max_advance_days: int | None = 400
    min_duration_minutes: int | None = 30
    max_duration_minutes: int | None = 12 * 60
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    features: tuple[str, ...] = field(default_factory=tuple)
    active: bool = True


Window = tuple[int, int, int]  # weekday (0 = Monday), opens, closes (minutes after midnight)

SCHOOL_HOURS: tuple[Window, ...] = (
    *((day, 16 * 60, 22 * 60) for day in range(5)),
    (5, 9 * 60, 18 * 60),
)
MAX_WINDOWS = 7 * 48


@dataclass(frozen=True)
class HoursSaved:
    """The windows now set and how many upcoming approved dates fall outside the hours that
    now apply; nothing approved was changed."""

    windows: list[Window]
    outside: int = 0


@dataclass(frozen=True)
class RoomSaved:
    """A saved room and how many upcoming approved dates now collide (buffers or parts
    changed); nothing approved was changed."""

    room: Room
    collisions: int = 0


# --- who may ----------------------------------------------------------------------------------


def can_create_site(user) -> bool:
    u = permissions.authenticated(user)
    return u is not None and u.active and u.is_admin


def administrable_sites(user) -> list[Site]:
    """The sites a user may administer (administrators: every site, inactive ones too);
    NotPermitted for someone who administers none."""
    user = permissions.require_user(user)
    site_ids = permissions.managed_site_ids(user)
    stmt = select(Site).options(selectinload(Site.rooms)).order_by(Site.name)
    if site_ids is not None:
        if not site_ids:
            raise NotPermitted(N_("You do not manage any site."), code="not_a_manager")
        stmt = stmt.where(Site.id.in_(sorted(site_ids)))
    return list(db.session.scalars(stmt))


def site_for_editing(user, site_id: int) -> Site:
    user = permissions.require_user(user)
    site = db.session.get(Site, site_id)
    if site is None:
        raise NotFound(N_("There is no such site."))
    if not permissions.can_manage_site(user, site.id):
        raise NotPermitted(N_("Only this site's managers and administrators may change it."))
    return site


def room_for_editing(user, room_id: int) -> Room:
    user = permissions.require_user(user)
    room = db.session.get(Room, room_id)
    if room is None:
        raise NotFound(N_("There is no such room."))
    if not permissions.can_manage_site(user, room.site_id):
        raise NotPermitted(N_("Only this site's managers and administrators may change it."))
    return room


def site_command(site: Site) -> SiteCommand:
    """The command that leaves a site as it is (a form's first values, a PATCH's base)."""
    return SiteCommand(**{f.name: getattr(site, f.name) for f in fields(SiteCommand)})


def room_command(room: Room) -> RoomCommand:
    values = {f.name: getattr(room, f.name) for f in fields(RoomCommand) if f.name != "features"}
    return RoomCommand(**values, features=tuple(room.features))


def rooms_of_site(site_id: int) -> list[Room]:
    return list(db.session.scalars(select(Room).where(Room.site_id == site_id).order_by(Room.name)))


# --- validation -------------------------------------------------------------------------------


def _text(
    value: Any, field_name: str, limit: int, *, required: str | None = None, lines: bool = False
) -> str:
    """``lines``: a text of several lines (tabs and line breaks allowed), else one line."""
    text = (value or "").strip() if isinstance(value, str | None) else None
    if text is None or "\x00" in text:
        raise InvalidRequest(N_("Please check this entry."), field_name, code="invalid_text")
    (check_clean_text if lines else check_single_line)(text, field_name)
    if required is not None and not text:
        raise InvalidRequest(required, field_name, code=f"{field_name}_missing")
    if len(text) > limit:
        raise InvalidRequest(
            N_("At most %(max)d characters, please."),
            field_name,
            code=f"{field_name}_too_long",
            max=limit,
        )
    return text


def _number(value: Any, field_name: str, low: int, high: int, *, optional: bool = False):
    if value is None and optional:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidRequest(
            N_("Please enter a whole number from %(low)d to %(high)d."),
            field_name,
            code=f"{field_name}_out_of_range",
            low=low,
            high=high,
        )
    return value


def _flag(value: Any, field_name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidRequest(N_("Please check this entry."), field_name, code="invalid_flag")
    return value


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_site(cmd: SiteCommand) -> SiteCommand:
    """The command, checked and normalised (also for one cell of an import file)."""
    try:
        kind = SiteKind(cmd.kind)
    except ValueError:
        raise InvalidRequest(
            N_("Please choose a kind from the list."), "kind", code="kind_unknown"
        ) from None
    timezone = _text(cmd.timezone, "timezone", 64, required=N_("Please give a time zone."))
    if timezone not in _zones():
        raise InvalidRequest(
            N_("This is not a known time zone (for example Europe/Berlin)."),
            "timezone",
            code="timezone_unknown",
        )
    email = _text(cmd.contact_email, "contact_email", EMAIL_MAX)
    if email:
        try:
            email = normalise_email(email)
        except InvalidRequest:
            raise InvalidRequest(
                N_("This e-mail address is not valid."), "contact_email", code="email_invalid"
            ) from None
    return SiteCommand(
        name=_text(cmd.name, "name", NAME_MAX, required=N_("Please enter a name.")),
        kind=kind.value,
        district=_text(
            cmd.district, "district", DISTRICT_MAX, required=N_("Please name the district.")
        ),
        street=_text(cmd.street, "street", STREET_MAX),
        postcode=_text(cmd.postcode, "postcode", POSTCODE_MAX),
        city=_text(cmd.city, "city", CITY_MAX),
        timezone=timezone,
        contact_name=_text(cmd.contact_name, "contact_name", CONTACT_NAME_MAX),
        contact_phone=_text(cmd.contact_phone, "contact_phone", PHONE_MAX),
        contact_email=email,
        description=_text(cmd.description, "description", TEXT_MAX, lines=True),
        active=_flag(cmd.active, "active"),
    )


def validate_room(cmd: RoomCommand, *, had: Iterable[str] | None = None) -> RoomCommand:
    """The command, checked and normalised. ``had``: the features the room has now (empty for
    a new room); an inactive feature is refused unless the room has it already. Without it,
    any listed feature passes (a check of one cell of an import file)."""
    try:
        policy = ApprovalPolicy(cmd.approval_policy)
    except ValueError:
        raise InvalidRequest(
            N_("Please choose from the list."), "approval_policy", code="approval_policy_unknown"
        ) from None
    equipment = features.check_room_features(cmd.features, had=had)
    minutes = DURATION_MAX_MINUTES
    min_duration = _number(
        cmd.min_duration_minutes, "min_duration_minutes", 1, minutes, optional=True
    )
    max_duration = _number(
        cmd.max_duration_minutes, "max_duration_minutes", 1, minutes, optional=True
    )
    if min_duration is not None and max_duration is not None and min_duration > max_duration:
        raise InvalidRequest(
            N_("The longest booking must not be shorter than the shortest."),
            "max_duration_minutes",
            code="durations_reversed",
        )
    parent_id = cmd.parent_id
    if parent_id is not None and (
        not isinstance(parent_id, int) or isinstance(parent_id, bool) or parent_id < 1
    ):
        raise InvalidRequest(N_("There is no such room."), "parent_id", code="parent_unknown")
    return RoomCommand(
        name=_text(cmd.name, "name", NAME_MAX, required=N_("Please enter a name.")),
        capacity=_number(cmd.capacity, "capacity", 0, CAPACITY_MAX),
        parent_id=parent_id,
        area_m2=_number(cmd.area_m2, "area_m2", 1, AREA_MAX, optional=True),
        description=_text(cmd.description, "description", TEXT_MAX, lines=True),
        house_rules=_text(cmd.house_rules, "house_rules", TEXT_MAX, lines=True),
        step_free=_flag(cmd.step_free, "step_free"),
        accessible_toilet=_flag(cmd.accessible_toilet, "accessible_toilet"),
        hearing_loop=_flag(cmd.hearing_loop, "hearing_loop"),
        approval_policy=policy.value,
        min_lead_minutes=_number(cmd.min_lead_minutes, "min_lead_minutes", 0, LEAD_MAX_MINUTES),
        max_advance_days=_number(
            cmd.max_advance_days, "max_advance_days", 1, ADVANCE_MAX_DAYS, optional=True
        ),
        min_duration_minutes=min_duration,
        max_duration_minutes=max_duration,
        buffer_before_minutes=_number(
            cmd.buffer_before_minutes, "buffer_before_minutes", 0, MAX_BUFFER_MINUTES
        ),
        buffer_after_minutes=_number(
            cmd.buffer_after_minutes, "buffer_after_minutes", 0, MAX_BUFFER_MINUTES
        ),
        features=equipment,
        active=_flag(cmd.active, "active"),
    )


def _site_name_free(name: str, site_id: int | None) -> None:
    stmt = select(Site.id).where(func.lower(Site.name) == name.lower())
    if site_id is not None:
        stmt = stmt.where(Site.id != site_id)
    if db.session.scalar(stmt) is not None:
        raise InvalidRequest(N_("A site with this name exists already."), "name", code="name_taken")


def _room_name_free(site_id: int, name: str, room_id: int | None) -> None:
    stmt = select(Room.id).where(Room.site_id == site_id, func.lower(Room.name) == name.lower())
    if room_id is not None:
        stmt = stmt.where(Room.id != room_id)
    if db.session.scalar(stmt) is not None:
        raise InvalidRequest(
            N_("This site has a room with this name already."), "name", code="name_taken"
        )


def _site_tree(site_id: int) -> domain.RoomTree:
    return domain.RoomTree(
        dict(
            db.session.execute(select(Room.id, Room.parent_id).where(Room.site_id == site_id)).all()
        )
    )


def _check_parent(site_id: int, parent_id: int | None, room_id: int | None) -> None:
    """A part belongs to a room of the same site, and never to itself or one of its parts."""
    if parent_id is None:
        return
    parent = db.session.get(Room, parent_id)
    if parent is None:
        raise InvalidRequest(N_("There is no such room."), "parent_id", code="parent_unknown")
    if parent.site_id != site_id:
        raise InvalidRequest(
            N_("A room can only be a part of a room of the same site."),
            "parent_id",
            code="parent_other_site",
        )
    if room_id is not None and parent_id in (room_id, *_site_tree(site_id).descendants(room_id)):
        raise InvalidRequest(
            N_("A room cannot be a part of itself or of one of its own parts."),
            "parent_id",
            code="parent_cycle",
        )


# --- audit ------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value.value if hasattr(value, "value") else value


def _changes(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        name: [None if old is None else _plain(old[name]), _plain(value)]
        for name, value in new.items()
        if old is None or _plain(old[name]) != _plain(value)
    }


def _audit(actor: User, action: str, site_id: int, room_id: int | None, changes) -> None:
    audit_trail.record(
        action,
        actor,
        site_id=site_id,
        room_id=room_id,
        changes=changes,
    )


# --- sites ------------------------------------------------------------------------------------


def create_site(user, cmd: SiteCommand) -> Site:
    user = permissions.require_user(user)
    if not user.is_admin:
        raise NotPermitted(N_("Only administrators may create sites."), code="admins_only")
    begin_write()  # SQLite: the write lock before the name check
    cmd = validate_site(cmd)
    _site_name_free(cmd.name, None)
    values = asdict(cmd)
    site = Site(**(values | {"kind": SiteKind(cmd.kind)}))
    db.session.add(site)
    db.session.flush()
    _audit(user, "site_created", site.id, None, _changes(None, values))
    db.session.flush()
    return site


def update_site(user, site_id: int, cmd: SiteCommand) -> Site:
    begin_write()  # SQLite: the write lock before anything is read
    site = site_for_editing(user, site_id)
    cmd = validate_site(cmd)
    if cmd.active != site.active and not user.is_admin:
        raise NotPermitted(
            N_("Only administrators may deactivate or reactivate a site."), code="admins_only"
        )
    _site_name_free(cmd.name, site.id)
    old = asdict(site_command(site))
    changes = _changes(old, asdict(cmd))
    if not changes:
        return site
    for name in changes:
        setattr(site, name, SiteKind(cmd.kind) if name == "kind" else getattr(cmd, name))
    _audit(user, "site_updated", site.id, None, changes)
    db.session.flush()
    return site


# --- rooms ------------------------------------------------------------------------------------


def create_room(user, site_id: int, cmd: RoomCommand, *, now: datetime | None = None) -> RoomSaved:
    begin_write()  # SQLite: the write lock before anything is read
    site = site_for_editing(user, site_id)
    cmd = validate_room(cmd, had=())
    _room_name_free(site.id, cmd.name, None)
    _check_parent(site.id, cmd.parent_id, None)
    values = asdict(cmd)
    room = Room(site=site, **(values | {"approval_policy": ApprovalPolicy(cmd.approval_policy)}))
    db.session.add(room)
    db.session.flush()
    _audit(user, "room_created", site.id, room.id, _changes(None, values))
    db.session.flush()
    collisions = 0
    if cmd.parent_id is not None:  # the whole is divided anew
        collisions = upcoming_collisions(_site_tree(site.id).related(room.id), now=now_or(now))
    return RoomSaved(room, collisions)


def update_room(user, room_id: int, cmd: RoomCommand, *, now: datetime | None = None) -> RoomSaved:
    begin_write()  # SQLite: the write lock before anything is read
    room = room_for_editing(user, room_id)
    cmd = validate_room(cmd, had=room.features)
    _room_name_free(room.site_id, cmd.name, room.id)
    _check_parent(room.site_id, cmd.parent_id, room.id)
    changes = _changes(asdict(room_command(room)), asdict(cmd))
    if not changes:
        return RoomSaved(room)
    reshaped = "parent_id" in changes
    affected = set(_site_tree(room.site_id).related(room.id)) if reshaped else {room.id}
    for name in changes:
        if name == "approval_policy":
            room.approval_policy = ApprovalPolicy(cmd.approval_policy)
        else:
            setattr(room, name, getattr(cmd, name))
    _audit(user, "room_updated", room.site_id, room.id, changes)
    db.session.flush()
    collisions = 0
    if reshaped or {"buffer_before_minutes", "buffer_after_minutes"} & changes.keys():
        if reshaped:
            affected |= set(_site_tree(room.site_id).related(room.id))
        collisions = upcoming_collisions(affected, now=now_or(now))
    return RoomSaved(room, collisions)


def upcoming_collisions(room_ids: Iterable[int], *, now: datetime) -> int:
    """How many upcoming approved dates of these rooms collide with another approved date,
    as the room context sees it now (buffers and parts as they are in this transaction)."""
    return len(colliding_dates(room_ids, now=now))


def colliding_dates(room_ids: Iterable[int], *, now: datetime) -> list[int]:
    """The ids of the upcoming approved dates of these rooms that collide with another
    approved date (see ``upcoming_collisions``), so a manager can be shown them."""
    rows = db.session.execute(
        select(
            Occurrence.id,
            Occurrence.booking_id,
            Occurrence.room_id,
            Occurrence.starts_at,
            Occurrence.ends_at,
        ).where(
            Occurrence.room_id.in_(sorted(set(room_ids))),
            Occurrence.status == OccurrenceStatus.APPROVED,
            Occurrence.ends_at > now,
        )
    ).all()
    by_booking: dict[tuple[int, int], list] = defaultdict(list)
    for row in rows:
        by_booking[(row.booking_id, row.room_id)].append(row)
    found = catalogue.current()
    colliding: list[int] = []
    for (_booking_id, room_id), dates in by_booking.items():
        slots = [domain.Slot(d.starts_at, d.ends_at) for d in dates]
        # A booking's own dates are left out: they never block each other.
        contexts = load_contexts(
            [room_id], slots, exclude_occurrences=[d.id for d in dates], found=found
        )
        if room_id not in contexts:
            continue
        plans = contexts[room_id].check(slots, now=now, check_time_rules=False)
        taken = {
            plan.slot
            for plan in plans
            if any(p.reason is domain.Reason.TAKEN for p in plan.problems)
        }
        colliding.extend(d.id for d, slot in zip(dates, slots, strict=True) if slot in taken)
    return sorted(colliding)


# --- opening hours ----------------------------------------------------------------------------


def opening_windows(site_id: int, room_id: int | None) -> list[Window]:
    """The windows of one owner: the site's (``room_id`` None) or a room's own override."""
    stmt = select(OpeningWindow.weekday, OpeningWindow.opens, OpeningWindow.closes).where(
        OpeningWindow.site_id == site_id
    )
    stmt = stmt.where(
        OpeningWindow.room_id.is_(None) if room_id is None else OpeningWindow.room_id == room_id
    )
    rows = db.session.execute(stmt.order_by(OpeningWindow.weekday, OpeningWindow.opens)).all()
    return [(r.weekday, r.opens, r.closes) for r in rows]


def _validate_windows(windows: Any) -> list[Window]:
    if not isinstance(windows, list | tuple) or len(windows) > MAX_WINDOWS:
        raise InvalidRequest(
            N_("Please check the opening hours."), "windows", code="invalid_windows"
        )
    checked: list[Window] = []
    for window in windows:
        if not isinstance(window, list | tuple) or len(window) != 3:
            raise InvalidRequest(
                N_("Please check the opening hours."), "windows", code="invalid_windows"
            )
        weekday, opens, closes = window
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in window):
            raise InvalidRequest(
                N_("Please check the opening hours."), "windows", code="invalid_windows"
            )
        if not 0 <= weekday <= 6:
            raise InvalidRequest(
                N_("A weekday is a number from 0 (Monday) to 6 (Sunday)."),
                "windows",
                code="weekday_out_of_range",
            )
        if not 0 <= opens < closes <= 1440:
            raise InvalidRequest(
                N_("A window must open before it closes, between 00:00 and 24:00."),
                f"day{weekday}",
                code="window_reversed",
            )
        checked.append((weekday, opens, closes))
    checked.sort()
    for before, after in pairwise(checked):
        if before[0] == after[0] and after[1] < before[2]:
            raise InvalidRequest(
                N_("The opening windows of a day must not overlap."),
                f"day{after[0]}",
                code="windows_overlap",
            )
    return checked


def set_opening_hours(
    user,
    site_id: int,
    room_id: int | None,
    windows: list[Window],
    *,
    now: datetime | None = None,
) -> HoursSaved:
    """Replace the weekly windows of a site, or of one of its rooms (an override).

    An empty list for a room removes its override (the site's hours apply again); for a site
    it means always open. Errors name the field ``day<weekday>`` (0 = Monday) or ``windows``.
    """
    begin_write()  # SQLite: the write lock before anything is read
    user = permissions.require_user(user)
    site = site_for_editing(user, site_id)
    if room_id is not None:
        room = db.session.get(Room, room_id) if isinstance(room_id, int) else None
        if room is None or room.site_id != site.id:
            raise InvalidRequest(
                N_("This site has no such room."), "room_id", code="room_not_at_site"
            )
    checked = _validate_windows(windows)
    owner = OpeningWindow.room_id.is_(None) if room_id is None else OpeningWindow.room_id == room_id
    for old in db.session.scalars(
        select(OpeningWindow).where(OpeningWindow.site_id == site.id, owner)
    ):
        db.session.delete(old)
    db.session.flush()
    for weekday, opens, closes in checked:
        db.session.add(
            OpeningWindow(
                site_id=site.id, room_id=room_id, weekday=weekday, opens=opens, closes=closes
            )
        )
    audit_trail.record(
        "opening_hours_set",
        user,
        site_id=site.id,
        room_id=room_id,
        windows=[list(w) for w in checked],
    )
    db.session.flush()
    tree = _site_tree(site.id)
    if room_id is None:
        affected = list(db.session.scalars(select(Room.id).where(Room.site_id == site.id)))
    else:
        affected = [room_id, *tree.descendants(room_id)]
    return HoursSaved(checked, upcoming_outside_hours(affected, now=now_or(now)))


def upcoming_outside_hours(room_ids: Iterable[int], *, now: datetime) -> int:
    """How many upcoming approved dates of these rooms lie outside the opening hours that
    apply to them now (as the catalogue sees this transaction)."""
    rows = db.session.execute(
        select(Occurrence.room_id, Occurrence.starts_at, Occurrence.ends_at).where(
            Occurrence.room_id.in_(sorted(set(room_ids))),
            Occurrence.status == OccurrenceStatus.APPROVED,
            Occurrence.ends_at > now,
        )
    ).all()
    found = catalogue.current()
    count = 0
    for row in rows:
        facts = found.rooms.get(row.room_id)
        if facts is None or facts.rules.opening is None:
            continue
        if not facts.rules.opening.covers(domain.Slot(row.starts_at, row.ends_at), facts.zone):
            count += 1
    return count


# --- dated exceptions to the opening hours ----------------------------------------------------

EXCEPTION_REASON_MAX = 200
MAX_EXCEPTIONS = 400  # in one replacement (the API's list)


@dataclass(frozen=True)
class ExceptionCommand:
    """Other hours on one local date: ``opens``-``closes`` in minutes after local midnight
    (``closes`` up to 1440, midnight at the end of the day), or closed all day (both None)."""

    day: date
    opens: int | None = None
    closes: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class ExceptionsSaved:
    """The owner's upcoming exceptions after the change and how many upcoming approved dates
    lie outside the hours that now apply; nothing approved was changed."""

    site_id: int
    room_id: int | None
    exceptions: list[OpeningException]
    outside: int = 0


def _local_today(site: Site, now: datetime) -> date:
    return domain.to_local(now, ZoneInfo(site.timezone)).date()


def _owned_by(site_id: int, room_id: int | None):
    owner = (
        OpeningException.room_id.is_(None)
        if room_id is None
        else OpeningException.room_id == room_id
    )
    return (OpeningException.site_id == site_id, owner)


def upcoming_opening_exceptions(
    site_id: int, room_id: int | None, *, today: date
) -> list[OpeningException]:
    """The exceptions of one owner (the site, or one room's own) from ``today`` on, by date."""
    return list(
        db.session.scalars(
            select(OpeningException)
            .where(*_owned_by(site_id, room_id), OpeningException.day >= today)
            .order_by(OpeningException.day)
        )
    )


def exceptions_for_editing(
    user, site_id: int, room_id: int | None, *, now: datetime | None = None
) -> list[OpeningException]:
    """The owner's upcoming exceptions, for someone who may change them."""
    site = _exception_owner(user, site_id, room_id)
    return upcoming_opening_exceptions(site.id, room_id, today=_local_today(site, now_or(now)))


def _exception_owner(user, site_id: int, room_id: int | None) -> Site:
    user = permissions.require_user(user)
    site = site_for_editing(user, site_id)
    if room_id is not None:
        room = db.session.get(Room, room_id) if isinstance(room_id, int) else None
        if room is None or room.site_id != site.id:
            raise InvalidRequest(
                N_("This site has no such room."), "room_id", code="room_not_at_site"
            )
    return site


def _minutes_or_none(value: Any, field_name: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1440:
        raise InvalidRequest(
            N_("Please give a time between 00:00 and 24:00."), field_name, code="invalid_time"
        )
    return value


def _validate_exception(
    cmd: ExceptionCommand, *, today: date, prefix: str = "", day: str = "day"
) -> ExceptionCommand:
    """Errors name ``<prefix><day>``, ``<prefix>opens``, ``<prefix>closes``, ``<prefix>reason``."""
    day_field = prefix + day
    if not isinstance(cmd.day, date) or isinstance(cmd.day, datetime):
        raise InvalidRequest(N_("Please give a date."), day_field, code="day_missing")
    if cmd.day < today:
        raise InvalidRequest(
            N_("The date has passed: exceptions are for today or later."),
            day_field,
            code="day_in_past",
        )
    if cmd.day > today + timedelta(days=ADVANCE_MAX_DAYS):
        raise InvalidRequest(
            N_("The date is too far ahead: at most %(days)d days."),
            day_field,
            code="day_too_far_ahead",
            days=ADVANCE_MAX_DAYS,
        )
    opens = _minutes_or_none(cmd.opens, f"{prefix}opens")
    closes = _minutes_or_none(cmd.closes, f"{prefix}closes")
    if opens is None and closes is not None:
        raise InvalidRequest(
            N_("Please give both times, or none for closed all day."),
            f"{prefix}opens",
            code="time_missing",
        )
    if closes is None and opens is not None:
        raise InvalidRequest(
            N_("Please give both times, or none for closed all day."),
            f"{prefix}closes",
            code="time_missing",
        )
    if opens is not None and closes is not None and not opens < closes:
        raise InvalidRequest(
            N_("The room must close after it opens, at 24:00 at the latest."),
            f"{prefix}closes",
            code="window_reversed",
        )
    reason = _text(cmd.reason, f"{prefix}reason", EXCEPTION_REASON_MAX)
    return ExceptionCommand(cmd.day, opens, closes, reason)


def _lock_site(site_id: int) -> None:
    """PostgreSQL: one writer of a site's exceptions at a time, so no date gets two (SQLite:
    ``begin_write`` holds the database's write lock already)."""
    db.session.execute(select(Site.id).where(Site.id == site_id).with_for_update())


def _clock(minutes: int | None) -> str | None:
    return None if minutes is None else f"{minutes // 60:02d}:{minutes % 60:02d}"


def _exception_details(row: OpeningException) -> dict[str, Any]:
    """The audit details: the date and the hours as ``HH:MM`` (both None: closed all day)."""
    return {"day": row.day.isoformat(), "opens": _clock(row.opens), "closes": _clock(row.closes)}


def _write_exception(
    user: User, site_id: int, room_id: int | None, cmd: ExceptionCommand, existing
) -> OpeningException:
    """Add or change the owner's exception of ``cmd.day`` (``existing``: its row or None) and
    audit it; an unchanged one is left alone."""
    if existing is not None:
        before = (existing.opens, existing.closes, existing.reason)
        if before == (cmd.opens, cmd.closes, cmd.reason):
            return existing
        existing.opens, existing.closes, existing.reason = cmd.opens, cmd.closes, cmd.reason
        row = existing
        previous = {
            "previous": {
                "opens": _clock(before[0]),
                "closes": _clock(before[1]),
                "reason": before[2],
            }
        }
    else:
        row = OpeningException(
            site_id=site_id,
            room_id=room_id,
            day=cmd.day,
            opens=cmd.opens,
            closes=cmd.closes,
            reason=cmd.reason,
        )
        db.session.add(row)
        previous = {}
    audit_trail.record(
        "opening_exception_set",
        user,
        site_id=site_id,
        room_id=room_id,
        reason=cmd.reason,
        **_exception_details(row),
        **previous,
    )
    return row


def _delete_exception(user: User, row: OpeningException) -> None:
    audit_trail.record(
        "opening_exception_deleted",
        user,
        site_id=row.site_id,
        room_id=row.room_id,
        reason=row.reason,
        **_exception_details(row),
    )
    db.session.delete(row)


def _exceptions_saved(site: Site, room_id: int | None, today: date, now: datetime):
    db.session.flush()
    if room_id is None:
        affected = list(db.session.scalars(select(Room.id).where(Room.site_id == site.id)))
    else:
        affected = [room_id, *_site_tree(site.id).descendants(room_id)]
    return ExceptionsSaved(
        site.id,
        room_id,
        upcoming_opening_exceptions(site.id, room_id, today=today),
        upcoming_outside_hours(affected, now=now),
    )


def set_opening_exception(
    user,
    site_id: int,
    room_id: int | None,
    cmd: ExceptionCommand,
    *,
    now: datetime | None = None,
) -> ExceptionsSaved:
    """Give one date of a site (``room_id`` None) or of one of its rooms other hours, or close
    it; an exception the owner already has for that date is replaced. The date is the site's
    local date, today or later. Errors name ``day``, ``opens``, ``closes``, ``reason`` or
    ``room_id``."""
    begin_write()  # SQLite: the write lock before anything is read
    now = now_or(now)
    site = _exception_owner(user, site_id, room_id)
    _lock_site(site.id)
    today = _local_today(site, now)
    cmd = _validate_exception(cmd, today=today)
    existing = db.session.scalar(
        select(OpeningException).where(
            *_owned_by(site.id, room_id), OpeningException.day == cmd.day
        )
    )
    _write_exception(user, site.id, room_id, cmd, existing)
    return _exceptions_saved(site, room_id, today, now)


def replace_opening_exceptions(
    user,
    site_id: int,
    room_id: int | None,
    cmds: list[ExceptionCommand],
    *,
    now: datetime | None = None,
) -> ExceptionsSaved:
    """Make ``cmds`` the owner's exceptions from today on: dates not listed lose theirs, listed
    ones are added or changed (past exceptions stay as they were). Errors name
    ``exceptions.<index>.<date|opens|closes|reason>`` (the API's names); a date listed twice
    is a 422 on the second one's ``date``."""
    begin_write()  # SQLite: the write lock before anything is read
    now = now_or(now)
    site = _exception_owner(user, site_id, room_id)
    _lock_site(site.id)
    today = _local_today(site, now)
    if not isinstance(cmds, list | tuple) or len(cmds) > MAX_EXCEPTIONS:
        raise InvalidRequest(
            N_("Please give at most %(count)d exceptions at once."),
            "exceptions",
            code="too_many_exceptions",
            count=MAX_EXCEPTIONS,
        )
    wanted: dict[date, ExceptionCommand] = {}
    for index, cmd in enumerate(cmds):
        prefix = f"exceptions.{index}."
        checked = _validate_exception(cmd, today=today, prefix=prefix, day="date")
        if checked.day in wanted:
            raise InvalidRequest(
                N_("This date is listed twice."), f"{prefix}date", code="day_listed_twice"
            )
        wanted[checked.day] = checked
    current = {row.day: row for row in upcoming_opening_exceptions(site.id, room_id, today=today)}
    for day, row in current.items():
        if day not in wanted:
            _delete_exception(user, row)
    for day, cmd in wanted.items():
        _write_exception(user, site.id, room_id, cmd, current.get(day))
    return _exceptions_saved(site, room_id, today, now)


def delete_opening_exception(
    user, exception_id: int, *, now: datetime | None = None
) -> ExceptionsSaved:
    """Remove one exception: its date has the weekly hours again (or the site's exception, when
    a room's own one is removed)."""
    begin_write()  # SQLite: the write lock before anything is read
    now = now_or(now)
    user = permissions.require_user(user)
    row = db.session.get(OpeningException, exception_id)
    if row is None:
        raise NotFound(N_("There is no such exception to the opening hours."))
    site = site_for_editing(user, row.site_id)
    room_id = row.room_id
    _delete_exception(user, row)
    return _exceptions_saved(site, room_id, _local_today(site, now), now)
