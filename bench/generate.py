"""Fill a database with a benchmark dataset, fast, through the project's own tables.

Profiles:

* ``city`` (default): 60 sites, 600 rooms (every school's sports hall divides into thirds, other
  sites' big halls into halves), 2,000 users, 500 organisations and one school year (52 weeks
  from Monday 31 August 2026) of bookings: weekly club evenings, school-term series that skip the
  NRW school holidays, short courses, one-off events, pending requests, declined and cancelled
  dates. At least 250,000 occurrences. ``--scale N`` multiplies everything by N.
* ``peer``: the profile of a peer measurement of Indico: one site, 200 rooms, 4,000 weekly 1-hour
  series over the 52 weeks of 2027 and 16,000 single bookings of 1-2 hours (224,000 occurrences).

Rows are written with bulk inserts (SQLAlchemy Core ``insert()`` executemany on SQLite, ``COPY``
on PostgreSQL) with ids assigned here, so no row is read back. Occupancy is consistent by
construction: one row per approved occurrence per unit, padded by the room's buffers, never
overlapping (every unit's time is tracked in 15-minute cells while generating, and PostgreSQL's
exclusion constraint checks it again on load). Series dates are expanded by the project's own
``booking.domain.expand``, so they are exactly the dates the service would have written.

Every room leaves one weekly slot free (``Dataset.free_weekday`` / ``free_start`` /
``free_end``), so the benchmark can request a 52-week series there and find it free.

Usage::

    DATABASE_URL=sqlite:///bench.sqlite3 python -m bench.generate --profile city --reset
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import sys
import time as clock
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Table, create_engine, select, text
from sqlalchemy.engine import Connection, make_url

from booking import domain
from booking.models import (
    ApprovalPolicy,
    AuditEvent,
    Booking,
    Closure,
    Feature,
    Membership,
    Occupancy,
    Occurrence,
    OccurrenceStatus,
    OpeningWindow,
    Organisation,
    OrganisationKind,
    Room,
    RoomFeature,
    Site,
    SiteKind,
    User,
    site_manager,
)

ZONE_NAME = "Europe/Berlin"
ZONE = ZoneInfo(ZONE_NAME)
PASSWORD = "raumboerse-bench"  # every generated user's password
DATA_DIR = Path(__file__).resolve().parent.parent / "booking" / "data"
CREATED = datetime(2026, 8, 1, 8, 0, tzinfo=UTC)  # created_at/updated_at of generated rows
FLUSH_ROWS = 20_000
CELL = 900  # seconds: unit time is tracked in 15-minute cells while generating

DISTRICTS = (
    "Innenstadt",
    "Letmathe",
    "Hennen",
    "Sümmern",
    "Kalthof",
    "Drüpplingsen",
    "Oestrich",
    "Dröschede",
    "Gerlingsen",
    "Nußberg",
    "Hombruch",
    "Wermingsen",
    "Obergrüne",
    "Iserlohnerheide",
    "Lössel",
)
# (kind, how many of 60 sites)
SITE_MIX = (
    (SiteKind.SCHOOL, 30),
    (SiteKind.LIBRARY, 2),
    (SiteKind.DISTRICT_HOUSE, 8),
    (SiteKind.YOUTH_CENTRE, 6),
    (SiteKind.CHURCH_HALL, 8),
    (SiteKind.SENIOR_CENTRE, 4),
    (SiteKind.ADULT_EDUCATION, 2),
)
CLUB_TITLES = (
    "Chorprobe",
    "Training",
    "Probe Blasorchester",
    "Yoga",
    "Schachabend",
    "Vereinsabend",
    "Tanzkurs",
    "Theatergruppe",
    "Sprachcafé",
    "Seniorengymnastik",
    "Krabbelgruppe",
    "Malkurs",
)
EVENT_TITLES = (
    "Mitgliederversammlung",
    "Lesung",
    "Elternabend",
    "Vortrag",
    "Geburtstagsfeier",
    "Workshop",
    "Flohmarkt",
    "Konzert",
    "Infoabend",
    "Turnier",
)

# Weekly grid, minutes after local midnight.
BUSY_ROOM = "Lernraum"
MORNING = ((600, 720),)
AFTERNOON = ((840, 930),)  # school-term clubs (AGs)
EVENING = ((960, 1050), (1050, 1140), (1140, 1230), (1230, 1320))
SATURDAY = ((540, 660), (660, 780), (840, 960), (960, 1080))
SUNDAY = ((600, 720), (840, 960))


@dataclass(frozen=True)
class Dataset:
    """What the benchmark needs to know about a generated profile."""

    profile: str
    now: datetime  # the "now" the benchmark passes to the services
    first_day: date
    last_day: date  # inclusive
    # A weekly slot left free in every room by construction (local wall time).
    free_weekday: int
    free_start: time
    free_end: time
    search_day: date  # a Tuesday in a busy week for the free-room search
    term_first_day: date  # a school term (no school holidays inside) for the weekly search
    term_last_day: date


DATASETS = {
    "city": Dataset(
        profile="city",
        now=datetime(2026, 8, 30, tzinfo=UTC),
        first_day=date(2026, 8, 31),
        last_day=date(2027, 8, 29),
        # No NRW public holiday falls on a Wednesday between September 2026 and August 2027,
        # so a 52-week Wednesday series in a non-school room has 52 bookable dates.
        free_weekday=2,
        free_start=time(16, 0),
        free_end=time(17, 30),
        search_day=date(2027, 2, 16),
        term_first_day=date(2027, 1, 12),
        term_last_day=date(2027, 3, 19),
    ),
    "peer": Dataset(
        profile="peer",
        now=datetime(2026, 12, 31, tzinfo=UTC),
        first_day=date(2027, 1, 1),
        last_day=date(2027, 12, 31),
        free_weekday=2,
        free_start=time(16, 0),
        free_end=time(17, 0),
        search_day=date(2027, 6, 15),
        term_first_day=date(2027, 4, 6),
        term_last_day=date(2027, 5, 14),
    ),
}


def peak_rss_mib() -> float:
    """Peak resident set size of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _shared_password_hash() -> str:
    from booking.services.passwords import hash_password

    return hash_password(PASSWORD)  # argon2 once; every user shares it


