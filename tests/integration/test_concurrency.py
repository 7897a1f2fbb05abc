"""No room is ever given twice, even when requests race each other.

Twenty threads, each with its own database connection and session, wait at a barrier and then
request the same slot at the same moment. Exactly one may win; every other one must get the
conflict error. On SQLite the write lock taken before the check serialises them; on PostgreSQL
the exclusion constraint rejects the losers that passed the check concurrently.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from booking.extensions import db as _db
from booking.models import Occupancy, Occurrence, OccurrenceStatus, User
from booking.services import bookings as svc
from booking.services.errors import Conflict

RACERS = 20
NOW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
START = datetime(2026, 10, 6, 18)


def race(app, user_ids: list[int], room_ids: list[int]) -> list[str]:
    barrier = threading.Barrier(len(user_ids))
    outcomes: list[str] = [""] * len(user_ids)

    def attempt(i: int) -> None:
        with app.app_context():
            user = _db.session.get(User, user_ids[i])
            command = svc.BookingCommand(
                room_id=room_ids[i % len(room_ids)],
                title=f"Racer {i}",
                start=START,
                end=START + timedelta(hours=2),
                house_rules_accepted=True,
            )
            barrier.wait(timeout=60)
            try:
                svc.request_booking(user, command, now=NOW)
                _db.session.commit()
                outcomes[i] = "booked"
            except Conflict:
                _db.session.rollback()
                outcomes[i] = "conflict"
            except Exception as exc:  # any other outcome is a failure worth seeing
                _db.session.rollback()
                outcomes[i] = f"error: {exc!r}"
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(user_ids))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


@pytest.mark.parametrize("divisible", [False, True], ids=["one-room", "hall-and-parts"])
def test_twenty_concurrent_requests_give_the_slot_once(app, db, make_room, make_user, divisible):
    room = make_room()
    rooms = [room]
    if divisible:
        rooms += [make_room(room.site, name=f"Teil {c}", parent=room) for c in "ABC"]
        # Racers ask for the whole hall or one of its parts: all of them overlap the whole.
        rooms = [room, rooms[1]]
    user_ids = [make_user().id for _ in range(RACERS)]
    room_ids = [r.id for r in rooms]
    db.session.commit()

    outcomes = race(app, user_ids, room_ids)

    assert outcomes.count("booked") == 1, outcomes
    assert outcomes.count("conflict") == RACERS - 1, outcomes
    approved = db.session.scalar(
        select(func.count(Occurrence.id)).where(Occurrence.status == OccurrenceStatus.APPROVED)
    )
    assert approved == 1
    # Occupancy rows of the winner only (one per unit it occupies), none left by the losers.
    occurrence_ids = set(db.session.scalars(select(Occupancy.occurrence_id)))
    assert len(occurrence_ids) == 1
