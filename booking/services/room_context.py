"""What the scheduling core needs to decide about rooms, loaded once per request.

One loader for every service that asks "can these dates go into this room?": requesting,
approving, moving, the manager's view of open requests, and search. For one room or a set of
rooms and the dates in question it gives the room's zone, its rules (notice and advance limits,
durations, capacity, buffers, opening hours: from the catalogue, the same for everyone), the
smallest parts a booking occupies, the closures and the approved bookings in the way. Closures
come from the catalogue too; the bookings of all the rooms in one statement, whatever the number
of rooms.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from zoneinfo import ZoneInfo

from sqlalchemy.orm import joinedload

from booking import domain
from booking.extensions import db
from booking.models import Room
from booking.services import catalogue, occupancy
from booking.services.catalogue import RoomFacts
from booking.services.errors import N_, NotFound


def active_room(room_id: int) -> Room:
    """The room with its site, if both are active; else NotFound (for every surface)."""
    room = db.session.get(Room, room_id, options=[joinedload(Room.site)])
    if room is None or not room.active or not room.site.active:
        raise NotFound(N_("There is no such room."))
    return room


class _Window:
    """Closures and approved occupancy around a set of slots, shared by the rooms asked about."""

    def __init__(
        self,
        found: catalogue.Catalogue,
        facts: Sequence[RoomFacts],
        slots: Sequence[domain.Slot],
        exclude_occurrences: Iterable[int],
    ) -> None:
        self.closures: dict[int, list[tuple[int | None, domain.Closure]]] = {}
        self._facts, self._tree, self._slots = facts, found.tree, slots
        self._exclude = exclude_occurrences
        if not slots or not facts:
            return
        window = domain.Slot(min(s.starts_at for s in slots), max(s.ends_at for s in slots))
        self.closures.update(
            found.closures_between(
                sorted({f.site_id for f in facts}), window.starts_at, window.ends_at
            )
        )

    @cached_property
    def busy(self) -> dict[int, list[domain.Busy]]:
        """Approved occupancy by unit, read on first use (a calendar that reads its own busy
        times with booking details never needs it): one probe for all the rooms, each slot
        widened by the largest buffers of any of them."""
        found: dict[int, list[domain.Busy]] = defaultdict(list)
        if not self._slots or not self._facts:
            return found
        before = max(f.rules.buffer_before for f in self._facts)
        after = max(f.rules.buffer_after for f in self._facts)
        units = sorted({u for f in self._facts for u in self._tree.units(f.id)})
        padded = [s.padded(before, after) for s in self._slots]
        seen = set()
        for row in occupancy.occupied(units, padded, exclude_occurrences=self._exclude):
            key = (row.unit_id, row.occurrence_id)
            if key not in seen:
                seen.add(key)
                found[row.unit_id].append(
                    domain.Busy(domain.Slot(row.starts_at, row.ends_at), ref=row.occurrence_id)
                )
        return found


@dataclass(frozen=True)
class RoomContext:
    """One room as the scheduling core sees it, for the slots it was loaded for."""

    facts: RoomFacts
    tree: domain.RoomTree
    _window: _Window

    @property
    def room_id(self) -> int:
        return self.facts.id

    @property
    def zone(self) -> ZoneInfo:
        return self.facts.zone

    @property
    def rules(self) -> domain.RoomRules:
        return self.facts.rules

    @cached_property
    def units(self) -> list[int]:
        """The smallest parts a booking of this room occupies."""
        return self.tree.units(self.facts.id)

    @cached_property
    def closures(self) -> list[domain.Closure]:
        """Closures of the site, of this room, of its wholes and of its parts."""
        entries = self._window.closures.get(self.facts.site_id)
        if not entries:
            return []
        related = set(self.tree.related(self.facts.id))
        return [c for owner, c in entries if owner is None or owner in related]

    @cached_property
    def busy(self) -> list[domain.Busy]:
        """Approved bookings (buffers included) on the parts this room occupies, each once."""
        unique = {
            (b.slot, b.ref): b for unit in self.units for b in self._window.busy.get(unit, ())
        }
        return sorted(unique.values(), key=lambda b: b.slot)

    def check(
        self,
        slots: Sequence[domain.Slot],
        *,
        now: datetime,
        attendees: int | None = None,
        check_time_rules: bool = True,
    ) -> list[domain.DatePlan]:
        """Every problem of every slot: bookings, closures and the room's rules."""
        problems = domain.check(
            slots,
            rules=self.rules,
            tz=self.zone,
            now=now,
            busy=self.busy,
            closures=self.closures,
            attendees=attendees,
            check_time_rules=check_time_rules,
        )
        return domain.plan_dates(slots, problems, self.zone)


def load_contexts(
    room_ids: Iterable[int],
    slots: Sequence[domain.Slot],
    *,
    exclude_occurrences: Iterable[int] = (),
    found: catalogue.Catalogue | None = None,
) -> dict[int, RoomContext]:
    """Contexts for rooms of the catalogue (unknown ids are left out), for ``slots``.

    ``found``: the catalogue the caller already holds (one version check per request)."""
    found = found or catalogue.current()
    facts = [found.rooms[i] for i in dict.fromkeys(room_ids) if i in found.rooms]
    window = _Window(found, facts, slots, exclude_occurrences)
    return {f.id: RoomContext(f, found.tree, window) for f in facts}


def load_context(
    room_id: int, slots: Sequence[domain.Slot], *, exclude_occurrences: Iterable[int] = ()
) -> RoomContext:
    contexts = load_contexts([room_id], slots, exclude_occurrences=exclude_occurrences)
    if room_id not in contexts:
        raise NotFound(N_("There is no such room."))
    return contexts[room_id]


def facts(room_id: int) -> RoomFacts:
    """The catalogue's facts of a room (zone and rules without loading bookings)."""
    found = catalogue.current().rooms.get(room_id)
    if found is None:
        raise NotFound(N_("There is no such room."))
    return found