class BulkWriter:
    """Buffers rows per table and writes them in dependency order with bulk statements."""

    ORDER = (
        Site.__table__,
        Room.__table__,
        RoomFeature.__table__,
        OpeningWindow.__table__,
        Closure.__table__,
        User.__table__,
        Organisation.__table__,
        Membership.__table__,
        site_manager,
        Booking.__table__,
        Occurrence.__table__,
        Occupancy.__table__,
        AuditEvent.__table__,
    )

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.copy = conn.dialect.name == "postgresql"
        self.buffers: dict[Table, list[dict]] = defaultdict(list)
        self.counts: dict[str, int] = defaultdict(int)
        self.pending = 0

    def add(self, table: Table, row: dict) -> None:
        self.buffers[table].append(row)
        self.pending += 1
        if self.pending >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        for table in self.ORDER:
            rows = self.buffers.pop(table, None)
            if rows:
                self._write(table, rows)
                self.counts[table.name] += len(rows)
        self.pending = 0

    def _write(self, table: Table, rows: list[dict]) -> None:
        if not self.copy:
            self.conn.execute(table.insert(), rows)
            return
        columns = list(rows[0])
        json_columns = {c for c in columns if isinstance(table.c[c].type, JSON)}
        raw = self.conn.connection.driver_connection
        names = ", ".join(f'"{c}"' for c in columns)
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row([json.dumps(row[c]) if c in json_columns else row[c] for c in columns])


@dataclass
class RoomSpec:
    id: int
    site_id: int
    parent_id: int | None
    name: str
    capacity: int
    features: tuple[str, ...]  # feature keys
    buffer: int = 0  # minutes before and after
    policy: ApprovalPolicy = ApprovalPolicy.MANUAL


