"""The room catalogue (sites, rooms and their parts, features, opening hours), cached per process.

It changes a few times a year, when a caretaker edits a room or an import adds opening hours,
but nearly every request reads it: a search filters all rooms by capacity, features and
district and needs every candidate site's room tree and opening hours. Each process keeps one
snapshot per database and asks one row, ``catalogue_version``, whether it is still current.
Database triggers (migrations 0006, 0007, 0009, 0015) give that row a new random value on every
insert, update or delete of sites, rooms, room features, the list of features (their labels,
order and whether they are offered), opening windows, opening exceptions, closures and managers,
whoever writes them (the ORM, a bulk import, a database console), so a snapshot is never used
after a change, and a version seen inside a transaction that was rolled back never comes back.

The version is read before the data: a change committed in between only makes the next request
load again. Closures and the sites' managers are part of it too (migration 0015): every
conflict check, search and booking needs them, and they change as seldom. Bookings are not;
they are read per request.

Dated opening exceptions are part of the rules (migration 0007 gives their table the same
trigger). Only those from yesterday (UTC) on are loaded: every local "today" on earth is at or
after that date, so every check of a booking from now on sees its exceptions; a snapshot that
lives for days only keeps a few past ones more. Past dates (an old week in the calendar, a plan
of last month) are shown with the weekly hours.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from booking import domain
from booking.domain import RoomTree
from booking.extensions import db
from booking.models import (
    CatalogueVersion,
    Closure,
    Feature,
    OpeningException,
    OpeningWindow,
    Room,
    RoomFeature,
    Site,
    site_manager,
)

# One snapshot per database URL (tests and the benchmark use several databases in one process).
_snapshots: dict[str, Catalogue] = {}


@dataclass(frozen=True)
class FeatureFacts:
    """One entry of the equipment list administrators keep (``booking.models.Feature``)."""

    key: str
    label_de: str
    label_en: str
    active: bool  # offered for rooms and searches; an inactive one stays on its rooms
    position: int

    def label(self, language: str) -> str:
        """The label in the reader's language: German for German, English otherwise."""
        return self.label_de if language == "de" else self.label_en


@dataclass(frozen=True)
class RoomFacts:
    """What filtering and the scheduling core need of a room, without an ORM object."""

    id: int
    site_id: int
    parent_id: int | None
    capacity: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    step_free: bool
    active: bool  # the room and its site
    district: str
    timezone: str
    features: frozenset[str]  # feature keys
    # Every rule the scheduling core applies to a booking of this room, opening hours included:
    # the one set of rules that requests, approvals, the manager's view and search all use.
    rules: domain.RoomRules

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Catalogue:
    version: str | None
    rooms: dict[int, RoomFacts]  # by id, in id order
    tree: RoomTree
    features: dict[str, FeatureFacts]  # by key, in the lists' order (position, then key)
    # Per site: its closures (the room closed, or None for the whole site) by start, and the
    # ids of its managers.
    closures: dict[int, tuple[tuple[int | None, domain.Closure], ...]] = field(default_factory=dict)
    managers: dict[int, frozenset[int]] = field(default_factory=dict)

    def closures_between(
        self, site_ids: Iterable[int], start: datetime, end: datetime
    ) -> dict[int, list[tuple[int | None, domain.Closure]]]:
        """Per site, its closures overlapping [start, end), by start."""
        found: dict[int, list[tuple[int | None, domain.Closure]]] = {}
        for site_id in site_ids:
            hits = [
                (room_id, c)
                for room_id, c in self.closures.get(site_id, ())
                if c.slot.starts_at < end and c.slot.ends_at > start
            ]
            if hits:
                found[site_id] = hits
        return found

    def offered_features(self, keep: Iterable[str] = ()) -> list[FeatureFacts]:
        """The features one may choose, in order: the active ones, plus those of ``keep``
        (what a room has already) even when inactive."""
        kept = set(keep)
        return [f for f in self.features.values() if f.active or f.key in kept]

    def feature_label(self, key: str, language: str) -> str:
        found = self.features.get(key)
        return key if found is None else found.label(language)

    def matching(
        self,
        *,
        min_capacity: int | None = None,
        district: str | None = None,
        site_id: int | None = None,
        step_free: bool = False,
        features: Iterable[str] = (),
    ) -> list[RoomFacts]:
        """Active rooms passing the static filters of a search, in id order."""
        wanted = frozenset(features)
        return [
            room
            for room in self.rooms.values()
            if room.active
            and (not min_capacity or room.capacity >= min_capacity)
            and (not district or room.district == district)
            and (not site_id or room.site_id == site_id)
            and (not step_free or room.step_free)
            and wanted <= room.features
        ]


