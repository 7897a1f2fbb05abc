"""Run the benchmark suite on SQLite and PostgreSQL and write the results table.

    python -m bench.run                  # full suite at scale 1, both databases (~10-15 min)
    python -m bench.run --quick          # tiny datasets, few repetitions (< 2 min; CI)
    python -m bench.run --with-scale10   # also figures 1, 2 and 4 at scale 10 (adds ~20 min)

Results go to ``bench/results/`` (``results.json``, ``results.md`` and the query plans);
``--quick`` writes to ``bench/results/quick/`` unless ``--out`` says otherwise.
Timings use ``time.perf_counter_ns`` after a warm-up; each figure reports median and p95.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import http.client
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time as clock
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import delete, event, select, text

from bench import generate as gen

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DATA = ROOT / "bench" / ".data"
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
PG_DATABASE = "raumboerse_bench"


# Measuring -------------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the results table."""

    figure: str
    database: str
    dataset: str
    median_ms: float | None = None
    p95_ms: float | None = None
    target: str = ""
    within: bool | None = None  # None: no target, or not judged
    samples: int = 0
    notes: str = ""
    extra: dict = field(default_factory=dict)


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def measure(
    action: Callable[[], object],
    *,
    warmup: int,
    repetitions: int,
    before: Callable[[], object] | None = None,
    after: Callable[[object], object] | None = None,
    budget_seconds: float | None = 40,
) -> list[float]:
    """Milliseconds of ``action`` per repetition; ``before``/``after`` run outside the clock.

    With ``budget_seconds``, stops early once that much time has passed and at least five
    samples were taken (slow figures must not blow the suite's 15 minutes).
    """
    samples: list[float] = []
    deadline = clock.monotonic() + budget_seconds if budget_seconds else None
    for i in range(warmup + repetitions):
        if deadline and len(samples) >= 5 and clock.monotonic() > deadline:
            break
        if before:
            before()
        started = clock.perf_counter_ns()
        outcome = action()
        elapsed = clock.perf_counter_ns() - started
        if after:
            after(outcome)
        if i >= warmup:
            samples.append(elapsed / 1e6)
    return samples


def summarise(samples: list[float]) -> tuple[float, float]:
    return round(statistics.median(samples), 3), round(percentile(samples, 95), 3)


@dataclass
class Settings:
    quick: bool
    warmup: int
    repetitions: int  # for fast figures (reads)
    write_repetitions: int  # for figures that write and clean up
    load_seconds: int
    http: bool

    @classmethod
    def for_mode(cls, quick: bool, http: bool = True) -> Settings:
        if quick:
            return cls(True, 1, 5, 3, 2, http)
        return cls(False, 10, 200, 60, 10, http)


# In-process figures ----------------------------------------------------------------------------


def _pick_rooms(ds: gen.Dataset) -> dict:
    """The rooms the figures use: a busy plain room at a non-school site, and the busiest room."""
    from booking.extensions import db

    plain_busy = db.session.execute(
        text(
            """
            SELECT r.id, r.site_id, count(o.id) AS n
            FROM room r
            JOIN site s ON s.id = r.site_id
            JOIN occurrence o ON o.room_id = r.id
            WHERE s.kind <> 'school' AND r.parent_id IS NULL AND r.name <> :busy
              AND NOT EXISTS (SELECT 1 FROM room c WHERE c.parent_id = r.id)
            GROUP BY r.id, r.site_id
            ORDER BY n DESC, r.id
            LIMIT 1
            """
        ),
        {"busy": gen.BUSY_ROOM},
    ).one()
    busiest = db.session.execute(
        text(
            "SELECT room_id, count(*) AS n FROM occurrence WHERE status = 'approved' "
            "GROUP BY room_id ORDER BY n DESC, room_id LIMIT 1"
        )
    ).one()
    manager = db.session.scalar(
        text("SELECT user_id FROM site_manager WHERE site_id = :s ORDER BY user_id LIMIT 1"),
        {"s": plain_busy.site_id},
    )
    return {
        "room_id": plain_busy.id,
        "room_dates": plain_busy.n,
        "manager_id": manager,
        "busy_room_id": busiest.room_id,
        "busy_room_dates": busiest.n,
    }


def _delete_booking(booking_id: int) -> None:
    from booking.extensions import db
    from booking.models import AuditEvent, Booking, Occupancy, Occurrence

    db.session.rollback()
    occurrence_ids = select(Occurrence.id).where(Occurrence.booking_id == booking_id)
    db.session.execute(delete(Occupancy).where(Occupancy.occurrence_id.in_(occurrence_ids)))
    db.session.execute(delete(Occurrence).where(Occurrence.booking_id == booking_id))
    db.session.execute(delete(AuditEvent).where(AuditEvent.booking_id == booking_id))
    db.session.execute(delete(Booking).where(Booking.id == booking_id))
    db.session.commit()
    db.session.remove()


class StatementLog:
    """The SQL statements the application runs while the log is active (for EXPLAIN)."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.statements: list[tuple[str, object]] = []

    def _record(self, _conn, _cursor, statement, parameters, _context, _executemany) -> None:
        self.statements.append((statement, parameters))

    @contextlib.contextmanager
    def active(self) -> Iterator[StatementLog]:
        event.listen(self.engine, "before_cursor_execute", self._record)
        try:
            yield self
        finally:
            event.remove(self.engine, "before_cursor_execute", self._record)


def explain(statement: str, parameters, *, analyze: bool = True) -> str:
    """The database's plan for one statement, run on the raw driver connection."""
    from booking.extensions import db

    raw = db.session.connection().connection.driver_connection
    cursor = raw.cursor()
    try:
        if db.engine.dialect.name == "postgresql":
            prefix = "EXPLAIN (ANALYZE, BUFFERS) " if analyze else "EXPLAIN "
            cursor.execute(prefix + statement, parameters)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        return "\n".join(" | ".join(str(c) for c in row) for row in cursor.fetchall())
    finally:
        cursor.close()
        db.session.rollback()