class Generator:
    def __init__(
        self, writer: BulkWriter, dataset: Dataset, scale: int, seed: int, tiny: bool = False
    ) -> None:
        self.tiny = tiny
        self.w = writer
        self.ds = dataset
        self.scale = scale
        self.rng = random.Random(seed)
        self.next_id: dict[str, int] = defaultdict(lambda: 1)
        self.n_users = 0
        self.n_orgs = 0
        self.site_managers: dict[int, int] = {}
        self.statuses: dict[str, int] = defaultdict(int)

    def new_id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    # People -------------------------------------------------------------------------------------

    def people(self, n_users: int, n_orgs: int) -> None:
        password_hash = _shared_password_hash()
        kinds = list(OrganisationKind)
        for i in range(n_orgs):
            self.w.add(
                Organisation.__table__,
                {
                    "id": i + 1,
                    "name": f"{self.rng.choice(CLUB_TITLES)}-Verein {i + 1}",
                    "kind": kinds[i % len(kinds)].value if i % 5 == 0 else "association",
                    "district": DISTRICTS[i % len(DISTRICTS)],
                    "description": "",
                    "website": "",
                    "email": f"verein{i + 1}@bench.example.org",
                    "trusted": i % 5 == 1,
                    "created_at": CREATED,
                },
            )
        for i in range(n_users):
            user_id = i + 1
            self.w.add(
                User.__table__,
                {
                    "id": user_id,
                    "email": f"user{user_id}@bench.example.org",
                    "name": f"Nutzerin {user_id}",
                    "password_hash": password_hash,
                    "language": "de" if i % 7 else "en",
                    "is_admin": user_id == n_users,
                    "active": True,
                    "created_at": CREATED,
                    "last_login_at": None,
                },
            )
            # User k is a member of organisation k mod n_orgs (so organisation o's first member
            # is user o); every fourth user belongs to a second one.
            orgs = {i % n_orgs + 1}
            if i % 4 == 3:
                orgs.add((i * 7 + 3) % n_orgs + 1)
            for org in sorted(orgs):
                self.w.add(
                    Membership.__table__,
                    {
                        "user_id": user_id,
                        "organisation_id": org,
                        "role": "admin" if i < n_orgs else "member",
                        "created_at": CREATED,
                    },
                )
        self.n_users, self.n_orgs = n_users, n_orgs

    def member_of(self, org_id: int) -> int:
        return org_id  # see people(): user o is a member of organisation o

    # Places -------------------------------------------------------------------------------------

    def site(self, index: int, kind: SiteKind, name: str, windows: Iterable[tuple]) -> int:
        site_id = self.new_id("site")
        self.w.add(
            Site.__table__,
            {
                "id": site_id,
                "name": name,
                "kind": kind.value,
                "district": DISTRICTS[index % len(DISTRICTS)],
                "street": f"Benchstraße {index + 1}",
                "postcode": "58636",
                "city": "Iserlohn",
                "timezone": ZONE_NAME,
                "description": "",
                "contact_name": "",
                "contact_email": "",
                "contact_phone": "",
                "active": True,
                "created_at": CREATED,
            },
        )
        for weekday, opens, closes in windows:
            self.w.add(
                OpeningWindow.__table__,
                {
                    "id": self.new_id("opening_window"),
                    "site_id": site_id,
                    "room_id": None,
                    "weekday": weekday,
                    "opens": opens,
                    "closes": closes,
                },
            )
        manager = (site_id - 1) % self.n_users + 1
        self.site_managers[site_id] = manager
        self.w.add(site_manager, {"user_id": manager, "site_id": site_id})
        return site_id

    def room(self, spec: RoomSpec) -> None:
        self.w.add(
            Room.__table__,
            {
                "id": spec.id,
                "site_id": spec.site_id,
                "parent_id": spec.parent_id,
                "name": spec.name,
                "capacity": spec.capacity,
                "area_m2": spec.capacity * 2,
                "description": "",
                "house_rules": "",
                "step_free": spec.id % 3 != 0,
                "accessible_toilet": spec.id % 4 == 0,
                "hearing_loop": spec.id % 10 == 0,
                "approval_policy": spec.policy.value,
                "min_lead_minutes": 0,
                "max_advance_days": 400,
                "min_duration_minutes": 30,
                "max_duration_minutes": 12 * 60,
                "buffer_before_minutes": spec.buffer,
                "buffer_after_minutes": spec.buffer,
                "active": True,
                "created_at": CREATED,
            },
        )
        for feature in sorted(set(spec.features)):
            self.w.add(RoomFeature.__table__, {"room_id": spec.id, "feature": feature})

    def closures(self, site_id: int, periods, reason_prefix: str) -> list[domain.Closure]:
        found = []
        for period in periods:
            if period.last_day < self.ds.first_day or period.first_day > self.ds.last_day:
                continue
            start = domain.from_local(datetime.combine(period.first_day, time(0)), ZONE)
            end = domain.from_local(
                datetime.combine(period.last_day + timedelta(days=1), time(0)), ZONE
            )
            self.w.add(
                Closure.__table__,
                {
                    "id": self.new_id("closure"),
                    "site_id": site_id,
                    "room_id": None,
                    "starts_at": start,
                    "ends_at": end,
                    "reason": period.reason or reason_prefix,
                    "source_uid": f"{reason_prefix}-{period.uid}",
                    "created_at": CREATED,
                },
            )
            found.append(domain.Closure(domain.Slot(start, end), period.reason))
        return found

    # Bookings -----------------------------------------------------------------------------------

    def booking(
        self,
        room: RoomSpec,
        units: Sequence[int],
        slots: Sequence[domain.Slot],
        cells: dict[int, set[int]],
        *,
        title: str,
        status: OccurrenceStatus,
        recurrence: domain.Recurrence | None = None,
        single_date_reasons: bool = False,
    ) -> None:
        """One booking with its occurrences; approved dates occupy every unit of the room.

        A date whose (padded) cells are already taken in any unit is written as declined: it is
        what a manager would have done, and it keeps occupancy free of overlaps.
        """
        booking_id = self.new_id("booking")
        org = self.rng.randrange(1, self.n_orgs + 1)
        requester = self.member_of(org)
        manager = self.site_managers[room.site_id]
        self.w.add(
            Booking.__table__,
            {
                "id": booking_id,
                "room_id": room.id,
                "organisation_id": org,
                "requested_by_id": requester,
                "title": title,
                "description": "",
                "attendees": max(1, room.capacity // 2),
                "is_public": booking_id % 4 == 0,
                "rrule": recurrence.to_rrule() if recurrence else None,
                "exdates": [],
                "skip_closures": bool(recurrence and recurrence.skip_closures),
                "house_rules_accepted_at": None,
                "created_at": CREATED,
                "updated_at": CREATED,
            },
        )
        pad = timedelta(minutes=room.buffer)
        occurrence_ids = []
        for slot in slots:
            date_status = status
            if single_date_reasons and status is OccurrenceStatus.APPROVED:
                roll = self.rng.random()
                if roll < 0.02:
                    date_status = OccurrenceStatus.CANCELLED
                elif roll < 0.03:
                    date_status = OccurrenceStatus.DECLINED
            first = math.floor((slot.starts_at - pad).timestamp() / CELL)
            last = math.ceil((slot.ends_at + pad).timestamp() / CELL)
            span = range(first, last)
            if any(c in cells[u] for u in units for c in span):
                date_status = OccurrenceStatus.DECLINED
            else:
                for u in units:
                    cells[u].update(span)
            occurrence_id = self.new_id("occurrence")
            occurrence_ids.append(occurrence_id)
            decided = date_status is not OccurrenceStatus.PENDING
            self.w.add(
                Occurrence.__table__,
                {
                    "id": occurrence_id,
                    "booking_id": booking_id,
                    "room_id": room.id,
                    "starts_at": slot.starts_at,
                    "ends_at": slot.ends_at,
                    "status": date_status.value,
                    "status_reason": "Der Raum ist belegt."
                    if date_status is OccurrenceStatus.DECLINED
                    else "",
                    "decided_by_id": (
                        requester if date_status is OccurrenceStatus.CANCELLED else manager
                    )
                    if decided
                    else None,
                    "decided_at": CREATED if decided else None,
                    "sequence": 1 if date_status is not status else 0,
                    "created_at": CREATED,
                    "updated_at": CREATED,
                },
            )
            self.statuses[date_status.value] += 1
            if date_status is OccurrenceStatus.APPROVED:
                for unit in units:
                    self.w.add(
                        Occupancy.__table__,
                        {
                            "id": self.new_id("occupancy"),
                            "occurrence_id": occurrence_id,
                            "unit_id": unit,
                            "starts_at": slot.starts_at - pad,
                            "ends_at": slot.ends_at + pad,
                        },
                    )
        self.w.add(
            AuditEvent.__table__,
            {
                "id": self.new_id("audit_event"),
                "booking_id": booking_id,
                "occurrence_ids": occurrence_ids,
                "actor_id": requester,
                "action": "requested",
                "reason": "",
                "details": {"status": status.value, "generated": True},
                "created_at": CREATED,
            },
        )

    def series_status(self) -> OccurrenceStatus:
        roll = self.rng.random()
        if roll < 0.85:
            return OccurrenceStatus.APPROVED
        if roll < 0.92:
            return OccurrenceStatus.PENDING
        if roll < 0.97:
            return OccurrenceStatus.DECLINED
        return OccurrenceStatus.CANCELLED

    def single_status(self) -> OccurrenceStatus:
        roll = self.rng.random()
        if roll < 0.80:
            return OccurrenceStatus.APPROVED
        if roll < 0.90:
            return OccurrenceStatus.PENDING
        if roll < 0.95:
            return OccurrenceStatus.DECLINED
        return OccurrenceStatus.CANCELLED

    def is_free_slot(self, weekday: int, opens: int) -> bool:
        ds = self.ds
        return (
            weekday == ds.free_weekday
            and opens < _minutes(ds.free_end)
            and (opens >= _minutes(ds.free_start))
        )


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _first_on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _local_slot(day: date, opens: int, closes: int) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0)) + timedelta(minutes=opens)
    return start, datetime.combine(day, time(0)) + timedelta(minutes=closes)


