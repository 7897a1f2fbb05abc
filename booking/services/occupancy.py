"""Occupancy: the rows that make a room taken, and the database's last word on overlaps.

Approved dates write one ``occupancy`` row per smallest room part they use, widened by the
room's set-up and cleaning buffers. Reading them (``occupied``, ``busy``) is one statement of
constant shape per request; writing them happens inside ``guarded``: on PostgreSQL a row
committed meanwhile by another request breaks the exclusion constraint, and that refusal
becomes the same ``Conflict`` the Python check gives, with everything the service wrote
undone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Integer, and_, column, delete, func, insert, text
from sqlalchemy.exc import IntegrityError

from booking import domain
from booking.database import is_sqlite
from booking.extensions import db
from booking.models import Occupancy, Occurrence
from booking.models.places import MAX_BUFFER_MINUTES
from booking.models.types import UTCDateTime
from booking.services.errors import Conflict

# A single date may last at most this long, and a room's buffers at most a day each.
LONGEST_DATE = timedelta(days=14)
LONGEST_OCCUPANCY = LONGEST_DATE + timedelta(minutes=2 * MAX_BUFFER_MINUTES)


def overlap(start, end):
    """Occupancy rows overlapping [start, end), in the form each database's index serves.

    PostgreSQL: the range expression of the exclusion constraint's GiST index. SQLite: no row is
    longer than the longest date plus both buffers (services and the Room model enforce that), so
    a lower bound on ``starts_at`` lets the (unit, start) index skip everything earlier instead of
    reading a room's whole history.
    """
    if is_sqlite():
        return and_(
            Occupancy.starts_at < end,
            Occupancy.starts_at > start - LONGEST_OCCUPANCY,
            Occupancy.ends_at > start,
        )
    return func.tstzrange(Occupancy.starts_at, Occupancy.ends_at, "[)").op("&&")(
        func.tstzrange(start, end, "[)")
    )


# Which occupancy rows overlap any of a list of intervals, for a list of units, as one statement
# whose text does not depend on how many units and intervals there are: the lists travel as one
# array (PostgreSQL) or JSON (SQLite) parameter each. So the statement is compiled once and
# prepared by the server. Building the same question as an OR of one range condition per
# interval cost more in SQLAlchemy's expression building and PostgreSQL's planner than the
# lookups themselves.
# PostgreSQL: the intervals become one multirange, which the exclusion constraint's GiST index
# (unit_id, tstzrange) answers in one index scan per unit.
_PROBE_POSTGRESQL = text(
    """
    SELECT o.id, o.occurrence_id, o.unit_id, o.starts_at, o.ends_at
    FROM unnest(CAST(:units AS integer[])) AS u(id)
    JOIN occupancy AS o
      ON o.unit_id = u.id
     AND tstzrange(o.starts_at, o.ends_at, '[)') && (
        SELECT range_agg(tstzrange(c.s, c.e, '[)'))
        FROM unnest(CAST(:starts AS timestamptz[]), CAST(:ends AS timestamptz[])) AS c(s, e)
     )
    WHERE NOT (o.occurrence_id = ANY(CAST(:excluded AS integer[])))
    """
)
# SQLite: one lookup of the (unit_id, starts_at) index per unit and interval, bounded below by the
# longest possible row (see ``overlap``).
_PROBE_SQLITE = text(
    """
    SELECT DISTINCT o.id, o.occurrence_id, o.unit_id, o.starts_at, o.ends_at
    FROM json_each(:units) AS u
    CROSS JOIN json_each(:intervals) AS c
    CROSS JOIN occupancy AS o
    WHERE o.unit_id = u.value
      AND o.starts_at < c.value ->> '$[1]'
      AND o.starts_at > c.value ->> '$[2]'
      AND o.ends_at > c.value ->> '$[0]'
      AND o.occurrence_id NOT IN (SELECT value FROM json_each(:excluded))
    """
)
_PROBE_COLUMNS = (
    column("id", Integer),
    column("occurrence_id", Integer),
    column("unit_id", Integer),
    column("starts_at", UTCDateTime),
    column("ends_at", UTCDateTime),
)
_PROBE_POSTGRESQL = _PROBE_POSTGRESQL.columns(*_PROBE_COLUMNS)
_PROBE_SQLITE = _PROBE_SQLITE.columns(*_PROBE_COLUMNS)


def _sqlite_time(value: datetime) -> str:
    """A UTC instant in the text form SQLAlchemy stores in SQLite (so text comparison works)."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def occupied(
    units: Iterable[int],
    intervals: Iterable[domain.Slot],
    *,
    exclude_occurrences: Iterable[int] = (),
):
    """Occupancy rows (id, occurrence_id, unit_id, starts_at, ends_at) of ``units`` overlapping
    any of ``intervals``, each row once."""
    units = sorted(set(units))
    intervals = list(intervals)
    excluded = sorted(set(exclude_occurrences))
    if not units or not intervals:
        return []
    if is_sqlite():
        params = {
            "units": json.dumps(units),
            "intervals": json.dumps(
                [
                    [
                        _sqlite_time(s.starts_at),
                        _sqlite_time(s.ends_at),
                        _sqlite_time(s.starts_at - LONGEST_OCCUPANCY),
                    ]
                    for s in intervals
                ]
            ),
            "excluded": json.dumps(excluded),
        }
        return db.session.execute(_PROBE_SQLITE, params).all()
    params = {
        "units": units,
        "starts": [s.starts_at for s in intervals],
        "ends": [s.ends_at for s in intervals],
        "excluded": excluded,
    }
    return db.session.execute(_PROBE_POSTGRESQL, params).all()