def explain_text(sql: str, params: dict) -> str:
    """The plan of a hand-written ``text()`` query with named parameters."""
    from booking.extensions import db

    if db.engine.dialect.name == "postgresql":
        prefix = "EXPLAIN (ANALYZE, BUFFERS) "
    else:
        prefix = "EXPLAIN QUERY PLAN "
    rows = db.session.execute(text(prefix + sql), params).all()
    db.session.rollback()
    return "\n".join(" | ".join(str(c) for c in row) for row in rows)


def _pg_execution_ms(sql: str, params: dict) -> float:
    from booking.extensions import db

    plan = db.session.execute(text("EXPLAIN (ANALYZE) " + sql), params).scalars().all()
    db.session.rollback()
    for line in plan:
        if line.startswith("Execution Time:"):
            return float(line.split()[2])
    raise RuntimeError("no execution time in EXPLAIN ANALYZE output")


def bare_query(sql: str, params: dict, settings: Settings) -> tuple[list[float], str]:
    """Times of a hand-written query: EXPLAIN ANALYZE execution time on PostgreSQL, a timed
    raw execution on SQLite. Returns the samples and a label of what was timed."""
    from booking.extensions import db

    if db.engine.dialect.name == "postgresql":
        samples = [
            _pg_execution_ms(sql, params) for _ in range(settings.warmup + settings.repetitions)
        ][settings.warmup :]
        return samples, "EXPLAIN ANALYZE execution time"

    def run() -> None:
        db.session.execute(text(sql), params).all()

    samples = measure(run, warmup=settings.warmup, repetitions=settings.repetitions)
    db.session.rollback()
    return samples, "timed raw query"


CONFLICT_SQL = """
SELECT o.id FROM occupancy o
WHERE o.unit_id IN ({units})
  AND ({probes})
"""

FREE_ROOMS_SQL = """
SELECT r.id FROM room r JOIN site s ON s.id = r.site_id
WHERE r.active AND s.active AND r.capacity >= :capacity
  AND r.buffer_before_minutes = :bb{g} AND r.buffer_after_minutes = :ba{g}
  {feature}
  AND (NOT EXISTS (SELECT 1 FROM opening_window n WHERE n.site_id = r.site_id)
    OR EXISTS (
      SELECT 1 FROM opening_window w
      WHERE w.site_id = r.site_id AND w.room_id IS NULL AND w.weekday = :weekday
        AND w.opens <= :opens AND w.closes >= :closes))
  AND NOT EXISTS (
    SELECT 1 FROM closure c
    WHERE c.site_id = r.site_id
      AND (c.room_id IS NULL OR c.room_id = r.id OR c.room_id = r.parent_id)
      AND c.starts_at < :end AND c.ends_at > :start)
  AND NOT EXISTS (
    SELECT 1 FROM occupancy o
    WHERE o.unit_id = r.id
      AND o.starts_at < :hi{g} AND o.ends_at > :lo{g} AND o.starts_at > :floor{g})
  AND NOT EXISTS (
    SELECT 1 FROM room p JOIN occupancy o ON o.unit_id = p.id
    WHERE p.parent_id = r.id
      AND o.starts_at < :hi{g} AND o.ends_at > :lo{g} AND o.starts_at > :floor{g})
"""


def free_rooms_sql(
    slot_start: datetime, slot_end: datetime, capacity: int, feature: str | None, zone
) -> tuple[str, dict]:
    """Free rooms as one hand-written query: a UNION ALL branch per buffer setting, so every
    bound is a plain parameter the (unit_id, starts_at) index can use on both databases.

    The dataset has no room-level opening windows and no room closures on parts, so this
    answers the same question the service answers (the suite checks the sets are equal).
    """
    from booking.extensions import db

    groups = db.session.execute(
        text("SELECT DISTINCT buffer_before_minutes, buffer_after_minutes FROM room")
    ).all()
    local_start = slot_start.astimezone(zone)
    local_end = slot_end.astimezone(zone)
    params: dict = {
        "capacity": capacity,
        "weekday": local_start.weekday(),
        "opens": local_start.hour * 60 + local_start.minute,
        "closes": local_end.hour * 60 + local_end.minute,
        "start": slot_start,
        "end": slot_end,
    }
    feature_sql = ""
    if feature:
        feature_sql = (
            "AND EXISTS (SELECT 1 FROM room_feature f WHERE f.room_id = r.id "
            "AND f.feature = :feature)"
        )
        params["feature"] = feature
    branches = []
    for g, (before, after) in enumerate(groups):
        branches.append(FREE_ROOMS_SQL.format(g=g, feature=feature_sql))
        lo = slot_start - timedelta(minutes=before)
        params |= {
            f"bb{g}": before,
            f"ba{g}": after,
            f"hi{g}": slot_end + timedelta(minutes=after),
            f"lo{g}": lo,
            # Occupancy rows last at most 14 days plus buffers (the service's longest date).
            f"floor{g}": lo - timedelta(days=15),
        }
    return "\nUNION ALL\n".join(branches), _bind(params)


WEEKLY_FREE_ROOMS_POSTGRESQL = """
SELECT r.id FROM room r JOIN site s ON s.id = r.site_id
WHERE r.active AND s.active
  AND r.id NOT IN (
    SELECT o.unit_id
    FROM unnest(CAST(:starts AS timestamptz[]), CAST(:ends AS timestamptz[])) AS c(s, e)
    JOIN occupancy o
      ON tstzrange(o.starts_at, o.ends_at, '[)') && tstzrange(c.s, c.e, '[)'))
"""
WEEKLY_FREE_ROOMS_SQLITE = """
SELECT r.id FROM room r JOIN site s ON s.id = r.site_id
WHERE r.active AND s.active
  AND NOT EXISTS (
    SELECT 1 FROM json_each(:intervals) AS c
    JOIN occupancy o
      ON o.unit_id = r.id
     AND o.starts_at < c.value ->> '$[1]'
     AND o.starts_at > c.value ->> '$[2]'
     AND o.ends_at > c.value ->> '$[0]')
"""