def _load_periods(name: str):
    from booking.services.closures import parse_ics_periods

    return parse_ics_periods((DATA_DIR / name).read_bytes())


# City ------------------------------------------------------------------------------------------


def _city_rooms(
    gen: Generator, site_id: int, kind: SiteKind, first_id: int
) -> list[list[RoomSpec]]:
    """Ten rooms per site as families: a divisible hall with its parts, then plain rooms."""
    rng = gen.rng
    families: list[list[RoomSpec]] = []
    next_id = first_id
    if kind is SiteKind.SCHOOL:
        hall = RoomSpec(
            next_id,
            site_id,
            None,
            "Sporthalle",
            120,
            ("sports_floor", "changing_rooms", "showers"),
            buffer=15,
        )
        parts = [
            RoomSpec(next_id + i, site_id, hall.id, f"Sporthalle, Drittel {i}", 40, hall.features)
            for i in (1, 2, 3)
        ]
        families.append([hall, *parts])
        next_id += 4
        plain = [
            ("Aula", 200, ("stage", "sound_system", "piano", "projector")),
            ("Musikraum", 30, ("piano", "whiteboard")),
            ("Computerraum", 28, ("computers", "projector", "wifi")),
            ("Mensa", 80, ("kitchen", "tables_chairs")),
            ("Klassenraum A", 30, ("whiteboard",)),
            ("Klassenraum B", 30, ("whiteboard",)),
        ]
    else:
        big = rng.choice((80, 100, 120, 150))
        hall = RoomSpec(next_id, site_id, None, "Großer Saal", big, ("stage", "tables_chairs"), 15)
        parts = [
            RoomSpec(
                next_id + i, site_id, hall.id, f"Großer Saal, Hälfte {i}", big // 2, hall.features
            )
            for i in (1, 2)
        ]
        families.append([hall, *parts])
        next_id += 3
        plain = [
            ("Seminarraum 1", 24, ("projector", "flipchart")),
            ("Seminarraum 2", 20, ("screen", "whiteboard")),
            ("Clubraum", 40, ("tables_chairs",)),
            ("Küche", 12, ("kitchen",)),
            ("Gruppenraum", 16, ()),
            ("Bewegungsraum", 30, ("mirrors", "sound_system")),
            # Libraries rent a small study room by the hour: the busy room of the dataset.
            ("Lernraum", 10, ("screen", "wifi"))
            if kind is SiteKind.LIBRARY
            else ("Besprechungsraum", 10, ("screen",)),
        ]
    extra = ("wifi", "projector", "darkening", "flipchart")
    for name, capacity, features in plain:
        chosen = set(features) | {f for f in extra if rng.random() < 0.3}
        policy = rng.choice(
            (ApprovalPolicy.MANUAL, ApprovalPolicy.AUTOMATIC, ApprovalPolicy.TRUSTED)
        )
        buffer = 15 if "kitchen" in chosen else 0
        families.append(
            [RoomSpec(next_id, site_id, None, name, capacity, tuple(chosen), buffer, policy)]
        )
        next_id += 1
    return families


