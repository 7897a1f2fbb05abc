"""Divisible rooms as plain data: which parts a booking occupies and whose hours apply.

A triple gym is one room with three bookable thirds: booking the whole occupies all three
parts, booking a third occupies that part, so the whole and its parts block each other through
the parts they share. Opening hours belong to a site, or to a room that overrides them for
itself and its parts.

Dated exceptions (Christmas Eve 09:00-12:00, closed on an election Sunday) are chosen per date
and separately from the weekly windows: on a date, the nearest owner with an exception for that
date decides (the room, then its wholes, then the site). So a room with weekly hours of its own
still follows the site's exception (the building closes early on Christmas Eve, the gym too),
unless the room has an exception of its own for that date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from booking.domain.rules import ALWAYS_OPEN_WEEK, DatedHours, OpeningHours

__all__ = ["RoomTree"]


@dataclass
class RoomTree:
    """Rooms as a forest: parts hang below their whole.

    Loaded with the catalogue it covers every site and carries their opening hours (``hours``:
    weekly windows, ``exceptions``: dated exceptions, both by site and owner: a room, or None
    for the site itself).
    """

    parents: dict[int, int | None]
    hours: dict[tuple[int, int | None], OpeningHours] | None = None
    exceptions: dict[tuple[int, int | None], tuple[DatedHours, ...]] | None = None
    # The combined hours, one object per ``hours_key``: rooms that share hours share it.
    _combined: dict[tuple, OpeningHours] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

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
        """Whose weekly windows apply, as a key of ``hours``: the room's own, else its whole's,
        else the site's; None when nobody has any (always open, but for dated exceptions)."""
        for owner in self.window_owners(room_id):
            if (site_id, owner) in (self.hours or {}):
                return (site_id, owner)
        return None

    def hours_key(self, room_id: int, site_id: int) -> tuple | None:
        """What decides the room's hours: the owner of its weekly windows (a key of ``hours``,
        or None) and the owners whose dated exceptions count, nearest first. Rooms with equal
        keys have equal hours; None means always open."""
        weekly = self.hours_owner(room_id, site_id)
        found = self.exceptions or {}
        dated = tuple(o for o in self.window_owners(room_id) if (site_id, o) in found)
        if weekly is None and not dated:
            return None
        return (site_id, weekly, dated)

    def opening_hours(self, room_id: int, site_id: int) -> OpeningHours | None:
        """The room's own weekly hours, else its whole's, else the site's, with the dated
        exceptions of the room, its wholes and the site (the nearest for each date);
        None means always open."""
        key = self.hours_key(room_id, site_id)
        if key is None:
            return None
        combined = self._combined.get(key)
        if combined is None:
            _site, weekly, dated = key
            weekly_hours = None if weekly is None else (self.hours or {})[weekly]
            if not dated and weekly_hours is not None:
                combined = weekly_hours
            else:
                by_day: dict = {}
                for owner in reversed(dated):  # the site first, the room last: nearest wins
                    for exception in (self.exceptions or {})[(site_id, owner)]:
                        by_day[exception.day] = exception
                combined = OpeningHours(
                    ALWAYS_OPEN_WEEK if weekly_hours is None else weekly_hours.windows,
                    tuple(by_day[day] for day in sorted(by_day)),
                )
            self._combined[key] = combined
        return combined