def weekly_free_rooms_sql(slots) -> tuple[str, dict]:
    """The rooms free at every one of ``slots`` as one hand-written query, for a dataset without
    opening hours, closures, parts and buffers (the peer dataset)."""
    from booking.extensions import db

    if db.engine.dialect.name == "postgresql":
        params = {"starts": [s.starts_at for s in slots], "ends": [s.ends_at for s in slots]}
        return WEEKLY_FREE_ROOMS_POSTGRESQL, params
    stamp = "%Y-%m-%d %H:%M:%S.%f"
    intervals = [
        [
            s.starts_at.astimezone(UTC).strftime(stamp),
            s.ends_at.astimezone(UTC).strftime(stamp),
            (s.starts_at - timedelta(days=15)).astimezone(UTC).strftime(stamp),
        ]
        for s in slots
    ]
    return WEEKLY_FREE_ROOMS_SQLITE, {"intervals": json.dumps(intervals)}


def _bind(params: dict) -> dict:
    """SQLite stores UTC datetimes as naive text with microseconds (SQLAlchemy's format);
    text() bypasses the column type, so format them the same way or comparisons go wrong."""
    from booking.extensions import db

    if db.engine.dialect.name != "sqlite":
        return params
    return {
        k: v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v
        for k, v in params.items()
    }


