"""Where a booking could still go: the free parts of a time window, for one room or several.

Defined so that it agrees exactly with ``rules.check``: a booking is free of TAKEN, CLOSED and
OUTSIDE_OPENING_HOURS problems iff it lies inside one interval returned by ``free_intervals``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar
from zoneinfo import ZoneInfo

from booking.domain.rules import Busy, Closure, RoomRules, _overlapping
from booking.domain.slots import Slot, subtract

__all__ = ["RoomAvailability", "all_free", "free_intervals", "free_rooms", "is_free"]

K = TypeVar("K")


@dataclass(frozen=True)
class RoomAvailability:
    rules: RoomRules
    busy: Sequence[Busy] = ()
    closures: Sequence[Closure] = ()


def free_intervals(
    window: Slot,
    *,
    tz: ZoneInfo,
    rules: RoomRules,
    busy: Sequence[Busy] = (),
    closures: Sequence[Closure] = (),
) -> list[Slot]:
    """The maximal sub-intervals of ``window`` in which a booking could lie.

    A new booking padded by this room's buffers must not overlap a busy range, which is the
    same as the bare booking not overlapping the busy range widened the other way round:
    ``[busy.start - buffer_after, busy.end + buffer_before)``.
    """
    base = [window] if rules.opening is None else rules.opening.open_intervals(window, tz)
    blocked = [c.slot for c in closures]
    blocked.extend(
        Slot(b.slot.starts_at - rules.buffer_after, b.slot.ends_at + rules.buffer_before)
        for b in busy
    )
    return subtract(base, blocked)


def is_free(
    slot: Slot,
    *,
    tz: ZoneInfo,
    rules: RoomRules,
    busy: Sequence[Busy] = (),
    closures: Sequence[Closure] = (),
) -> bool:
    """Whether ``slot`` could be booked as far as other bookings, closures and opening hours
    go (time rules such as notice and capacity are ``check``'s business)."""
    return free_intervals(slot, tz=tz, rules=rules, busy=busy, closures=closures) == [slot]


def all_free(
    slots: Sequence[Slot],
    *,
    tz: ZoneInfo,
    rules: RoomRules,
    busy: Sequence[Busy] = (),
    closures: Sequence[Closure] = (),
) -> bool:
    """``all(is_free(slot, ...) for slot in slots)``, in one sweep instead of one pass over
    every busy range per slot (a term's worth of weekly dates against a busy room)."""
    if rules.opening is not None and not all(rules.opening.covers(s, tz) for s in slots):
        return False
    blocked = [c.slot for c in closures]
    blocked.extend(
        Slot(b.slot.starts_at - rules.buffer_after, b.slot.ends_at + rules.buffer_before)
        for b in busy
    )
    if not blocked:
        return True
    return not any(_overlapping(slots, blocked))


def free_rooms(slot: Slot, rooms: Mapping[K, RoomAvailability], *, tz: ZoneInfo) -> list[K]:
    """The keys of the rooms free for the whole of ``slot``, in the mapping's order."""
    return [
        key
        for key, room in rooms.items()
        if is_free(slot, tz=tz, rules=room.rules, busy=room.busy, closures=room.closures)
    ]