def _minutes(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(minutes=value)


def _load(version: str | None) -> Catalogue:
    listed = {
        row.key: FeatureFacts(row.key, row.label_de, row.label_en, row.active, row.position)
        for row in db.session.execute(
            select(
                Feature.key, Feature.label_de, Feature.label_en, Feature.active, Feature.position
            ).order_by(Feature.position, Feature.key)
        )
    }
    features: dict[int, set[str]] = {}
    for room_id, feature in db.session.execute(select(RoomFeature.room_id, RoomFeature.feature)):
        features.setdefault(room_id, set()).add(feature)
    windows: dict[tuple[int, int | None], list[domain.WeeklyWindow]] = {}
    for site_id, room_id, weekday, opens, closes in db.session.execute(
        select(
            OpeningWindow.site_id,
            OpeningWindow.room_id,
            OpeningWindow.weekday,
            OpeningWindow.opens,
            OpeningWindow.closes,
        )
    ):
        windows.setdefault((site_id, room_id), []).append(
            domain.WeeklyWindow(weekday, opens, closes)
        )
    hours = {
        owner: domain.OpeningHours(tuple(sorted(found, key=lambda w: (w.weekday, w.opens))))
        for owner, found in windows.items()
    }
    since = datetime.now(UTC).date() - timedelta(days=1)
    exceptions: dict[tuple[int, int | None], list[domain.DatedHours]] = {}
    for site_id, room_id, day, opens, closes in db.session.execute(
        select(
            OpeningException.site_id,
            OpeningException.room_id,
            OpeningException.day,
            OpeningException.opens,
            OpeningException.closes,
        )
        .where(OpeningException.day >= since)
        .order_by(OpeningException.day)
    ):
        exceptions.setdefault((site_id, room_id), []).append(domain.DatedHours(day, opens, closes))
    rows = db.session.execute(
        select(
            Room.id,
            Room.site_id,
            Room.parent_id,
            Room.capacity,
            Room.buffer_before_minutes,
            Room.buffer_after_minutes,
            Room.min_lead_minutes,
            Room.max_advance_days,
            Room.min_duration_minutes,
            Room.max_duration_minutes,
            Room.step_free,
            Room.active,
            Site.active.label("site_active"),
            Site.district,
            Site.timezone,
        )
        .join(Room.site)
        .order_by(Room.id)
    ).all()
    tree = RoomTree(
        {row.id: row.parent_id for row in rows},
        hours,
        {owner: tuple(found) for owner, found in exceptions.items()},
    )
    rooms = {}
    for row in rows:
        rules = domain.RoomRules(
            capacity=row.capacity,
            min_lead=timedelta(minutes=row.min_lead_minutes),
            max_advance=None
            if row.max_advance_days is None
            else timedelta(days=row.max_advance_days),
            min_duration=_minutes(row.min_duration_minutes),
            max_duration=_minutes(row.max_duration_minutes),
            buffer_before=timedelta(minutes=row.buffer_before_minutes),
            buffer_after=timedelta(minutes=row.buffer_after_minutes),
            opening=tree.opening_hours(row.id, row.site_id),
        )
        rooms[row.id] = RoomFacts(
            id=row.id,
            site_id=row.site_id,
            parent_id=row.parent_id,
            capacity=row.capacity,
            buffer_before_minutes=row.buffer_before_minutes,
            buffer_after_minutes=row.buffer_after_minutes,
            step_free=row.step_free,
            active=row.active and row.site_active,
            district=row.district,
            timezone=row.timezone,
            features=frozenset(features.get(row.id, ())),
            rules=rules,
        )
    closures: dict[int, list[tuple[int | None, domain.Closure]]] = {}
    for site_id, room_id, start, end, reason in db.session.execute(
        select(
            Closure.site_id, Closure.room_id, Closure.starts_at, Closure.ends_at, Closure.reason
        ).order_by(Closure.starts_at, Closure.id)
    ):
        closures.setdefault(site_id, []).append(
            (room_id, domain.Closure(domain.Slot(start, end), reason))
        )
    managers: dict[int, set[int]] = {}
    for user_id, site_id in db.session.execute(
        select(site_manager.c.user_id, site_manager.c.site_id)
    ):
        managers.setdefault(site_id, set()).add(user_id)
    return Catalogue(
        version=version,
        rooms=rooms,
        tree=tree,
        features=listed,
        closures={site_id: tuple(found) for site_id, found in closures.items()},
        managers={site_id: frozenset(ids) for site_id, ids in managers.items()},
    )


def current() -> Catalogue:
    """The catalogue as the current transaction sees it: one small query when unchanged, and
    none when this session asked already and has written nothing since (``_forget``)."""
    known = db.session.info.get(_SESSION_KEY)
    if known is not None:
        return known
    version = db.session.scalar(select(CatalogueVersion.version).where(CatalogueVersion.id == 1))
    key = db.engine.url.render_as_string(hide_password=False)
    snapshot = _snapshots.get(key)
    if version is None or snapshot is None or snapshot.version != version:
        snapshot = _load(version)
        if version is not None:
            _snapshots[key] = snapshot
    if version is not None:
        db.session.info[_SESSION_KEY] = snapshot
    return snapshot


# A session remembers the snapshot it was given until it writes, commits or rolls back (a
# savepoint included): a request asks for the version once, however many services read the
# catalogue (the conflict check, the manager check), and still sees its own changes.
_SESSION_KEY = "booking.catalogue"


def _forget(session: Session, *_args) -> None:
    session.info.pop(_SESSION_KEY, None)


for _name in ("after_flush", "after_commit", "after_rollback", "after_soft_rollback"):
    event.listen(Session, _name, _forget)


@event.listens_for(Session, "do_orm_execute")
def _forget_on_write(state) -> None:
    """A statement that is not a SELECT (an ``insert()``, ``update()``, raw SQL) may change
    the catalogue's tables without a flush."""
    if not state.is_select:
        _forget(state.session)
