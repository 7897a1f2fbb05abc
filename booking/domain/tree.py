"""Divisible rooms as plain data: which parts a booking occupies and whose hours apply.

A triple gym is one room with three bookable thirds: booking the whole occupies all three
parts, booking a third occupies that part, so the whole and its parts block each other through
the parts they share. Opening hours belong to a site, or to a room that overrides them for
itself and its parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from booking.domain.rules import OpeningHours

__all__ = ["RoomTree"]


@dataclass
class RoomTree:
    """Rooms as a forest: parts hang below their whole.

    Loaded with the catalogue it covers every site and carries their opening hours (``hours``,
    by site and owner: a room, or None for the site itself).
    """

    parents: dict[int, int | None]
    hours: dict[tuple[int, int | None], OpeningHours] | None = None

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

    def opening_hours(self, room_id: int, site_id: int) -> OpeningHours | None:
        """The room's own hours, else its whole's, else the site's; None means always open."""
        key = self.hours_owner(room_id, site_id)
        return None if key is None else self.hours[key]