def _city_site_bookings(
    gen: Generator, kind: SiteKind, families: list[list[RoomSpec]], closures: list[domain.Closure]
) -> None:
    rng, ds = gen.rng, gen.ds
    school = kind is SiteKind.SCHOOL
    weekly: list[tuple[int, tuple[int, int]]] = []
    for weekday in range(5):
        grid = (AFTERNOON + EVENING) if school else (MORNING + EVENING)
        weekly.extend((weekday, slot) for slot in grid)
    weekly.extend((5, slot) for slot in SATURDAY)
    if not school:
        weekly.extend((6, slot) for slot in SUNDAY)
    weekly = [(d, s) for d, s in weekly if not gen.is_free_slot(d, s[0])]
    closed_days = set()
    for closure in closures:
        day = domain.to_local(closure.slot.starts_at, ZONE).date()
        while domain.from_local(datetime.combine(day, time(0)), ZONE) < closure.slot.ends_at:
            closed_days.add(day)
            day += timedelta(days=1)
    school_start, first_term_end = date(2026, 9, 2), date(2027, 1, 29)
    usage = 0.45 if school else 0.38

    for family in families:
        cells: dict[int, set[int]] = defaultdict(set)
        whole, parts = family[0], family[1:]
        if whole.name == BUSY_ROOM:
            _busy_room(gen, whole, cells, closures)
            continue
        units = {whole.id: [p.id for p in parts] or [whole.id]}
        for part in parts:
            units[part.id] = [part.id]

        def series(
            room: RoomSpec, weekday: int, slot: tuple[int, int], units=units, cells=cells
        ) -> None:
            opens, closes = slot
            if room.buffer:
                opens, closes = opens + room.buffer, closes - room.buffer
            elif rng.random() < 0.3:
                closes = opens + 60
            if school and slot in AFTERNOON:
                first = _first_on_or_after(school_start, weekday)
                until = first_term_end if rng.random() < 0.5 else ds.last_day
                recurrence = domain.Recurrence(
                    domain.Frequency.WEEKLY, until=until, skip_closures=True
                )
                title = "AG " + rng.choice(CLUB_TITLES)
            elif rng.random() < 0.2:
                first = _first_on_or_after(
                    ds.first_day + timedelta(weeks=rng.randrange(0, 36)), weekday
                )
                recurrence = domain.Recurrence(
                    domain.Frequency.WEEKLY, count=rng.randrange(8, 16), skip_closures=True
                )
                title = "Kurs " + rng.choice(CLUB_TITLES)
            else:
                first = _first_on_or_after(ds.first_day, weekday)
                recurrence = domain.Recurrence(
                    domain.Frequency.WEEKLY, until=ds.last_day, skip_closures=True
                )
                title = rng.choice(CLUB_TITLES)
            start, end = _local_slot(first, opens, closes)
            expansion = domain.expand(start, end, ZONE, recurrence, closures=closures)
            slots = [s for s in expansion.slots if s.ends_at <= _day_end(ds.last_day)]
            if slots:
                gen.booking(
                    room,
                    units[room.id],
                    slots,
                    cells,
                    title=title,
                    status=gen.series_status(),
                    recurrence=recurrence,
                    single_date_reasons=True,
                )

        for weekday, slot in weekly:
            if not parts:
                if rng.random() < usage:
                    series(whole, weekday, slot)
                continue
            roll = rng.random()
            if roll < 0.3:
                series(whole, weekday, slot)
            elif roll < 0.85:
                for part in parts:
                    if rng.random() < 0.7:
                        series(part, weekday, slot)

        # One-off events in whatever is still free.
        grid = [s for _d, s in weekly]
        for room in family:
            count = 10 if school else 22
            for _ in range(count):
                for _attempt in range(4):
                    day = ds.first_day + timedelta(days=rng.randrange(0, 364))
                    if day in closed_days:
                        continue
                    if day.weekday() == 6 and school:
                        continue
                    opens, closes = rng.choice(grid)
                    if gen.is_free_slot(day.weekday(), opens):
                        continue
                    if day.weekday() >= 5 and rng.random() < 0.4:
                        closes = min(closes + 120, 22 * 60)
                    if room.buffer:
                        opens, closes = opens + room.buffer, closes - room.buffer
                    start, end = _local_slot(day, opens, closes)
                    slot = domain.Slot(domain.from_local(start, ZONE), domain.from_local(end, ZONE))
                    pad = room.buffer * 60
                    span = range(
                        math.floor((slot.starts_at.timestamp() - pad) / CELL),
                        math.ceil((slot.ends_at.timestamp() + pad) / CELL),
                    )
                    if any(c in cells[u] for u in units[room.id] for c in span):
                        continue
                    gen.booking(
                        room,
                        units[room.id],
                        [slot],
                        cells,
                        title=rng.choice(EVENT_TITLES),
                        status=gen.single_status(),
                    )
                    break


