"""Nearest alternatives when a room search finds nothing that fits exactly.

Built on ``booking.services.search``: the same rooms at other free times around the requested
one, and similar rooms (relaxed filters) at the requested time.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking import domain
from booking.models import Room
from booking.services import room_context, search
from booking.services.search import RoomMatch, RoomQuery

ROOMS_TO_TRY = 8


@dataclass(frozen=True)
class OtherTime:
    """A free time of a room that fits the search except for the time asked for."""

    room: Room
    local_start: datetime  # naive wall time in the site's zone
    local_end: datetime


@dataclass(frozen=True)
class SimilarRoom:
    """A room free at the requested time that differs from what was asked in ``differences``.

    ``differences`` holds "district", "features" and/or "step_free".
    """

    match: RoomMatch
    differences: tuple[str, ...]
    missing_features: tuple[str, ...] = ()


def _local(value: datetime, zone: ZoneInfo) -> datetime:
    return domain.to_local(value, zone).replace(tzinfo=None)


def _best_start(free: domain.Slot, wanted: datetime, length: timedelta) -> datetime | None:
    """The start inside ``free`` closest to ``wanted`` that leaves room for ``length``."""
    if free.duration < length:
        return None
    latest = free.ends_at - length
    return min(max(wanted, free.starts_at), latest)


def other_times(
    query: RoomQuery,
    *,
    zone: ZoneInfo,
    now: datetime | None = None,
    limit: int = 6,
    rooms: list[Room] | None = None,
) -> list[OtherTime]:
    """Free times of the fitting rooms on the requested day and the days around it (a week),
    closest to the requested time first; at most one suggestion per room and day. Only times
    the booking form would accept: within each room's notice, advance and duration limits."""
    if query.start is None or query.end is None:
        return []
    now = now or datetime.now(UTC)
    length = query.end - query.start
    ranked = rooms if rooms is not None else _rooms_by_fit(query, zone)
    found: list[tuple[timedelta, OtherTime]] = []
    first_day = query.start.date() - timedelta(days=3)
    for room in ranked[:ROOMS_TO_TRY]:
        zone = ZoneInfo(room.site.timezone)
        rules = room_context.facts(room.id).rules
        if (rules.min_duration is not None and length < rules.min_duration) or (
            rules.max_duration is not None and length > rules.max_duration
        ):
            continue
        earliest = max(now, now + rules.min_lead)
        end = domain.from_local(datetime.combine(first_day + timedelta(days=7), time(0)), zone)
        if rules.max_advance is not None:
            end = min(end, now + rules.max_advance + length)
        window = domain.Slot(
            max(domain.from_local(datetime.combine(first_day, time(0)), zone), earliest), end
        )
        if window.ends_at <= window.starts_at:
            continue
        availability = search.room_availability(room, window)
        best_per_day: dict[date, tuple[timedelta, OtherTime]] = {}
        for free in availability.free:
            local_free_start = _local(free.starts_at, zone)
            wanted_local = datetime.combine(local_free_start.date(), query.start.time())
            wanted = domain.from_local(wanted_local, zone)
            start = _best_start(free, wanted, length)
            if start is None:
                continue
            local_start = _local(start, zone)
            requested = domain.from_local(query.start, zone)
            if start == requested:
                continue  # that is the time that did not fit
            distance = abs(start - requested)
            suggestion = OtherTime(room, local_start, local_start + length)
            day = local_start.date()
            if day not in best_per_day or distance < best_per_day[day][0]:
                best_per_day[day] = (distance, suggestion)
        found.extend(best_per_day.values())
    found.sort(key=lambda pair: (pair[0], pair[1].room.id))
    return [suggestion for _distance, suggestion in found[:limit]]


def _rooms_by_fit(query: RoomQuery, zone: ZoneInfo) -> list[Room]:
    """Rooms matching the filters regardless of time, best fit first."""
    static = dataclasses.replace(query, start=None, end=None, weekly_until=None)
    return [m.room for m in search.search_rooms(static, zone=zone)]


def similar_rooms(
    query: RoomQuery, *, zone: ZoneInfo, now: datetime | None = None, limit: int = 6
) -> list[SimilarRoom]:
    """Rooms free at the requested time with relaxed filters: first the same district without
    the equipment and step-free wishes, then other districts with them."""
    if query.start is None or query.end is None:
        return []
    relaxed = []
    if query.features or query.step_free:
        relaxed.append(dataclasses.replace(query, features=(), step_free=False))
    if query.district:
        relaxed.append(dataclasses.replace(query, district=None))
    wanted = {str(f) for f in query.features}
    seen: set[int] = set()
    result: list[SimilarRoom] = []
    for attempt in relaxed:
        for match in search.search_rooms(attempt, zone=zone, now=now):
            room = match.room
            if room.id in seen:
                continue
            seen.add(room.id)
            missing = tuple(sorted(wanted - {str(f) for f in room.features}))
            differences = []
            if query.district and room.site.district != query.district:
                differences.append("district")
            if missing:
                differences.append("features")
            if query.step_free and not room.step_free:
                differences.append("step_free")
            if not differences:
                continue  # it would have been found by the search itself
            result.append(SimilarRoom(match, tuple(differences), missing))
    return result[:limit]
