"""The room catalogue (sites, rooms and their parts, features, opening hours), cached per process.

It changes a few times a year, when a caretaker edits a room or an import adds opening hours,
but nearly every request reads it: a search filters all rooms by capacity, features and
district and needs every candidate site's room tree and opening hours. Each process keeps one
snapshot per database and asks one row, ``catalogue_version``, whether it is still current.
Database triggers (migration 0006) give that row a new random value on every insert, update or
delete of sites, rooms, room features and opening windows, whoever writes them (the ORM, a bulk
import, a database console), so a snapshot is never used after a change, and a version seen
inside a transaction that was rolled back never comes back.

The version is read before the data: a change committed in between only makes the next request
load again. Closures and bookings are not part of the catalogue; they are read per request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import select

from booking import domain
from booking.extensions import db
from booking.models import CatalogueVersion, Feature, OpeningWindow, Room, RoomFeature, Site

# One snapshot per database URL (tests and the benchmark use several databases in one process).
_snapshots: dict[str, Catalogue] = {}


@dataclass
class RoomTree:
    """Rooms as a forest: parts hang below their whole.

    Loaded with the catalogue it covers every site and carries their opening hours (``hours``,
    by site and owner: a room, or None for the site itself).
    """

    parents: dict[int, int | None]
    hours: dict[tuple[int, int | None], domain.OpeningHours] | None = None

    @cached_property
    def children(self) -> dict[int, list[int]]:
        children: dict[int, list[int]] = {}
        for room_id, parent_id in self.parents.items():
            if parent_id is not None:
                children.setdefault(parent_id, []).append(room_id)
        return children

    def descendants(self, room_id: int) -> list[int]:
        found, stack = [], list(self.children.get(room_id, ()))
        while stack:
            current = stack.pop()
            found.append(current)
            stack.extend(self.children.get(current, ()))
        return found

    def ancestors(self, room_id: int) -> list[int]:
        found, current = [], self.parents.get(room_id)
        while current is not None:
            found.append(current)
            current = self.parents.get(current)
        return found

    def units(self, room_id: int) -> list[int]:
        """The smallest parts a booking of this room occupies (the room itself if undivided)."""
        leaves = [r for r in self.descendants(room_id) if r not in self.children]
        return sorted(leaves) or [room_id]

    def window_owners(self, room_id: int) -> tuple[int | None, ...]:
        """Whose opening windows apply, nearest first: the room, its wholes, then the site (None).

        The first owner that has any windows decides; nobody having any means always open.
        """
        return (room_id, *self.ancestors(room_id), None)

    def related(self, room_id: int) -> list[int]:
        """The room, its wholes and its parts: a closure of any of them closes this room."""
        return [room_id, *self.ancestors(room_id), *self.descendants(room_id)]

    def hours_owner(self, room_id: int, site_id: int) -> tuple[int, int | None] | None:
        """Whose hours apply, as a key of ``hours``: the room's own, else its whole's, else the
        site's; None when nobody has any (always open)."""
        for owner in self.window_owners(room_id):
            if (site_id, owner) in (self.hours or {}):
                return (site_id, owner)
        return None

    def opening_hours(self, room_id: int, site_id: int) -> domain.OpeningHours | None:
        """The room's own hours, else its whole's, else the site's; None means always open."""
        key = self.hours_owner(room_id, site_id)
        return None if key is None else self.hours[key]


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
    features: frozenset[Feature]


@dataclass(frozen=True)
class Catalogue:
    version: str | None
    rooms: dict[int, RoomFacts]  # by id, in id order
    tree: RoomTree

    def matching(
        self,
        *,
        min_capacity: int | None = None,
        district: str | None = None,
        site_id: int | None = None,
        step_free: bool = False,
        features: Iterable[Feature] = (),
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


def _load(version: str | None) -> Catalogue:
    features: dict[int, set[Feature]] = {}
    for room_id, feature in db.session.execute(select(RoomFeature.room_id, RoomFeature.feature)):
        features.setdefault(room_id, set()).add(feature)
    rooms = {}
    for row in db.session.execute(
        select(
            Room.id,
            Room.site_id,
            Room.parent_id,
            Room.capacity,
            Room.buffer_before_minutes,
            Room.buffer_after_minutes,
            Room.step_free,
            Room.active,
            Site.active.label("site_active"),
            Site.district,
            Site.timezone,
        )
        .join(Room.site)
        .order_by(Room.id)
    ):
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
        )
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
    tree = RoomTree({room.id: room.parent_id for room in rooms.values()}, hours)
    return Catalogue(version=version, rooms=rooms, tree=tree)


def current() -> Catalogue:
    """The catalogue as the current transaction sees it: one small query when unchanged."""
    version = db.session.scalar(select(CatalogueVersion.version).where(CatalogueVersion.id == 1))
    key = db.engine.url.render_as_string(hide_password=False)
    snapshot = _snapshots.get(key)
    if version is None or snapshot is None or snapshot.version != version:
        snapshot = _load(version)
        if version is not None:
            _snapshots[key] = snapshot
    return snapshot