def _busy_room(
    gen: Generator, room: RoomSpec, cells: dict[int, set[int]], closures: list[domain.Closure]
) -> None:
    """An hourly weekly series for every hour 9-21, Monday to Saturday: ~3,700 dates a year."""
    ds = gen.ds
    for weekday in range(2 if gen.tiny else 6):
        for hour in range(9, 21):
            if gen.is_free_slot(weekday, hour * 60):
                continue
            first = _first_on_or_after(ds.first_day, weekday)
            start, end = _local_slot(first, hour * 60, hour * 60 + 60)
            recurrence = domain.Recurrence(
                domain.Frequency.WEEKLY, until=ds.last_day, skip_closures=True
            )
            expansion = domain.expand(start, end, ZONE, recurrence, closures=closures)
            gen.booking(
                room,
                [room.id],
                expansion.slots,
                cells,
                title="Lernzeit",
                status=OccurrenceStatus.APPROVED,
                recurrence=recurrence,
                single_date_reasons=True,
            )


def _day_end(day: date) -> datetime:
    return domain.from_local(datetime.combine(day + timedelta(days=1), time(0)), ZONE)


def generate_city(gen: Generator) -> None:
    scale = gen.scale
    gen.people(*((200, 50) if gen.tiny else (2000 * scale, 500 * scale)))
    public_holidays = _load_periods("nrw-public-holidays-2026-2028.ics")
    school_holidays = _load_periods("nrw-school-holidays-2026-2028.ics")
    kinds = [kind for kind, n in SITE_MIX for _ in range(n)]
    if gen.tiny:
        kinds = [kind for kind, _n in SITE_MIX]  # one site of each kind
    next_room = 1
    for unit in range(scale):
        for index, kind in enumerate(kinds):
            number = unit * len(kinds) + index
            if kind is SiteKind.SCHOOL:
                windows = [(d, 7 * 60, 22 * 60) for d in range(5)] + [(5, 8 * 60, 18 * 60)]
            else:
                windows = [(d, 8 * 60, 22 * 60) for d in range(6)] + [(6, 10 * 60, 18 * 60)]
            label = kind.value.replace("_", " ").title()
            site_id = gen.site(
                number, kind, f"{label} {DISTRICTS[number % 15]} {number + 1}", windows
            )
            closures = gen.closures(site_id, public_holidays, "feiertag")
            if kind is SiteKind.SCHOOL:
                closures += gen.closures(site_id, school_holidays, "schulferien")
            families = _city_rooms(gen, site_id, kind, next_room)
            for family in families:
                for room in family:
                    gen.room(room)
            next_room += sum(len(f) for f in families)
            _city_site_bookings(gen, kind, families, closures)


