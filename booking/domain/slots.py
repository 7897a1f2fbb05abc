"""Half-open time intervals and the conversion between local wall time and UTC.

Everything stored is UTC; local wall time only exists at the edges (what a person typed, what a
calendar shows). The two functions at the bottom are the only places where that translation
happens, so the DST policy lives in one spot.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["Slot", "from_local", "merge", "subtract", "to_local"]


def _is_aware(dt: datetime) -> bool:
    return dt.tzinfo is not None and dt.utcoffset() is not None


@dataclass(frozen=True, order=True)
class Slot:
    """A half-open interval ``[starts_at, ends_at)`` between two aware datetimes.

    Half-open so that back-to-back bookings (10:00-12:00 and 12:00-14:00) do not collide.
    """

    starts_at: datetime
    ends_at: datetime

    def __post_init__(self) -> None:
        # Comparing naive with aware datetimes raises deep inside unrelated code; fail here.
        if not (_is_aware(self.starts_at) and _is_aware(self.ends_at)):
            raise ValueError("Slot needs timezone-aware datetimes")
        if self.ends_at <= self.starts_at:
            raise ValueError(f"Slot must end after it starts ({self.starts_at} >= {self.ends_at})")

    def overlaps(self, other: Slot) -> bool:
        return self.starts_at < other.ends_at and other.starts_at < self.ends_at

    def contains(self, other: Slot) -> bool:
        return self.starts_at <= other.starts_at and other.ends_at <= self.ends_at

    @property
    def duration(self) -> timedelta:
        return self.ends_at - self.starts_at

    def padded(self, before: timedelta, after: timedelta) -> Slot:
        """The slot widened by set-up time before and clean-up time after."""
        return Slot(self.starts_at - before, self.ends_at + after)


def merge(slots: Iterable[Slot]) -> list[Slot]:
    """The union of ``slots`` as sorted, disjoint slots; touching slots become one."""
    result: list[Slot] = []
    for slot in sorted(slots):
        if result and slot.starts_at <= result[-1].ends_at:
            last = result[-1]
            if slot.ends_at > last.ends_at:
                result[-1] = Slot(last.starts_at, slot.ends_at)
        else:
            result.append(slot)
    return result


def subtract(base: Sequence[Slot], minus: Iterable[Slot]) -> list[Slot]:
    """``union(base) - union(minus)`` as sorted, disjoint slots.

    ``base`` is merged first, so overlapping base slots come back as one piece. Both sides are
    walked once after sorting, so this is O((n + m) log(n + m)).
    """
    holes = merge(minus)
    result: list[Slot] = []
    j = 0
    for piece in merge(base):
        cursor = piece.starts_at
        # Holes ending at or before this piece cannot touch it or any later piece.
        while j < len(holes) and holes[j].ends_at <= cursor:
            j += 1
        k = j
        while k < len(holes) and holes[k].starts_at < piece.ends_at:
            hole = holes[k]
            if hole.starts_at > cursor:
                result.append(Slot(cursor, hole.starts_at))
            cursor = max(cursor, hole.ends_at)
            k += 1
        if cursor < piece.ends_at:
            result.append(Slot(cursor, piece.ends_at))
    return result


def to_local(dt: datetime, tz: ZoneInfo) -> datetime:
    """The aware datetime ``dt`` as an aware datetime in ``tz``."""
    if not _is_aware(dt):
        raise ValueError("to_local needs an aware datetime")
    return dt.astimezone(tz)


def from_local(naive: datetime, tz: ZoneInfo) -> datetime:
    """Read a naive local wall time in ``tz`` and return the instant as an aware UTC datetime.

    DST policy, as RFC 5545 section 3.3.5 prescribes and calendar clients do:

    * an ambiguous wall time (the repeated hour in autumn, e.g. 02:30 on 25 Oct 2026 in
      Europe/Berlin) means its FIRST occurrence, still in summer time (02:30 CEST = 00:30 UTC);
    * a wall time that does not exist (the skipped hour in spring, e.g. 02:30 on 29 Mar 2026)
      is read with the UTC offset in force BEFORE the gap (02:30 +01:00 = 01:30 UTC, which
      the wall clock shows as 03:30 CEST).

    PEP 495's ``fold=0`` gives exactly this, so we rely on it rather than on own arithmetic.
    """
    if naive.tzinfo is not None:
        raise ValueError("from_local needs a naive local datetime")
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