class InProcess:
    """Figures 1-4, 6 and 7 in process, against the app's database."""

    def __init__(self, app, ds: gen.Dataset, label: str, settings: Settings, plans: list[str]):
        self.app = app
        self.ds = ds
        self.label = label
        self.settings = settings
        self.plans = plans
        self.rows: list[Row] = []
        self.dbname = ""

    def row(self, figure: str, samples: list[float], target_ms: float | None, **kw) -> Row:
        median, p95 = summarise(samples)
        row = Row(
            figure=figure,
            database=self.dbname,
            dataset=self.label,
            median_ms=median,
            p95_ms=p95,
            target=f"p95 ≤ {target_ms:g} ms" if target_ms is not None else kw.pop("target", ""),
            within=(p95 <= target_ms) if target_ms is not None else None,
            samples=len(samples),
            **kw,
        )
        self.rows.append(row)
        return row

    def run(self, *, feeds: bool = True, pages: bool = True, plans: bool = True) -> list[Row]:
        from booking.extensions import db

        with self.app.app_context():
            self.dbname = db.engine.dialect.name
            self.rooms = _pick_rooms(self.ds)
            self.series_figures(plans)
            self.search_figures(plans)
            if pages:
                self.page_figure()
            if feeds:
                self.feed_figures()
            db.session.remove()
        return self.rows

    # Figure 1 -----------------------------------------------------------------------------------

    def _command(self, count: int | None):
        from booking import domain
        from booking.services.bookings import BookingCommand

        ds = self.ds
        first = gen._first_on_or_after(ds.now.date() + timedelta(days=1), ds.free_weekday)
        return BookingCommand(
            room_id=self.rooms["room_id"],
            title="Benchmark",
            start=datetime.combine(first, ds.free_start),
            end=datetime.combine(first, ds.free_end),
            recurrence=domain.Recurrence(domain.Frequency.WEEKLY, count=count) if count else None,
            house_rules_accepted=True,
        )

    def series_figures(self, plans: bool) -> None:
        from booking.extensions import db
        from booking.models import Occurrence, OccurrenceStatus, User
        from booking.services.bookings import request_booking

        settings, ds = self.settings, self.ds
        for count, name, target in (
            (52, "1a request weekly series, 52 dates", 8.0),
            (None, "1b request single booking", 4.0),
        ):
            command = self._command(count)

            def request(command=command) -> int:
                user = db.session.get(User, self.rooms["manager_id"])
                booking = request_booking(user, command, now=ds.now)
                db.session.commit()
                return booking.id

            first_id = request()  # checked once: every date written, approved and occupying
            statuses = db.session.scalars(
                select(Occurrence.status).where(Occurrence.booking_id == first_id)
            ).all()
            expected = count or 1
            if len(statuses) != expected or set(statuses) != {OccurrenceStatus.APPROVED}:
                raise RuntimeError(f"benchmark booking wrote {len(statuses)} dates, not {expected}")
            _delete_booking(first_id)
            samples = measure(
                request,
                warmup=settings.warmup,
                repetitions=settings.write_repetitions,
                before=db.session.remove,
                after=_delete_booking,
            )
            self.row(
                name,
                samples,
                target,
                notes=f"room {self.rooms['room_id']}, "
                f"{self.rooms['room_dates']} dates in the room; incl. commit",
            )
            if plans:
                log = StatementLog(db.engine)
                with log.active():
                    booking_id = request()
                _delete_booking(booking_id)
                self._plans(f"figure {name} ({self.label})", log)

        # Figure 1c: the service's conflict check of the 52 dates alone (the booking form's
        # preview: expansion, rules, closures and occupancy; writes nothing).
        from booking import domain
        from booking.services.bookings import plan_booking

        command = self._command(52)

        def check() -> None:
            user = db.session.get(User, self.rooms["manager_id"])
            plan = plan_booking(user, command, now=ds.now)
            if plan.blocked:
                raise RuntimeError("the benchmark series should be free on every date")

        samples = measure(
            check,
            warmup=settings.warmup,
            repetitions=settings.repetitions,
            before=db.session.remove,
        )
        self.row("1c conflict check of the 52 dates (plan_booking, writes nothing)", samples, None)

        zone = gen.ZONE
        expansion = domain.expand(command.start, command.end, zone, command.recurrence)
        units = [self.rooms["room_id"]]
        probes = " OR ".join(
            f"(o.starts_at < :e{i} AND o.ends_at > :s{i} AND o.starts_at > :f{i})"
            for i in range(len(expansion.slots))
        )
        params = {}
        for i, slot in enumerate(expansion.slots):
            params |= {
                f"s{i}": slot.starts_at,
                f"e{i}": slot.ends_at,
                f"f{i}": slot.starts_at - timedelta(days=15),
            }
        sql = CONFLICT_SQL.format(units=", ".join(str(u) for u in units), probes=probes)
        samples, how = bare_query(sql, _bind(params), settings)
        bare = self.row(
            "7a lower bound: conflict check of 52 dates as one SQL query", samples, None, notes=how
        )
        check = next(r for r in self.rows if r.figure.startswith("1c"))
        series = next(r for r in self.rows if r.figure.startswith("1a"))
        ratio = round(check.median_ms / max(bare.median_ms, 1e-6), 1)
        bare.extra["ratio_service_to_bare"] = ratio
        bare.extra["ratio_series_to_bare"] = round(series.median_ms / max(bare.median_ms, 1e-6), 1)
        bare.target = "conflict check (1c) within 3× of bare"
        bare.within = ratio <= 3
        bare.notes += (
            f"; 1c/bare = {ratio}×, whole series with writes and commit (1a)/bare = "
            f"{bare.extra['ratio_series_to_bare']}× (medians)"
        )

    # Figure 2 -----------------------------------------------------------------------------------

    def search_figures(self, plans: bool) -> None:
        from booking import domain
        from booking.extensions import db
        from booking.services.search import RoomQuery, search_rooms

        settings, ds, zone = self.settings, self.ds, gen.ZONE
        peer = ds.profile == "peer"
        day = ds.search_day
        start = datetime.combine(day, datetime.min.time()).replace(hour=18)
        end = start.replace(hour=20)
        if peer:  # like the peer measurement: every room, a 2-hour slot, no other filter
            capacity, features = None, ()
            label, target = "2a free-room search, 2 h slot, all rooms", 8.0
        else:
            capacity, features = 20, ("projector",)
            label, target = "2a free-room search, Tue 18-20, ≥20 people, projector", 10.0
        query = RoomQuery(start=start, end=end, min_capacity=capacity, features=features)
        found = search_rooms(query, zone=zone, now=ds.now)
        n_rooms = db.session.scalar(text("SELECT count(*) FROM room"))
        samples = measure(
            lambda: search_rooms(query, zone=zone, now=ds.now),
            warmup=settings.warmup,
            repetitions=settings.repetitions,
            before=db.session.remove,
        )
        self.row(label, samples, target, notes=f"{len(found)} of {n_rooms} rooms free")
        if plans:
            log = StatementLog(db.engine)
            with log.active():
                search_rooms(query, zone=zone, now=ds.now)
            self._plans(f"figure {label} ({self.label})", log)

        # Figure 2d: the same search as ids only (``search.room_ids``: the API's service call,
        # which serves the rooms from its cache), the service time compared with figure 7b.
        from booking.services.search import room_ids

        samples = measure(
            lambda: room_ids(query, zone=zone, now=ds.now),
            warmup=settings.warmup,
            repetitions=settings.repetitions,
            before=db.session.remove,
        )
        ids_row = self.row("2d free-room search of 2a as room ids (search.room_ids)", samples, None)
        self.availability_figure(day)

        # Figure 7 for figure 2: the same question as one hand-written query.
        slot = domain.Slot(domain.from_local(start, zone), domain.from_local(end, zone))
        sql, params = free_rooms_sql(
            slot.starts_at,
            slot.ends_at,
            capacity or 0,
            features[0] if features else None,
            zone,
        )
        bare_ids = sorted(r for (r,) in db.session.execute(text(sql), params))
        service_ids = sorted(m.room.id for m in found)
        samples, how = bare_query(sql, params, settings)
        bare = self.row("7b lower bound: figure 2a as one SQL query", samples, None, notes=how)
        ratio = round(ids_row.median_ms / max(bare.median_ms, 1e-6), 1)
        bare.extra |= {"ratio_service_to_bare": ratio, "same_rooms": bare_ids == service_ids}
        bare.target = "service within 3× of bare"
        bare.within = ratio <= 3
        bare.notes += (
            f"; ids (2d)/bare = {ratio}× (median); same rooms as the service: "
            f"{'yes' if bare_ids == service_ids else 'NO'}"
        )
        if plans:
            self.plans.append(
                f"### figure 7b bare query ({self.label}, {self.dbname})\n\n"
                f"```sql\n{sql.strip()}\n```\n```\n{explain_text(sql, params)}\n```\n"
            )

        # The same for a weekly slot over a school term.
        first = gen._first_on_or_after(ds.term_first_day, 1)
        weekly = RoomQuery(
            start=datetime.combine(first, start.time()),
            end=datetime.combine(first, end.time()),
            min_capacity=capacity,
            features=features,
            weekly_until=ds.term_last_day,
        )
        found = search_rooms(weekly, zone=zone, now=ds.now)
        samples = measure(
            lambda: search_rooms(weekly, zone=zone, now=ds.now),
            warmup=settings.warmup,
            repetitions=settings.repetitions,
            before=db.session.remove,
        )
        weeks = len(found[0].slots) if found else 0
        self.row(
            f"2b free-room search, weekly Tuesdays {first:%d.%m.}–{ds.term_last_day:%d.%m.%Y}",
            samples,
            target,
            notes=f"{len(found)} rooms free on all {weeks} dates",
        )
        if peer:
            self.weekly_year_figures(start, end, settings)

    def availability_figure(self, day: date) -> None:
        """Figure 2e: the busy and free times of the benchmark's room for the week of ``day``,
        the service call of the API's availability answer (figure 5 over HTTP asks the same)."""
        from booking import domain
        from booking.extensions import db
        from booking.services import room_context
        from booking.services.search import room_availability

        zone, monday = gen.ZONE, datetime.combine(day, datetime.min.time())
        monday -= timedelta(days=day.weekday())
        week = domain.Slot(
            domain.from_local(monday, zone), domain.from_local(monday + timedelta(days=7), zone)
        )

        def availability():
            room_availability(room_context.active_room(self.rooms["room_id"]), week)

        samples = measure(
            availability,
            warmup=self.settings.warmup,
            repetitions=self.settings.repetitions,
            before=db.session.remove,
        )
        self.row("2e availability of one room for a week (search.room_availability)", samples, None)

    def weekly_year_figures(self, start: datetime, end: datetime, settings: Settings) -> None:
        """Figure 2c and its lower bound 7c (peer dataset): every Tuesday of the year, 2 hours,
        among all rooms: ``search.room_ids`` (the API's service call) against one hand-written
        query. The peer dataset has no opening hours, closures, parts or buffers, so the bare
        query leaves them out and still answers the same question (the suite checks it)."""
        from booking import domain
        from booking.extensions import db
        from booking.services.search import RoomQuery, room_ids

        ds, zone = self.ds, gen.ZONE
        first = gen._first_on_or_after(ds.first_day, 1)
        query = RoomQuery(
            start=datetime.combine(first, start.time()),
            end=datetime.combine(first, end.time()),
            weekly_until=ds.last_day,
        )
        service_ids = room_ids(query, zone=zone, now=ds.now)
        samples = measure(
            lambda: room_ids(query, zone=zone, now=ds.now),
            warmup=settings.warmup,
            repetitions=settings.repetitions,
            before=db.session.remove,
        )
        expansion = domain.expand(
            query.start,
            query.end,
            zone,
            domain.Recurrence(domain.Frequency.WEEKLY, until=ds.last_day),
        )
        service = self.row(
            "2c free-room search, every Tuesday of the year, all rooms (search.room_ids)",
            samples,
            None,
            notes=f"{len(service_ids)} rooms free on all {len(expansion.slots)} dates",
        )
        sql, params = weekly_free_rooms_sql(expansion.slots)
        bare_ids = sorted(r for (r,) in db.session.execute(text(sql), params))
        samples, how = bare_query(sql, params, settings)
        bare = self.row("7c lower bound: figure 2c as one SQL query", samples, None, notes=how)
        ratio = round(service.median_ms / max(bare.median_ms, 1e-6), 1)
        same = bare_ids == sorted(service_ids)
        bare.extra |= {"ratio_service_to_bare": ratio, "same_rooms": same}
        bare.target = "service within 3× of bare"
        bare.within = ratio <= 3
        bare.notes += (
            f"; service/bare = {ratio}× (median); same rooms as the service: "
            f"{'yes' if same else 'NO'}"
        )
        if self.settings.quick is False:
            self.plans.append(
                f"### figure 7c bare query ({self.label}, {self.dbname})\n\n"
                f"```sql\n{sql.strip()}\n```\n```\n{explain_text(sql, params)}\n```\n"
            )

    # Figure 3 -----------------------------------------------------------------------------------

    def page_figure(self) -> None:
        from booking.extensions import db

        room_id = self.rooms["room_id"]
        monday = self.ds.search_day - timedelta(days=self.ds.search_day.weekday())
        url = f"/rooms/{room_id}?week={iso_week(monday)}"
        client = self.app.test_client()
        response = client.get(url)
        if response.status_code != 200:
            self.rows.append(
                Row(
                    "3 room week calendar page",
                    self.dbname,
                    self.label,
                    notes=f"skipped: GET {url} answered {response.status_code}",
                )
            )
            return
        size = len(response.data)

        def get() -> None:
            assert client.get(url).status_code == 200

        samples = measure(
            get,
            warmup=self.settings.warmup,
            repetitions=self.settings.repetitions,
            before=db.session.remove,
        )
        self.row(
            "3 room week calendar page (rendered)",
            samples,
            25.0,
            notes=f"GET {url}, {size // 1024} KiB HTML",
        )

    # Figure 4 -----------------------------------------------------------------------------------

    def feed_figures(self) -> None:
        from booking.extensions import db
        from booking.feeds import cache as feed_cache

        room_id = self.rooms["busy_room_id"]
        url = f"/ical/rooms/{room_id}.ics"
        client = self.app.test_client()
        response = client.get(url)
        if response.status_code != 200:
            self.rows.append(
                Row(
                    "4 iCal feed",
                    self.dbname,
                    self.label,
                    notes=f"skipped: GET {url} answered {response.status_code}",
                )
            )
            return
        events = response.data.count(b"BEGIN:VEVENT")
        etag = response.headers.get("ETag")

        def full() -> None:
            assert client.get(url).status_code == 200

        def fresh_start() -> None:
            # A rendered body is kept per ETag (booking.feeds.cache): forget it, so "cold"
            # measures loading the rows and writing the text.
            db.session.remove()
            feed_cache.clear()

        samples = measure(
            full,
            warmup=min(self.settings.warmup, 2),
            repetitions=self.settings.repetitions,
            before=fresh_start,
            budget_seconds=45,
        )
        self.row(
            "4a iCal feed of the busiest room, cold",
            samples,
            150.0,
            notes=f"{events} events, {len(response.data) // 1024} KiB",
        )

        def poll() -> None:
            assert client.get(url, headers={"If-None-Match": etag}).status_code == 304

        samples = measure(
            poll,
            warmup=self.settings.warmup,
            repetitions=self.settings.repetitions,
            before=db.session.remove,
        )
        self.row("4b iCal feed poll answered 304", samples, 3.0, notes="If-None-Match")

        # Pollers without If-None-Match (Google Calendar) get the whole body every time; after
        # the first request it comes from the body cache.
        samples = measure(
            full,
            warmup=self.settings.warmup,
            repetitions=self.settings.repetitions,
            before=db.session.remove,
        )
        self.row(
            "4c iCal feed, cached body (no If-None-Match)",
            samples,
            None,
            notes=f"{len(response.data) // 1024} KiB from the body cache",
        )

    # Plans --------------------------------------------------------------------------------------

    def _plans(self, title: str, log: StatementLog) -> None:
        from booking.extensions import db

        parts = [f"### {title}, {db.engine.dialect.name}\n"]
        for statement, parameters in log.statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            if isinstance(parameters, list):  # executemany: not a query
                continue
            try:
                plan = explain(statement, parameters)
            except Exception as exc:  # a plan we cannot get must not stop the suite
                plan = f"(no plan: {exc.__class__.__name__}: {exc})"
            short = " ".join(statement.split())
            parts.append(f"```sql\n{short[:1500]}\n```\n```\n{plan}\n```\n")
        self.plans.append("\n".join(parts))


