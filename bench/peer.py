"""The operations of the Indico peer measurement, timed the same way on Raumbörse.

``../shared/peers/indico/`` (see its RECIPE.md) times Indico 3.3's room booking on the peer
profile: a conflict check of one room (a single 2-hour slot and the same slot weekly over 2027),
a room's availability, the free-room search over 200 rooms (single and weekly), creating single
and weekly bookings, and the same over HTTP (curl one request at a time, wrk at 1 and 4
connections against gunicorn with 2 workers). This module times the same operations on the same
profile, with probes drawn the same way (seeded, random room, workday of 2027, hour 8-18), so
that the figures of the two can be set side by side:

    python -m bench.peer --database-url postgresql+psycopg://postgres@127.0.0.1/raumboerse_bench_peer

``--generate`` fills the database first (``python -m bench.generate --profile peer``). The
figures are printed and written to ``--out`` (default ``bench/results/peer/``) as JSON.
``bench/peer_indico.py`` runs this and Indico's scripts interleaved and writes the comparison.

Each in-process repetition starts with a fresh session, as a web request does; bookings made
are deleted again at the end (their title is ``peer bench``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import time as clock
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import delete, select, text

from bench import generate as gen
from bench.run import ROOT, ensure_wrk, gunicorn, run_wrk, worker_peak_rss_mib

YEAR_START, YEAR_END = date(2027, 1, 4), date(2027, 12, 31)
WORKDAYS = [
    YEAR_START + timedelta(days=d)
    for d in range((YEAR_END - YEAR_START).days + 1)
    if (YEAR_START + timedelta(days=d)).weekday() < 5
]
TITLE = "peer bench"
# Repetitions as in the Indico script (its --quick in brackets).
COUNTS = {
    "single": (500, 50),
    "weekly": (200, 20),
    "search": (300, 30),
    "search_weekly": (100, 10),
    "create": (300, 20),
    "create_weekly": (100, 10),
}


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, datetime.min.time()).replace(hour=hour)


class Probes:
    """Random probes drawn as the Indico script draws them (seed 1234)."""

    def __init__(self, room_ids: list[int], seed: int = 1234) -> None:
        self.rnd = random.Random(seed)
        self.room_ids = room_ids

    def single(self) -> tuple[int, datetime, datetime]:
        day = self.rnd.choice(WORKDAYS)
        hour = self.rnd.choice(range(8, 19))
        return self.rnd.choice(self.room_ids), at(day, hour), at(day, hour + 2)

    def weekly(self) -> tuple[int, datetime, datetime, date]:
        weekday = self.rnd.randrange(5)
        hour = self.rnd.choice(range(8, 19))
        first = YEAR_START + timedelta(days=weekday)
        last = max(d for d in WORKDAYS if d.weekday() == weekday)
        return self.rnd.choice(self.room_ids), at(first, hour), at(first, hour + 2), last


def summarize(name: str, samples: list[float], **extra) -> dict:
    """Median, p95 and p99 in ms of samples in seconds (as the Indico script's ``summarize``)."""
    ordered = sorted(samples)
    n = len(ordered)

    def pick(q: float) -> float:
        return ordered[min(n - 1, round(q * (n - 1)))] * 1000

    result = {
        "name": name,
        "n": n,
        "median_ms": statistics.median(ordered) * 1000,
        "p95_ms": pick(0.95),
        "p99_ms": pick(0.99),
        "min_ms": ordered[0] * 1000,
        "mean_ms": statistics.fmean(ordered) * 1000,
    } | extra
    print(
        f"{name:62s} n={n:4d} median={result['median_ms']:8.2f} ms p95={result['p95_ms']:8.2f} ms",
        flush=True,
    )
    return result


def timed(
    action: Callable[[], object],
    n: int,
    *,
    warmup: int = 5,
    setup: Callable[[], object] | None = None,
) -> list[float]:
    samples = []
    for i in range(warmup + n):
        if setup:
            setup()
        started = clock.perf_counter()
        action()
        elapsed = clock.perf_counter() - started
        if i >= warmup:
            samples.append(elapsed)
    return samples


def _count(kind: str, quick: bool) -> int:
    full, short = COUNTS[kind]
    return short if quick else full


def delete_bench_bookings() -> int:
    """Remove every booking this benchmark made (in process and over HTTP)."""
    from booking.extensions import db
    from booking.models import AuditEvent, Booking, Occupancy, Occurrence, OutboxMessage

    db.session.rollback()
    ids = select(Booking.id).where(Booking.title == TITLE)
    occurrences = select(Occurrence.id).where(Occurrence.booking_id.in_(ids))
    n = len(db.session.scalars(ids).all())
    db.session.execute(delete(Occupancy).where(Occupancy.occurrence_id.in_(occurrences)))
    db.session.execute(delete(Occurrence).where(Occurrence.booking_id.in_(ids)))
    db.session.execute(delete(AuditEvent).where(AuditEvent.booking_id.in_(ids)))
    db.session.execute(delete(OutboxMessage))
    db.session.execute(delete(Booking).where(Booking.id.in_(ids)))
    db.session.commit()
    db.session.remove()
    return n


def in_process(app, quick: bool) -> list[dict]:
    from booking import domain
    from booking.extensions import db
    from booking.models import Room, User
    from booking.services import bookings, search

    results: list[dict] = []
    zone = gen.ZONE
    now = datetime(2026, 12, 31, tzinfo=UTC)
    with app.app_context():
        delete_bench_bookings()
        room_ids = list(db.session.scalars(select(Room.id).order_by(Room.id)))
        user_id = 1
        probes = Probes(room_ids)

        def user() -> User:
            return db.session.get(User, user_id)

        def command(room_id, start, end, last=None, **kw) -> bookings.BookingCommand:
            recurrence = None
            if last is not None:
                recurrence = domain.Recurrence(domain.Frequency.WEEKLY, until=last)
            return bookings.BookingCommand(
                room_id=room_id,
                title=TITLE,
                start=start,
                end=end,
                recurrence=recurrence,
                house_rules_accepted=True,
                **kw,
            )

        def probe_bench(name: str, kind: str, draw: Callable, body: Callable, **extra) -> None:
            n = _count(kind, quick)
            drawn = iter([draw() for _ in range(n + 5)])
            current: dict = {}

            def setup() -> None:
                db.session.remove()
                current["p"] = next(drawn)

            samples = timed(lambda: body(*current["p"]), n, setup=setup)
            results.append(summarize(name, samples, **extra))

        # (a) conflict check and availability of one room
        def check(room_id, start, end, last=None):
            return bookings.plan_booking(user(), command(room_id, start, end, last), now=now)

        def availability(room_id, start, end):
            day = start.date()
            window = domain.Slot(
                domain.from_local(at(day, 0), zone),
                domain.from_local(at(day + timedelta(days=1), 0), zone),
            )
            room = db.session.get(Room, room_id)
            found = search.room_availability(room, window)
            return [(b.slot.starts_at.isoformat(), b.title) for b in found.busy], [
                (f.starts_at.isoformat(), f.ends_at.isoformat()) for f in found.free
            ]

        probe_bench("a conflict check, 1 room, single 2h slot", "single", probes.single, check)
        probe_bench("a conflict check, 1 room, weekly 2h x 52", "weekly", probes.weekly, check)
        probe_bench(
            "a availability of 1 room (its day), serialised", "single", probes.single, availability
        )

        # (b) free-room search among all rooms: the ids of the free rooms (the service call of
        # the API's search; Indico's figure fetches ids and names), and the same as Room objects
        # with site and features (what the web page lists)
        counts: list[int] = []

        def find(room_id, start, end, last=None):
            query = search.RoomQuery(start=start, end=end, weekly_until=last)
            ids = search.room_ids(query, zone=zone, now=now)
            counts.append(len(ids))
            return ids

        def find_rooms(room_id, start, end, last=None):
            query = search.RoomQuery(start=start, end=end, weekly_until=last)
            return [m.room.name for m in search.search_rooms(query, zone=zone, now=now)]

        probe_bench("b free-room search, 200 rooms, single 2h", "search", probes.single, find)
        single_found = statistics.fmean(counts[5:])
        counts.clear()
        probe_bench(
            "b free-room search, 200 rooms, weekly x 52", "search_weekly", probes.weekly, find
        )
        results[-2]["free_rooms_avg"] = round(single_found, 1)
        results[-1]["free_rooms_avg"] = round(statistics.fmean(counts[5:]), 1)
        probe_bench(
            "b' free-room search as Room objects, single 2h", "search", probes.single, find_rooms
        )
        probe_bench(
            "b' free-room search as Room objects, weekly x 52",
            "search_weekly",
            probes.weekly,
            find_rooms,
        )

        # (c) creating bookings in free slots (found untimed with the service's own check)
        db.session.remove()
        free_single, seen = [], set()
        while len(free_single) < _count("create", quick) + 5:
            room_id, start, _ = probes.single()
            end = start + timedelta(hours=1)
            if (room_id, start) in seen:
                continue
            if not check(room_id, start, end).blocked:
                seen.add((room_id, start))
                free_single.append((room_id, start, end))
        free_weekly, cells = [], set()
        while len(free_weekly) < _count("create_weekly", quick) + 5:
            room_id, start, end, last = probes.weekly()
            end = start + timedelta(hours=1)
            cell = (room_id, start.weekday(), start.hour)
            if cell in cells:
                continue
            plan = check(room_id, start, end, last)
            if plan.bookable:  # dates taken by single bookings are left out, as Indico does
                cells.add(cell)
                free_weekly.append((room_id, start, end, last))
        db.session.remove()

        def create(room_id, start, end, last=None):
            cmd = command(room_id, start, end, last, book_free_dates_only=last is not None)
            bookings.request_booking(user(), cmd, now=now)
            db.session.commit()

        def create_bench(name: str, kind: str, slots: list) -> None:
            drawn = iter(slots)
            current: dict = {}

            def setup() -> None:
                db.session.remove()
                current["p"] = next(drawn)

            samples = timed(lambda: create(*current["p"]), _count(kind, quick), setup=setup)
            per_second = len(samples) / sum(samples)
            results.append(summarize(name, samples, per_second=round(per_second, 1)))

        create_bench("c create + commit, single 1h (free slot)", "create", free_single)
        create_bench("c create + commit, weekly 1h x 52", "create_weekly", free_weekly)
        print(f"   cleanup: deleted {delete_bench_bookings()} benchmark bookings", flush=True)
    return results


# HTTP ------------------------------------------------------------------------------------------


def http_paths(kind: str, n: int, room_ids: list[int]) -> list[str]:
    """Request paths drawn as the Indico script's ``http_urls.py`` draws them (seed 99)."""
    rnd = random.Random(99)
    paths = []
    for _ in range(n):
        day = rnd.choice(WORKDAYS)
        hour = rnd.choice(range(8, 19))
        start, end = at(day, hour), at(day, hour + 2)
        if kind == "search":
            query = {"free_start": f"{start:%Y-%m-%dT%H:%M}", "free_end": f"{end:%Y-%m-%dT%H:%M}"}
            paths.append("/api/v1/rooms?" + urlencode(query | {"limit": 200}))
        else:
            room_id = rnd.choice(room_ids)
            window = {"start": f"{day}T00:00", "end": f"{day + timedelta(days=1)}T00:00"}
            paths.append(f"/api/v1/rooms/{room_id}/availability?" + urlencode(window))
    return paths


def saturday_bodies(n: int, room_ids: list[int], taken: set) -> list[str]:
    """JSON bodies of 1-hour single bookings on free Saturday slots (seed 99)."""
    rnd = random.Random(99)
    saturdays = [
        d for d in (YEAR_START + timedelta(days=i) for i in range(362)) if d.weekday() == 5
    ]
    bodies, used = [], set()
    while len(bodies) < n:
        room_id, day, hour = rnd.choice(room_ids), rnd.choice(saturdays), rnd.choice(range(8, 19))
        if (room_id, day, hour) in used or (room_id, day, hour) in taken:
            continue
        used.add((room_id, day, hour))
        start = at(day, hour)
        bodies.append(
            json.dumps(
                {
                    "room_id": room_id,
                    "title": TITLE,
                    "start": f"{start:%Y-%m-%dT%H:%M:%S}",
                    "end": f"{start + timedelta(hours=1):%Y-%m-%dT%H:%M:%S}",
                    "house_rules_accepted": True,
                }
            )
        )
    return bodies


def _busy_saturday_hours(app) -> set:
    """(room, day, hour) of every Saturday hour that is already taken."""
    from booking.extensions import db

    with app.app_context():
        rows = db.session.execute(
            text(
                "SELECT o.room_id, o.starts_at, o.ends_at FROM occurrence o "
                "WHERE o.status = 'approved'"
            )
        ).all()
        db.session.remove()
    taken = set()
    for room_id, start, end in rows:
        start, end = start.astimezone(gen.ZONE), end.astimezone(gen.ZONE)
        if start.weekday() == 5:
            for hour in range(start.hour, end.hour + (end.minute > 0)):
                taken.add((room_id, start.date(), hour))
    return taken


def _curl(base: str, token: str, paths: list[str], *, body: list[str] | None = None) -> list[float]:
    """Seconds per request as curl measures them (``time_total``), one request at a time."""
    samples = []
    for index, path in enumerate(paths):
        command = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{time_total}"]
        command += ["-H", f"Authorization: Bearer {token}"]
        if body is not None:
            command += ["-H", "Content-Type: application/json", "-X", "POST", "--data", body[index]]
        out = subprocess.run([*command, base + path], capture_output=True, text=True).stdout
        status, seconds = out.split()
        if status not in ("200", "201"):
            raise RuntimeError(f"{path} answered {status}")
        samples.append(float(seconds))
    return samples


def _lua(paths: list[str], target: Path) -> Path:
    target.write_text(
        "local paths = {"
        + ",".join(json.dumps(p) for p in paths)
        + "}\nlocal i = 0\nrequest = function()\n  i = (i % #paths) + 1\n"
        '  return wrk.format("GET", paths[i])\nend\n'
    )
    return target


def over_http(
    app, url: str, quick: bool, *, workers: int, worker_class: str, threads: int, seconds: int
) -> list[dict]:
    from booking.api.tokens import create_token
    from booking.extensions import db
    from booking.models import ApiToken, Room, User

    with app.app_context():
        user = db.session.get(User, 1)
        db.session.execute(delete(ApiToken).where(ApiToken.name == TITLE))
        _, token = create_token(user, TITLE)
        db.session.commit()
        room_ids = list(db.session.scalars(select(Room.id).order_by(Room.id)))
        db.session.remove()
    taken = _busy_saturday_hours(app)
    n = 30 if quick else 300
    results = []
    wrk = ensure_wrk()
    label = f"{workers} {worker_class} workers" + (f" x {threads} threads" if threads > 1 else "")
    production = {"BOOKING_ENV": "production", "SESSION_COOKIE_SECURE": "false"}
    server = gunicorn(url, workers, worker_class=worker_class, threads=threads, env=production)
    with server as (base, master):
        _curl(base, token, http_paths("search", 20, room_ids))  # every worker warmed up
        for kind, name in (("search", "search"), ("availability", "availability of 1 room")):
            samples = _curl(base, token, http_paths(kind, n, room_ids))
            results.append(summarize(f"http curl {name}", samples))
        bodies = saturday_bodies(20 if quick else 200, room_ids, taken)
        samples = _curl(base, token, ["/api/v1/bookings"] * len(bodies), body=bodies)
        results.append(summarize("http curl create single booking (POST)", samples))
        if wrk:
            folder = Path(os.environ.get("TMPDIR", "/tmp"))
            scripts = {
                kind: _lua(http_paths(kind, 500, room_ids), folder / f"peer-{kind}.lua")
                for kind in ("search", "availability")
            }
            for connections in (1, 4):
                for kind, script in scripts.items():
                    found = run_wrk(
                        wrk,
                        base,
                        3 if quick else seconds,
                        connections=connections,
                        threads=1,
                        script=script,
                        headers=(f"Authorization: Bearer {token}",),
                    )
                    name = f"http wrk {kind}, {connections} connection(s), {label}"
                    print(
                        f"{name:62s} {found['rps']:8.1f} req/s p50={found['p50_ms']:.2f} ms "
                        f"p99={found['p99_ms']:.2f} ms errors={found['errors']}",
                        flush=True,
                    )
                    results.append({"name": name} | found)
        rss = worker_peak_rss_mib(master)
        results.append({"name": "gunicorn worker peak RSS (MiB)", "workers_mib": rss})
    with app.app_context():
        print(f"   cleanup: deleted {delete_bench_bookings()} benchmark bookings", flush=True)
        db.session.execute(delete(ApiToken).where(ApiToken.name == TITLE))
        db.session.commit()
        db.session.remove()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Indico peer operations on Raumbörse.")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/raumboerse_bench_peer"
        ),
    )
    parser.add_argument("--generate", action="store_true", help="fill the database first")
    parser.add_argument("--quick", action="store_true", help="few repetitions (a smoke run)")
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--http-only", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="sync", choices=("sync", "gthread"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=20, help="each wrk run")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "peer")
    args = parser.parse_args(argv)
    url = gen._normalise(args.database_url)
    if args.generate:
        if url.startswith("postgresql"):
            gen.ensure_postgres_database(url)
        gen.generate(url, "peer", reset=True)
    if not shutil.which("curl") and not args.no_http:
        parser.error("curl is needed for the HTTP figures")
    app = gen.make_app(url)
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    results = [] if args.http_only else in_process(app, args.quick)
    if not args.no_http:
        results += over_http(
            app,
            url,
            args.quick,
            workers=args.workers,
            worker_class=args.worker_class,
            threads=args.threads,
            seconds=args.seconds,
        )
    meta = {
        "started": started.isoformat(timespec="seconds"),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "quick": args.quick,
        "database": url.split("@")[-1],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    name = "raumboerse" + ("_quick" if args.quick else "") + ".json"
    (args.out / name).write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    print(f"wrote {args.out / name}; load average {meta['load_before']} -> {meta['load_after']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