# Peer ------------------------------------------------------------------------------------------


def generate_peer(gen: Generator) -> None:
    """One site, 200 rooms, 20 weekly 1-hour series and 80 single 1-2 hour bookings per room."""
    rng, ds, scale = gen.rng, gen.ds, gen.scale
    gen.people(*((20, 5) if gen.tiny else (200 * scale, 50 * scale)))
    n_rooms = 20 if gen.tiny else 200 * scale
    site_id = gen.site(0, SiteKind.OTHER, "Peer-Haus", ())
    specs = []
    # The seeded equipment list (migration 0009), in its order.
    features = list(gen.w.conn.scalars(select(Feature.key).order_by(Feature.position, Feature.key)))
    for i in range(n_rooms):
        chosen = tuple(f for f in features if rng.random() < 0.25)
        spec = RoomSpec(
            i + 1,
            site_id,
            None,
            f"Raum {i + 1:04d}",
            rng.choice((8, 12, 16, 20, 24, 30, 40, 60, 100)),
            chosen,
            0,
            ApprovalPolicy.AUTOMATIC,
        )
        gen.room(spec)
        specs.append(spec)
    hours = range(8, 22)
    grid = [(d, h) for d in range(7) for h in hours if not gen.is_free_slot(d, h * 60)]
    year_days = (ds.last_day - ds.first_day).days + 1
    for spec in specs:
        cells: dict[int, set[int]] = defaultdict(set)
        taken: set[tuple[date, int]] = set()
        weekly = rng.sample(grid, 20)
        weekly_cells = set(weekly)
        for weekday, hour in weekly:
            first = _first_on_or_after(ds.first_day, weekday)
            start, end = _local_slot(first, hour * 60, hour * 60 + 60)
            recurrence = domain.Recurrence(domain.Frequency.WEEKLY, count=52)
            expansion = domain.expand(start, end, ZONE, recurrence)
            gen.booking(
                spec,
                [spec.id],
                expansion.slots,
                cells,
                title=rng.choice(CLUB_TITLES),
                status=OccurrenceStatus.APPROVED,
                recurrence=recurrence,
            )
        placed = 0
        while placed < 80:
            day = ds.first_day + timedelta(days=rng.randrange(0, year_days))
            hour = rng.randrange(8, 21)
            length = rng.choice((1, 2))
            wanted = [(day, h) for h in range(hour, hour + length)]
            if any(
                (day.weekday(), h) in weekly_cells
                or (day, h) in taken
                or gen.is_free_slot(day.weekday(), h * 60)
                for day, h in wanted
            ):
                continue
            taken.update(wanted)
            start, end = _local_slot(day, hour * 60, (hour + length) * 60)
            slot = domain.Slot(domain.from_local(start, ZONE), domain.from_local(end, ZONE))
            gen.booking(
                spec,
                [spec.id],
                [slot],
                cells,
                title=rng.choice(EVENT_TITLES),
                status=OccurrenceStatus.APPROVED,
            )
            placed += 1


