"""Requested dates as a requester sees them: local times and every reason one cannot be booked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from booking.domain.rules import Problem, RoomRules
from booking.domain.slots import Slot, to_local

__all__ = ["DatePlan", "plan_dates", "within_time_rules"]


@dataclass(frozen=True)
class DatePlan:
    """One requested date with every reason it cannot be booked (none: bookable)."""

    slot: Slot
    local_start: datetime  # naive wall time in the site's zone
    local_end: datetime
    problems: tuple[Problem, ...] = ()

    @property
    def bookable(self) -> bool:
        return not self.problems

    @property
    def reasons(self) -> list[str]:
        return [p.reason.value for p in self.problems]


def plan_dates(
    slots: Sequence[Slot], problems: Sequence[Sequence[Problem]], zone: ZoneInfo
) -> list[DatePlan]:
    """Pair each slot with its problems (as ``rules.check`` returns them), in local time."""
    return [
        DatePlan(
            slot=slot,
            local_start=to_local(slot.starts_at, zone).replace(tzinfo=None),
            local_end=to_local(slot.ends_at, zone).replace(tzinfo=None),
            problems=tuple(found),
        )
        for slot, found in zip(slots, problems, strict=True)
    ]


def within_time_rules(slots: Sequence[Slot], rules: RoomRules, now: datetime) -> bool:
    """Whether every slot keeps the room's notice, advance and duration limits at ``now``.

    The same limits ``rules.check`` reports as IN_PAST, TOO_SHORT_NOTICE, TOO_FAR_AHEAD,
    TOO_SHORT and TOO_LONG, answered without building messages (a search asks it per room).
    """
    earliest = max(now, now + rules.min_lead)
    latest = None if rules.max_advance is None else now + rules.max_advance
    for slot in slots:
        if slot.starts_at < earliest:
            return False
        if latest is not None and slot.starts_at > latest:
            return False
        if rules.min_duration is not None and slot.duration < rules.min_duration:
            return False
        if rules.max_duration is not None and slot.duration > rules.max_duration:
            return False
    return True