# Which rooms have anything in the way: the free-room search's question, answered in the database
# so that only room ids come back, not every occupancy row near the searched dates (a weekly
# search over a year meets thousands). Each room is asked about with its own buffers: the
# intervals are padded once per buffer setting (rooms mostly share one or two).
# PostgreSQL: one scan of the period index (migration 0005) per padded interval finds the units
# in use then, whatever the number of rooms asked about (a weekly search of 200 rooms over a
# year: 52 scans of ~90 rows each, where one GiST scan per unit would read each unit's year);
# the units asked about are joined afterwards. MATERIALIZED keeps the planner from turning it
# round into one scan per unit.
_IN_USE_POSTGRESQL = text(
    """
    WITH hits AS MATERIALIZED (
        SELECT DISTINCT o.unit_id, p.setting
        FROM unnest(
            CAST(:starts AS timestamptz[]), CAST(:ends AS timestamptz[]),
            CAST(:settings AS integer[])
        ) AS p(s, e, setting)
        JOIN occupancy AS o
          ON tstzrange(o.starts_at, o.ends_at, '[)') && tstzrange(p.s, p.e, '[)')
    )
    SELECT DISTINCT w.room_id
    FROM unnest(
        CAST(:rooms AS integer[]), CAST(:units AS integer[]), CAST(:wanted AS integer[])
    ) AS w(room_id, unit_id, setting)
    JOIN hits AS h ON h.unit_id = w.unit_id AND h.setting = w.setting
    """
)
# SQLite: the padded intervals of each buffer setting travel as one JSON list per setting (in
# the stored text form); each (room, unit) names its setting and probes the (unit_id, starts_at)
# index per interval, bounded below by the longest possible row (see ``overlap``).
_IN_USE_SQLITE = text(
    """
    SELECT DISTINCT w.value ->> '$[0]'
    FROM json_each(:wanted) AS w
    WHERE EXISTS (
        SELECT 1
        FROM json_each(:spans, '$[' || (w.value ->> '$[2]') || ']') AS c
        JOIN occupancy AS o
          ON o.unit_id = w.value ->> '$[1]'
         AND o.starts_at < c.value ->> '$[1]'
         AND o.starts_at > c.value ->> '$[2]'
         AND o.ends_at > c.value ->> '$[0]'
    )
    """
)


def rooms_in_use(
    rooms: dict[int, tuple[Sequence[int], timedelta, timedelta]],
    intervals: Sequence[domain.Slot],
) -> set[int]:
    """Of ``rooms`` (room id -> its units and its buffers before and after), those with approved
    occupancy overlapping any of ``intervals`` padded by the room's own buffers. One statement,
    whatever the number of rooms and intervals."""
    if not rooms or not intervals:
        return set()
    params = _in_use_params(rooms, intervals)
    if is_sqlite():
        return {int(r) for (r,) in db.session.execute(_IN_USE_SQLITE, params)}
    del params["slots"]
    return set(db.session.scalars(_IN_USE_POSTGRESQL, params))


# Which of the intervals each room has in use: the weekly search's count of free dates per room.
# The same probes as ``_IN_USE_*``, keeping the interval's index (PostgreSQL: an array per room;
# SQLite: one row per room and interval in use).
_DATES_IN_USE_POSTGRESQL = text(
    """
    WITH hits AS MATERIALIZED (
        SELECT DISTINCT o.unit_id, p.setting, p.slot
        FROM unnest(
            CAST(:starts AS timestamptz[]), CAST(:ends AS timestamptz[]),
            CAST(:settings AS integer[]), CAST(:slots AS integer[])
        ) AS p(s, e, setting, slot)
        JOIN occupancy AS o
          ON tstzrange(o.starts_at, o.ends_at, '[)') && tstzrange(p.s, p.e, '[)')
    )
    SELECT w.room_id, array_agg(DISTINCT h.slot)
    FROM unnest(
        CAST(:rooms AS integer[]), CAST(:units AS integer[]), CAST(:wanted AS integer[])
    ) AS w(room_id, unit_id, setting)
    JOIN hits AS h ON h.unit_id = w.unit_id AND h.setting = w.setting
    GROUP BY w.room_id
    """
)
_DATES_IN_USE_SQLITE = text(
    """
    SELECT DISTINCT w.value ->> '$[0]', c.key
    FROM json_each(:wanted) AS w
    JOIN json_each(:spans, '$[' || (w.value ->> '$[2]') || ']') AS c
    WHERE EXISTS (
        SELECT 1 FROM occupancy AS o
        WHERE o.unit_id = w.value ->> '$[1]'
          AND o.starts_at < c.value ->> '$[1]'
          AND o.starts_at > c.value ->> '$[2]'
          AND o.ends_at > c.value ->> '$[0]'
    )
    """
)