# HTTP ------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_wrk() -> str | None:
    path = shutil.which("wrk")
    if path:
        return path
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        print("installing wrk (apt-get install -y wrk) ...", flush=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, capture_output=True)
        return shutil.which("wrk")
    print("wrk is not installed and we are not root: skipping the load figures", flush=True)
    return None


@contextlib.contextmanager
def gunicorn(
    url: str,
    workers: int = 2,
    *,
    worker_class: str = "sync",
    threads: int = 1,
    env: dict[str, str] | None = None,
) -> Iterator[tuple[str, int]]:
    """gunicorn serving ``wsgi:app`` on a free port until the block ends; yields (base, pid).

    ``env`` adds to or overrides the environment (``bench.peer`` runs it as production)."""
    port = _free_port()
    environment = (
        os.environ
        | {
            "DATABASE_URL": url,
            "RATELIMIT_ENABLED": "false",
            "SECRET_KEY": "bench-not-secret",
            "BOOKING_ENV": "development",
            "BOOKING_BASE_URL": f"http://127.0.0.1:{port}",
        }
        | (env or {})
    )
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", worker_class]
    if worker_class == "gthread":
        command += ["--threads", str(threads)]
    command += ["-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"]
    process = subprocess.Popen(command, cwd=ROOT, env=environment)
    try:
        deadline = clock.monotonic() + 60
        while clock.monotonic() < deadline:
            with contextlib.suppress(OSError):
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/api/v1/sites")
                connection.getresponse().read()
                break
            if process.poll() is not None:
                raise RuntimeError("gunicorn did not start")
            clock.sleep(0.2)
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def worker_peak_rss_mib(master_pid: int) -> list[float]:
    """VmHWM (peak resident set) of each gunicorn worker."""
    found = []
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    if not children.exists():
        return found
    for pid in children.read_text().split():
        status = Path(f"/proc/{pid}/status")
        with contextlib.suppress(OSError):
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    found.append(round(int(line.split()[1]) / 1024, 1))
    return found


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * _UNITS[unit]