# Driver ----------------------------------------------------------------------------------------


def _reset_database(url: str) -> None:
    """Drop everything in the database (SQLite: the file) so migrations start from scratch."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            for suffix in ("", "-wal", "-shm"):
                Path(parsed.database + suffix).unlink(missing_ok=True)
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def ensure_postgres_database(url: str) -> None:
    """Create the PostgreSQL database named in ``url`` if it does not exist yet."""
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
        )
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def make_app(url: str):
    from booking import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_ENABLED": False,
            "SECRET_KEY": "bench-not-secret",
            "BOOKING_TIMEZONE": ZONE_NAME,
        }
    )


@dataclass
class GenerationReport:
    profile: str
    scale: int
    database: str
    tiny: bool
    seconds: float
    rows: dict[str, int]
    occurrences_by_status: dict[str, int]
    peak_rss_mib: float

    def as_dict(self) -> dict:
        return asdict(self)


def _normalise(url: str) -> str:
    from config import normalise_database_url

    return normalise_database_url(url)


def generate(
    url: str,
    profile: str = "city",
    scale: int = 1,
    *,
    seed: int = 2026,
    reset: bool = False,
    tiny: bool = False,
    app=None,
) -> GenerationReport:
    """Migrate the database at ``url`` to the newest schema and fill it (it must be empty)."""
    from flask_migrate import upgrade

    from booking.extensions import db

    if profile not in DATASETS:
        raise SystemExit(f"unknown profile {profile!r}; choose one of {sorted(DATASETS)}")
    url = _normalise(url)
    if reset:
        _reset_database(url)
    app = app or make_app(url)
    started = clock.perf_counter()
    with app.app_context():
        upgrade(revision="heads")
        with db.engine.connect() as conn:
            if conn.scalar(text("SELECT count(*) FROM room")):
                raise SystemExit("the database already has rooms; pass --reset to start afresh")
        with db.engine.begin() as conn:
            writer = BulkWriter(conn)
            gen = Generator(writer, DATASETS[profile], scale, seed, tiny)
            (generate_city if profile == "city" else generate_peer)(gen)
            writer.flush()
            if conn.dialect.name == "postgresql":
                for table in gen.next_id:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT coalesce(max(id), 1) FROM {table}))"
                        )
                    )
        with db.engine.connect() as conn:
            # Fresh statistics, as autovacuum (PostgreSQL) or a scheduled ANALYZE would give.
            conn.execute(text("ANALYZE"))
            conn.commit()
        db.engine.dispose()
    seconds = clock.perf_counter() - started
    return GenerationReport(
        profile=profile,
        scale=scale,
        database=make_url(url).get_backend_name(),
        tiny=tiny,
        seconds=round(seconds, 2),
        rows=dict(writer.counts),
        occurrences_by_status=dict(gen.statuses),
        peak_rss_mib=round(peak_rss_mib(), 1),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=sorted(DATASETS), default="city")
    parser.add_argument("--scale", type=int, default=1, help="multiply the dataset (default 1)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="defaults to $DATABASE_URL",
    )
    parser.add_argument("--reset", action="store_true", help="drop the existing schema/file first")
    parser.add_argument("--tiny", action="store_true", help="a few sites only (quick runs, tests)")
    parser.add_argument("--json-out", help="also write the report as JSON to this file")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("give --database-url or set DATABASE_URL")
    if args.scale < 1:
        parser.error("--scale must be at least 1")
    report = generate(
        args.database_url,
        args.profile,
        args.scale,
        seed=args.seed,
        reset=args.reset,
        tiny=args.tiny,
    )
    print(json.dumps(report.as_dict(), indent=2))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report.as_dict(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