def _in_use_params(
    rooms: dict[int, tuple[Sequence[int], timedelta, timedelta]],
    intervals: Sequence[domain.Slot],
) -> dict:
    """The parameters of the ``*_IN_USE_*`` statements: the intervals padded once per buffer
    setting, and each (room, unit) with the index of its room's setting."""
    settings = sorted({(before, after) for _units, before, after in rooms.values()})
    setting_of = {s: i for i, s in enumerate(settings)}
    pairs = [
        (room_id, unit, setting_of[(before, after)])
        for room_id, (units, before, after) in rooms.items()
        for unit in units
    ]
    if is_sqlite():
        spans = [
            [
                [
                    _sqlite_time(s.starts_at - before),
                    _sqlite_time(s.ends_at + after),
                    _sqlite_time(s.starts_at - before - LONGEST_OCCUPANCY),
                ]
                for s in intervals
            ]
            for before, after in settings
        ]
        return {"wanted": json.dumps(pairs), "spans": json.dumps(spans)}
    padded = [
        (s.starts_at - before, s.ends_at + after, index, slot)
        for index, (before, after) in enumerate(settings)
        for slot, s in enumerate(intervals)
    ]
    return {
        "starts": [p[0] for p in padded],
        "ends": [p[1] for p in padded],
        "settings": [p[2] for p in padded],
        "slots": [p[3] for p in padded],
        "rooms": [p[0] for p in pairs],
        "units": [p[1] for p in pairs],
        "wanted": [p[2] for p in pairs],
    }


def dates_in_use(
    rooms: dict[int, tuple[Sequence[int], timedelta, timedelta]],
    intervals: Sequence[domain.Slot],
) -> dict[int, set[int]]:
    """Like ``rooms_in_use``, but which intervals: room id -> the indices (into ``intervals``)
    of those its approved occupancy overlaps, for the rooms with any. One statement."""
    if not rooms or not intervals:
        return {}
    params = _in_use_params(rooms, intervals)
    if is_sqlite():
        found: dict[int, set[int]] = {}
        for room_id, index in db.session.execute(_DATES_IN_USE_SQLITE, params):
            found.setdefault(int(room_id), set()).add(index)
        return found
    return {
        room_id: set(indices)
        for room_id, indices in db.session.execute(_DATES_IN_USE_POSTGRESQL, params)
    }


def busy(
    units: Sequence[int],
    slots: Iterable[domain.Slot],
    *,
    exclude_occurrences: Iterable[int] = (),
) -> list[domain.Busy]:
    """Approved occupancy of the given units that overlaps any of the (padded) slots."""
    rows = occupied(units, slots, exclude_occurrences=exclude_occurrences)
    # Several units of one occurrence give the same interval twice; once is enough.
    unique = {
        (row.starts_at, row.ends_at, row.occurrence_id): domain.Busy(
            domain.Slot(row.starts_at, row.ends_at), ref=row.occurrence_id
        )
        for row in rows
    }
    return sorted(unique.values(), key=lambda b: b.slot)


def occupancy_rows(
    occurrences: Sequence[Occurrence], units: Sequence[int], rules: domain.RoomRules
) -> list[dict]:
    """The occupancy rows of approved dates: one per date and smallest room part, padded."""
    return [
        {
            "occurrence_id": occ.id,
            "unit_id": unit,
            "starts_at": occ.starts_at - rules.buffer_before,
            "ends_at": occ.ends_at + rules.buffer_after,
        }
        for occ in occurrences
        for unit in units
    ]


def occupy(occurrences: Sequence[Occurrence], units: Sequence[int], rules: domain.RoomRules):
    """Write the occupancy of approved dates in one bulk INSERT (call inside ``guarded``)."""
    if occurrences:
        db.session.execute(insert(Occupancy), occupancy_rows(occurrences, units, rules))


def release(occurrence_ids: Sequence[int]) -> None:
    """Free the time of dates that are no longer approved (declined, cancelled, moved)."""
    if occurrence_ids:
        db.session.execute(delete(Occupancy).where(Occupancy.occurrence_id.in_(occurrence_ids)))


def _is_overlap(exc: IntegrityError) -> bool:
    return "ex_occupancy_no_overlap" in str(exc.orig) or "23P01" in str(
        getattr(exc.orig, "sqlstate", "")
    )


@contextmanager
def guarded(message: str, plans: Sequence[domain.DatePlan] = (), **params) -> Iterator[None]:
    """Run a service's writes as one savepoint and flush them at the end.

    Whatever raises inside undoes every write of the block, so a refused request leaves nothing
    behind even when the surface goes on to commit (a redirect with a message). An overlap
    refused by the database becomes ``Conflict(message, plans)``.
    """
    try:
        with db.session.begin_nested():
            yield
            db.session.flush()
    except IntegrityError as exc:
        if _is_overlap(exc):
            raise Conflict(message, plans, code="taken_meanwhile", **params) from None
        raise