def run_wrk(
    wrk: str,
    url: str,
    seconds: int,
    *,
    connections: int = 4,
    threads: int = 2,
    script: Path | None = None,
    headers: tuple[str, ...] = (),
) -> dict:
    """Requests per second, p50/p99 and errors of a wrk run (``script``: a Lua request list)."""
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    command.append("--latency")
    for header in headers:
        command += ["-H", header]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for pct in ("50", "99"):
        result[f"p{pct}_ms"] = _wrk_ms(re.search(rf"\s{pct}%\s+(\S+)", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    result["errors"] = (int(non_2xx.group(1)) if non_2xx else 0) + (
        sum(int(x) for x in sockets.groups()) if sockets else 0
    )
    result["requests"] = int(re.search(r"(\d+) requests in", out).group(1))
    return result


def sequential_http(base: str, path: str, settings: Settings) -> list[float]:
    """Latency of single requests over one keep-alive connection (no concurrency)."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)

    def get() -> None:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}")

    try:
        return measure(get, warmup=settings.warmup, repetitions=settings.repetitions)
    finally:
        connection.close()


def http_figures(
    url: str, ds: gen.Dataset, label: str, rooms: dict, settings: Settings, dbname: str
) -> list[Row]:
    rows: list[Row] = []
    wrk = ensure_wrk()
    day = ds.search_day
    search_params = {
        "free_start": f"{day.isoformat()}T18:00:00",
        "free_end": f"{day.isoformat()}T20:00:00",
        "limit": 200,
    }
    if ds.profile == "city":
        search_params |= {"min_capacity": 20, "features": "projector"}
    monday = day - timedelta(days=day.weekday())
    endpoints = {
        "search": ("/api/v1/rooms?" + urlencode(search_params), 300.0),
        "availability": (
            f"/api/v1/rooms/{rooms['room_id']}/availability?"
            + urlencode(
                {"start": f"{monday}T00:00:00", "end": f"{monday + timedelta(days=7)}T00:00:00"}
            ),
            750.0,
        ),
    }
    if ds.profile == "city":
        endpoints |= {
            "room page": (f"/rooms/{rooms['room_id']}?week={iso_week(monday)}", None),
            "feed": (f"/ical/rooms/{rooms['busy_room_id']}.ics", None),
        }
    with gunicorn(url) as (base, master):
        for name in ("search", "availability"):
            path, _ = endpoints[name]
            samples = sequential_http(base, path, settings)
            median, p95 = summarise(samples)
            rows.append(
                Row(
                    f"5 {name} over HTTP, one request at a time",
                    dbname,
                    label,
                    median,
                    p95,
                    samples=len(samples),
                    notes=f"GET {path}",
                )
            )
        if wrk:
            for name, (path, target_rps) in endpoints.items():
                # Both workers load templates and translations on first use: not part of it.
                run_wrk(wrk, base + path, 2)
                result = run_wrk(wrk, base + path, settings.load_seconds)
                within = None
                target = "0 errors"
                if target_rps is not None:
                    target = f"≥ {target_rps:g} req/s, 0 errors"
                    within = result["rps"] >= target_rps and result["errors"] == 0
                elif result["errors"] or not result["requests"]:
                    within = False
                rows.append(
                    Row(
                        f"5 load: {name}, 2 workers, 4 connections",
                        dbname,
                        label,
                        median_ms=result["p50_ms"],
                        p95_ms=None,
                        target=target,
                        within=within,
                        samples=result["requests"],
                        notes=f"{result['rps']:.0f} req/s, p50 {result['p50_ms']:.1f} ms, "
                        f"p99 {result['p99_ms']:.1f} ms, {result['errors']} errors",
                        extra=result,
                    )
                )
        rss = worker_peak_rss_mib(master)
        rows.append(
            Row(
                "8 peak RSS of a gunicorn worker after the load run",
                dbname,
                label,
                notes=f"{max(rss, default=0):.0f} MiB (workers: {rss})",
                extra={"worker_peak_rss_mib": rss},
            )
        )
    return rows


# The HTTP figures and the service calls they answer with (#14: at most 2 ms beyond it).
SURFACE = {
    "5 search over HTTP, one request at a time": "2d",
    "5 availability over HTTP, one request at a time": "2e",
}
SURFACE_MS = 2.0


def judge_surface(http_rows: list[Row], in_process: list[Row]) -> None:
    """Judge what an API answer over HTTP costs beyond its service call (medians of the same
    dataset and database): routing, token, parsing, serialising, the HTTP exchange itself."""
    service = {row.figure.split(" ")[0]: row for row in in_process}
    for row in http_rows:
        call = service.get(SURFACE.get(row.figure, ""))
        if call is None or row.median_ms is None or call.median_ms is None:
            continue
        beyond = round(row.median_ms - call.median_ms, 2)
        row.target = f"≤ {SURFACE_MS:g} ms beyond the service call"
        row.within = beyond <= SURFACE_MS
        row.extra["beyond_service_ms"] = beyond
        row.notes += f"; {beyond:.2f} ms beyond the service call (figure {call.figure.split()[0]})"


def iso_week(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


# Suite -----------------------------------------------------------------------------------------


def database_urls(databases: list[str], quick: bool) -> dict[str, Callable[[str], str]]:
    """For each database kind, a function from a dataset name to its URL."""
    DATA.mkdir(parents=True, exist_ok=True)
    suffix = "-quick" if quick else ""
    urls: dict[str, Callable[[str], str]] = {}
    if "sqlite" in databases:
        urls["sqlite"] = lambda name: f"sqlite:///{DATA / f'{name}{suffix}.sqlite3'}"
    if "postgresql" in databases:
        urls["postgresql"] = lambda name: f"{PG_SERVER}/{PG_DATABASE}_{name}{suffix}"
    return urls


def generate_dataset(url: str, profile: str, scale: int, tiny: bool, in_process: bool) -> dict:
    """Fill a fresh database; in a subprocess by default so its peak RSS is its own."""
    if url.startswith("postgresql"):
        gen.ensure_postgres_database(url)
    if in_process:
        return gen.generate(url, profile, scale, reset=True, tiny=tiny).as_dict()
    # The report lands in bench/.data/, which a fresh checkout has not got yet (even when the
    # caller brings its own database URLs and ``database_urls`` never ran).
    DATA.mkdir(parents=True, exist_ok=True)
    report = DATA / "generation.json"
    command = [
        sys.executable,
        "-m",
        "bench.generate",
        "--profile",
        profile,
        "--scale",
        str(scale),
        "--database-url",
        url,
        "--reset",
        "--json-out",
        str(report),
    ]
    if tiny:
        command.append("--tiny")
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return json.loads(report.read_text())


@dataclass
class Plan:
    """Which dataset runs which figures."""

    profile: str
    scale: int
    pages: bool
    feeds: bool
    http: bool


def run_suite(
    *,
    quick: bool,
    databases: list[str],
    out: Path,
    with_scale10: bool = False,
    http: bool = True,
    in_process_generation: bool = False,
    urls: dict[str, Callable[[str], str]] | None = None,
    before: dict | None = None,
) -> dict:
    """Generate the datasets, time every figure and write the results to ``out``; ``before``
    (an earlier run's results.json) adds each figure's median then to results.md."""
    settings = Settings.for_mode(quick, http)
    urls = urls or database_urls(databases, quick)
    plans = [Plan("city", 1, True, True, http), Plan("peer", 1, False, False, http)]
    if with_scale10 and not quick:
        plans.append(Plan("city", 10, False, True, False))
    started = clock.perf_counter()
    load_before = os.getloadavg()
    rows: list[Row] = []
    generation: list[dict] = []
    query_plans: dict[str, list[str]] = {}
    for dbname, url_for in urls.items():
        for plan in plans:
            name = f"{plan.profile}{plan.scale}"
            url = url_for(name)
            label = f"{plan.profile} ×{plan.scale}" + (" (tiny)" if quick else "")
            print(
                f"[{clock.perf_counter() - started:6.0f}s] {dbname}: generating {label} ...",
                flush=True,
            )
            report = generate_dataset(url, plan.profile, plan.scale, quick, in_process_generation)
            generation.append(report)
            rows.append(
                Row(
                    "8 generator: time and peak RSS",
                    dbname,
                    label,
                    notes=f"{report['seconds']:.0f} s, {report['peak_rss_mib']:.0f} MiB, "
                    f"{report['rows'].get('occurrence', 0):,} occurrences, "
                    f"{report['rows'].get('occupancy', 0):,} occupancy rows",
                    extra=report,
                )
            )
            print(
                f"[{clock.perf_counter() - started:6.0f}s] {dbname}: figures on {label} ...",
                flush=True,
            )
            app = gen.make_app(gen._normalise(url))
            gc.freeze()  # as wsgi.py does once the app is loaded
            suite = InProcess(
                app, gen.DATASETS[plan.profile], label, settings, query_plans.setdefault(dbname, [])
            )
            rows.extend(suite.run(feeds=plan.feeds, pages=plan.pages, plans=True))
            if plan.http:
                over_http = http_figures(
                    url, gen.DATASETS[plan.profile], label, suite.rooms, settings, dbname
                )
                judge_surface(over_http, suite.rows)
                rows.extend(over_http)
            with app.app_context():
                from booking.extensions import db

                db.engine.dispose()
    elapsed = clock.perf_counter() - started
    results = {
        "meta": {
            "mode": "quick" if quick else "full",
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(elapsed, 1),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
            "python": platform.python_version(),
            "commit": _git_commit(),
            # Other processes on the machine distort timings: the load averages tell.
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "warmup": settings.warmup,
            "repetitions": settings.repetitions,
            "write_repetitions": settings.write_repetitions,
        },
        "generation": generation,
        "figures": [asdict(r) for r in rows],
    }
    write_results(results, query_plans, out, before)
    print(markdown_table(rows, _before(before)[0]))
    print(f"\n{len(rows)} rows in {elapsed:.0f} s; written to {out}/")
    return results


def _git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _ms(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def markdown_table(rows: list[Row], before: dict[tuple, Row] | None = None) -> str:
    """The results as a table; with ``before`` (figures of an earlier run by figure, database
    and dataset) each figure's median then and the change."""
    head = "| Figure | Database | Dataset | Median ms | p95 ms |"
    rule = "|---|---|---|---:|---:|"
    if before is not None:
        head += " Before ms | Change |"
        rule += "---:|---:|"
    lines = [head + " Target | Within target | Notes |", rule + "---|---|---|"]
    for r in rows:
        within = {True: "yes", False: "**no**", None: ""}[r.within]
        line = f"| {r.figure} | {r.database} | {r.dataset} | {_ms(r.median_ms)} | {_ms(r.p95_ms)} |"
        if before is not None:
            then = before.get((r.figure, r.database, r.dataset))
            was = then.median_ms if then is not None else None
            change = f"{was / r.median_ms:.1f}× faster" if was and r.median_ms else ""
            line += f" {_ms(was)} | {change} |"
        lines.append(line + f" {r.target} | {within} | {r.notes} |")
    return "\n".join(lines)


def _before(results: dict | None) -> tuple[dict[tuple, Row] | None, str]:
    """An earlier run's figures by (figure, database, dataset), and a sentence naming the run.
    Figures are matched by their whole name: one new or renamed since has no before value."""
    if results is None:
        return None, ""
    rows = [Row(**r) for r in results["figures"]]
    meta = results["meta"]
    sentence = (
        f"Before: commit {meta['commit']}, {meta['finished_at']}, load average before "
        f"{meta['load_average_before'][0]}, after {meta['load_average_after'][0]}; the same "
        "machine and settings unless that date says otherwise.\n\n"
    )
    return {(r.figure, r.database, r.dataset): r for r in rows}, sentence


def write_results(
    results: dict, plans: dict[str, list[str]], out: Path, before: dict | None = None
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    rows = [Row(**r) for r in results["figures"]]
    meta = results["meta"]
    earlier, sentence = _before(before)
    (out / "results.md").write_text(
        f"# Benchmark results ({meta['mode']})\n\n"
        f"{meta['finished_at']}, commit {meta['commit']}, {meta['machine']}, "
        f"Python {meta['python']}; {meta['warmup']} warm-up runs, then "
        f"{meta['repetitions']} repetitions ({meta['write_repetitions']} for writes); "
        f"whole run {meta['seconds']:.0f} s; load average before "
        f"{meta['load_average_before'][0]}, after {meta['load_average_after'][0]}.\n\n"
        + sentence
        + markdown_table(rows, earlier)
        + "\n"
    )
    for dbname, texts in plans.items():
        (out / f"plans-{dbname}.md").write_text(
            f"# Query plans of the hot queries ({dbname})\n\n" + "\n".join(texts)
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the Raumbörse benchmark suite.")
    parser.add_argument("--quick", action="store_true", help="tiny datasets, few repetitions")
    parser.add_argument(
        "--with-scale10",
        action="store_true",
        help="also run figures 1, 2 and 4 on the city dataset at scale 10",
    )
    parser.add_argument(
        "--databases",
        default="sqlite,postgresql",
        help="comma-separated: sqlite, postgresql (default both)",
    )
    parser.add_argument("--no-http", action="store_true", help="skip gunicorn and wrk")
    parser.add_argument("--out", type=Path, help="results folder (default bench/results)")
    parser.add_argument(
        "--before",
        type=Path,
        help="results.json of an earlier run: results.md shows each figure then and now",
    )
    args = parser.parse_args(argv)
    databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    unknown = set(databases) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown database(s): {', '.join(sorted(unknown))}")
    out = args.out or (RESULTS / "quick" if args.quick else RESULTS)
    run_suite(
        quick=args.quick,
        databases=databases,
        out=out,
        with_scale10=args.with_scale10,
        http=not args.no_http,
        before=json.loads(args.before.read_text()) if args.before else None,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
