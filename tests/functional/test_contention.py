"""Racing requests through gunicorn's worker processes: a lost race is a 409, never a 500.

Four worker processes, each with its own connection pool, as in production. On PostgreSQL two
transactions that insert overlapping occupancy rows can deadlock; on SQLite a writer can find
the database locked. Both are retried (``booking/unit_of_work.py``), so every client gets the
answer its request deserves: one booking, the rest conflicts.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta

from booking.api.tokens import create_token
from tests.functional.served import call, gunicorn

RACERS = 50
READERS = 96


def _together(count: int, attempt) -> list:
    """Run ``attempt(i)`` in ``count`` threads released at the same moment."""
    barrier = threading.Barrier(count)
    outcomes: list = [None] * count

    def run(i: int) -> None:
        barrier.wait(timeout=60)
        try:
            outcomes[i] = attempt(i)
        except Exception as exc:  # a dropped connection is an outcome worth seeing
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return outcomes


def _statuses(outcomes: list) -> list:
    return [o.status if hasattr(o, "status") else repr(o) for o in outcomes]


def test_fifty_racers_through_four_workers_get_one_booking_and_409s(
    app, db, database_url, make_room, make_user
):
    hall = make_room(name="Halle")
    parts = [make_room(hall.site, name=f"Teil {c}", parent=hall) for c in "ABC"]
    # Racers ask for the whole hall or its first part: every request overlaps every other.
    targets = [hall.id, parts[0].id]
    tokens = [create_token(make_user(), "race")[1] for _ in range(RACERS)]
    db.session.commit()
    first = datetime.combine(date.today() + timedelta(days=14), time(18))

    def book(i: int):
        # Eight weeks of the hall (three occupancy rows a date) or of a part (one row): the
        # rows overlap in different orders, which is what can deadlock on PostgreSQL.
        body = {
            "room_id": targets[i % 2],
            "title": f"Racer {i}",
            "start": first.isoformat(timespec="minutes"),
            "end": (first + timedelta(hours=2)).isoformat(timespec="minutes"),
            "recurrence": {"freq": "weekly", "count": 8},
            "house_rules_accepted": True,
        }
        headers = {"Authorization": f"Bearer {tokens[i]}"}
        return call(port, "POST", "/api/v1/bookings", body=body, headers=headers)

    with gunicorn(database_url, workers=4) as port:
        outcomes = _together(RACERS, book)

    statuses = _statuses(outcomes)
    assert statuses.count(201) == 1, statuses
    assert statuses.count(409) == RACERS - 1, statuses


def test_concurrent_reads_with_one_token_never_fail(app, db, database_url, make_room, make_user):
    room_id = make_room().id
    _token, plain = create_token(make_user(), "reader")
    db.session.commit()
    headers = {"Authorization": f"Bearer {plain}"}

    with gunicorn(database_url, workers=4) as port:
        outcomes = _together(
            READERS, lambda i: call(port, "GET", f"/api/v1/rooms/{room_id}", headers=headers)
        )

    statuses = _statuses(outcomes)
    assert statuses.count(200) == READERS, statuses
