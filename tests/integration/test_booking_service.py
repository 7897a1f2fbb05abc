"""The booking services against a real database: rules, statuses, permissions, atomicity."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from booking.domain import Frequency, Reason, Recurrence
from booking.models import (
    ApprovalPolicy,
    AuditEvent,
    Booking,
    Closure,
    Occupancy,
    Occurrence,
    OccurrenceStatus,
)
from booking.services import bookings as svc
from booking.services.errors import (
    Conflict,
    InvalidRequest,
    InvalidTransition,
    NotFound,
    NotPermitted,
)

NOW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
BERLIN_SUMMER = timedelta(hours=2)
BERLIN_WINTER = timedelta(hours=1)


def command(room, start, minutes=60, **kwargs) -> svc.BookingCommand:
    return svc.BookingCommand(
        room_id=room.id,
        title=kwargs.pop("title", "Chorprobe"),
        start=start,
        end=start + timedelta(minutes=minutes),
        house_rules_accepted=kwargs.pop("house_rules_accepted", True),
        **kwargs,
    )


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def member(make_user, make_organisation):
    organisation = make_organisation()
    return make_user(organisations=[organisation]), organisation


def test_automatic_room_approves_and_occupies(db, make_room, member):
    user, organisation = member
    room = make_room()
    booking = svc.request_booking(
        user, command(room, datetime(2026, 10, 6, 18), organisation_id=organisation.id), now=NOW
    )
    db.session.commit()
    [occurrence] = booking.occurrences
    assert occurrence.status is OccurrenceStatus.APPROVED
    # 18:00 Berlin in October (CEST) is 16:00 UTC
    assert occurrence.starts_at == datetime(2026, 10, 6, 16, tzinfo=UTC)
    assert count(db, Occupancy) == 1
    assert db.session.scalar(select(AuditEvent.action)) == "requested"


def test_manual_room_waits_for_the_manager(db, make_room, make_user, member):
    user, _organisation = member
    room = make_room(approval_policy=ApprovalPolicy.MANUAL)
    manager = make_user(manages=[room.site])
    booking = svc.request_booking(user, command(room, datetime(2026, 10, 6, 18)), now=NOW)
    db.session.commit()
    assert [o.status for o in booking.occurrences] == [OccurrenceStatus.PENDING]
    assert count(db, Occupancy) == 0  # a request does not block the room yet

    with pytest.raises(NotPermitted):
        svc.approve(user, booking.id, now=NOW)
    svc.approve(manager, booking.id, comment="Gern!", now=NOW)
    db.session.commit()
    assert booking.occurrences[0].status is OccurrenceStatus.APPROVED
    assert booking.occurrences[0].status_reason == "Gern!"
    assert booking.occurrences[0].sequence == 1
    assert count(db, Occupancy) == 1
    with pytest.raises(InvalidTransition):
        svc.approve(manager, booking.id, now=NOW)


def test_trusted_policy_depends_on_the_organisation(db, make_room, make_user, make_organisation):
    trusted, untrusted = make_organisation(trusted=True), make_organisation()
    room = make_room(approval_policy=ApprovalPolicy.TRUSTED)
    a = make_user(organisations=[trusted])
    b = make_user(organisations=[untrusted])
    first = svc.request_booking(
        a, command(room, datetime(2026, 10, 6, 18), organisation_id=trusted.id), now=NOW
    )
    second = svc.request_booking(
        b, command(room, datetime(2026, 10, 7, 18), organisation_id=untrusted.id), now=NOW
    )
    assert first.occurrences[0].status is OccurrenceStatus.APPROVED
    assert second.occurrences[0].status is OccurrenceStatus.PENDING


def test_site_manager_booking_is_approved_at_once(db, make_room, make_user):
    room = make_room(approval_policy=ApprovalPolicy.MANUAL)
    manager = make_user(manages=[room.site])
    booking = svc.request_booking(manager, command(room, datetime(2026, 10, 6, 18)), now=NOW)
    assert booking.occurrences[0].status is OccurrenceStatus.APPROVED


def test_overlap_is_a_conflict_and_writes_nothing(db, make_room, make_user):
    room = make_room()
    first = make_user()
    svc.request_booking(first, command(room, datetime(2026, 10, 6, 18), 120), now=NOW)
    db.session.commit()
    before = (count(db, Booking), count(db, Occurrence), count(db, Occupancy))
    with pytest.raises(Conflict) as raised:
        svc.request_booking(make_user(), command(room, datetime(2026, 10, 6, 19)), now=NOW)
    db.session.rollback()
    assert raised.value.dates[0].reasons == ["taken"]
    assert (count(db, Booking), count(db, Occurrence), count(db, Occupancy)) == before


def test_buffers_keep_cleaning_time_free(db, make_room, make_user):
    room = make_room(buffer_after_minutes=15)
    user = make_user()
    svc.request_booking(user, command(room, datetime(2026, 10, 6, 18)), now=NOW)
    with pytest.raises(Conflict):
        svc.request_booking(user, command(room, datetime(2026, 10, 6, 19)), now=NOW)
    svc.request_booking(user, command(room, datetime(2026, 10, 6, 19, 15)), now=NOW)


def test_divisible_hall_whole_and_parts_block_each_other(db, make_room, make_user):
    hall = make_room(name="Dreifachhalle")
    thirds = [make_room(hall.site, name=f"Teil {c}", parent=hall) for c in "ABC"]
    user = make_user()
    db.session.commit()
    monday, tuesday = datetime(2026, 10, 5, 18), datetime(2026, 10, 6, 18)
    # Two different thirds at the same time are fine...
    svc.request_booking(user, command(thirds[0], monday), now=NOW)
    svc.request_booking(user, command(thirds[1], monday), now=NOW)
    db.session.commit()
    # ...but then the whole hall is not free,
    with pytest.raises(Conflict):
        svc.request_booking(user, command(hall, monday), now=NOW)
    db.session.rollback()
    # and once the whole hall is booked, no third is.
    svc.request_booking(user, command(hall, tuesday), now=NOW)
    db.session.commit()
    for third in thirds:
        with pytest.raises(Conflict):
            svc.request_booking(user, command(third, tuesday), now=NOW)
        db.session.rollback()


def test_weekly_series_keeps_local_time_across_dst(db, make_room, make_user):
    room = make_room()
    rule = Recurrence(Frequency.WEEKLY, byweekday=(1,), until=date(2026, 11, 3))
    booking = svc.request_booking(
        make_user(), command(room, datetime(2026, 10, 13, 18), 120, recurrence=rule), now=NOW
    )
    starts = [o.starts_at for o in booking.occurrences]
    assert starts == [
        datetime(2026, 10, 13, 18, tzinfo=UTC) - BERLIN_SUMMER,
        datetime(2026, 10, 20, 18, tzinfo=UTC) - BERLIN_SUMMER,
        # 25 October 2026: clocks go back; 18:00 stays 18:00 local
        datetime(2026, 10, 27, 18, tzinfo=UTC) - BERLIN_WINTER,
        datetime(2026, 11, 3, 18, tzinfo=UTC) - BERLIN_WINTER,
    ]
    assert booking.rrule == "FREQ=WEEKLY;BYDAY=TU;UNTIL=20261103"


def test_series_with_a_taken_date_is_refused_or_booked_in_part(db, make_room, make_user):
    room = make_room()
    other, user = make_user(), make_user()
    svc.request_booking(other, command(room, datetime(2026, 10, 20, 18)), now=NOW)
    db.session.commit()
    rule = Recurrence(Frequency.WEEKLY, count=4)
    cmd = command(room, datetime(2026, 10, 13, 18), recurrence=rule)
    with pytest.raises(Conflict) as raised:
        svc.request_booking(user, cmd, now=NOW)
    assert [d.bookable for d in raised.value.dates] == [True, False, True, True]
    db.session.rollback()

    cmd = command(room, datetime(2026, 10, 13, 18), recurrence=rule, book_free_dates_only=True)
    booking = svc.request_booking(user, cmd, now=NOW)
    assert len(booking.occurrences) == 3


def test_series_skips_school_holidays(db, make_room, make_user):
    room = make_room()
    db.session.add(
        Closure(
            site_id=room.site_id,
            starts_at=datetime(2026, 10, 16, 22, tzinfo=UTC),  # Herbstferien NRW 2026
            ends_at=datetime(2026, 10, 31, 23, tzinfo=UTC),
            reason="Herbstferien",
        )
    )
    rule = Recurrence(Frequency.WEEKLY, until=date(2026, 11, 10), skip_closures=True)
    plan = svc.plan_booking(
        make_user(), command(room, datetime(2026, 10, 13, 18), recurrence=rule), now=NOW
    )
    assert [d.local_start.date() for d in plan.dates] == [
        date(2026, 10, 13),
        date(2026, 11, 3),
        date(2026, 11, 10),
    ]
    assert [(s.day, s.reason) for s in plan.skipped] == [
        (date(2026, 10, 20), "closed"),
        (date(2026, 10, 27), "closed"),
    ]


def test_closed_and_outside_hours_and_too_many_people_are_reported(db, make_room, make_user):
    room = make_room(capacity=10, hours=[(1, 16 * 60, 22 * 60)])  # Tuesdays 16-22
    db.session.add(
        Closure(
            site_id=room.site_id,
            starts_at=datetime(2026, 10, 20, 0, tzinfo=UTC),
            ends_at=datetime(2026, 10, 21, 0, tzinfo=UTC),
            reason="Renovierung",
        )
    )
    user = make_user()
    plan = svc.plan_booking(user, command(room, datetime(2026, 10, 20, 12), attendees=20), now=NOW)
    assert set(plan.dates[0].reasons) == {"closed", "outside_opening_hours", "over_capacity"}
    closed = next(p for p in plan.dates[0].problems if p.reason is Reason.CLOSED)
    assert closed.label == "Renovierung"


def test_time_rules(db, make_room, make_user):
    room = make_room(min_lead_minutes=48 * 60, max_advance_days=30, min_duration_minutes=60)
    user = make_user()
    reasons = {
        datetime(2026, 8, 31, 18): "in_past",
        datetime(2026, 9, 2, 18): "too_short_notice",
        datetime(2026, 12, 1, 18): "too_far_ahead",
    }
    for start, reason in reasons.items():
        plan = svc.plan_booking(user, command(room, start), now=NOW)
        assert reason in plan.dates[0].reasons
    plan = svc.plan_booking(user, command(room, datetime(2026, 9, 10, 18), 30), now=NOW)
    assert plan.dates[0].reasons == ["too_short"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 100_000}, "title"),
        ({"attendees": 0}, "attendees"),
        ({"description": "y" * 6000}, "description"),
    ],
)
def test_never_valid_input_names_the_field(db, make_room, make_user, changes, field):
    room = make_room()
    cmd = command(room, datetime(2026, 10, 6, 18), **changes)
    with pytest.raises(InvalidRequest) as raised:
        svc.request_booking(make_user(), cmd, now=NOW)
    assert raised.value.field == field


def test_end_before_start_and_oversized_series(db, make_room, make_user):
    room = make_room()
    user = make_user()
    with pytest.raises(InvalidRequest) as raised:
        svc.request_booking(user, command(room, datetime(2026, 10, 6, 18), -30), now=NOW)
    assert raised.value.field == "end"
    rule = Recurrence(Frequency.DAILY, count=10_000)
    with pytest.raises(InvalidRequest) as raised:
        svc.request_booking(
            user, command(room, datetime(2026, 10, 6, 18), recurrence=rule), now=NOW
        )
    assert raised.value.field.startswith("recurrence.")
    assert count(db, Booking) == 0


def test_house_rules_must_be_accepted(db, make_room, make_user):
    room = make_room(house_rules="Hallenschuhe tragen.")
    cmd = command(room, datetime(2026, 10, 6, 18), house_rules_accepted=False)
    with pytest.raises(InvalidRequest) as raised:
        svc.request_booking(make_user(), cmd, now=NOW)
    assert raised.value.field == "house_rules_accepted"
    booking = svc.request_booking(make_user(), command(room, datetime(2026, 10, 6, 18)), now=NOW)
    assert booking.house_rules_accepted_at == NOW


def test_only_members_book_for_an_organisation(db, make_room, make_user, make_organisation):
    room = make_room()
    organisation = make_organisation()
    cmd = command(room, datetime(2026, 10, 6, 18), organisation_id=organisation.id)
    with pytest.raises(NotPermitted):
        svc.request_booking(make_user(), cmd, now=NOW)


def test_strangers_cannot_see_or_cancel(db, make_room, make_user, member):
    user, organisation = member
    colleague = make_user(organisations=[organisation])
    room = make_room()
    booking = svc.request_booking(
        user, command(room, datetime(2026, 10, 6, 18), organisation_id=organisation.id), now=NOW
    )
    db.session.commit()
    with pytest.raises(NotFound):
        svc.get_booking(make_user(), booking.id)
    with pytest.raises(NotFound):
        svc.cancel(make_user(), booking.id, now=NOW)
    # a member of the same organisation may cancel
    svc.cancel(colleague, booking.id, reason="Krank", now=NOW)
    assert booking.occurrences[0].status is OccurrenceStatus.CANCELLED


def test_decline_needs_a_reason_and_frees_the_slot(db, make_room, make_user):
    room = make_room()
    manager = make_user(manages=[room.site])
    user = make_user()
    booking = svc.request_booking(user, command(room, datetime(2026, 10, 6, 18)), now=NOW)
    with pytest.raises(InvalidRequest) as raised:
        svc.decline(manager, booking.id, "   ", now=NOW)
    assert raised.value.field == "reason"
    svc.decline(manager, booking.id, "Schulfest", now=NOW)
    assert booking.occurrences[0].status is OccurrenceStatus.DECLINED
    assert booking.occurrences[0].status_reason == "Schulfest"
    assert count(db, Occupancy) == 0
    svc.request_booking(make_user(), command(room, datetime(2026, 10, 6, 18)), now=NOW)


def test_approve_part_of_a_series_and_decline_the_rest(db, make_room, make_user):
    room = make_room(approval_policy=ApprovalPolicy.MANUAL)
    manager = make_user(manages=[room.site])
    rule = Recurrence(Frequency.WEEKLY, count=3)
    booking = svc.request_booking(
        make_user(), command(room, datetime(2026, 10, 6, 18), recurrence=rule), now=NOW
    )
    first, second, third = booking.occurrences
    svc.approve(manager, booking.id, [first.id, third.id], now=NOW)
    svc.decline(manager, booking.id, "Elternabend", [second.id], now=NOW)
    assert [o.status.value for o in booking.occurrences] == ["approved", "declined", "approved"]
    with pytest.raises(InvalidTransition):
        svc.approve(manager, booking.id, [second.id], now=NOW)
    with pytest.raises(InvalidRequest) as raised:
        svc.approve(manager, booking.id, [999_999], now=NOW)
    assert raised.value.field == "occurrence_ids"


def test_approving_into_a_taken_slot_is_a_conflict(db, make_room, make_user):
    room = make_room(approval_policy=ApprovalPolicy.MANUAL)
    manager = make_user(manages=[room.site])
    a = svc.request_booking(make_user(), command(room, datetime(2026, 10, 6, 18)), now=NOW)
    b = svc.request_booking(make_user(), command(room, datetime(2026, 10, 6, 18, 30)), now=NOW)
    db.session.commit()
    svc.approve(manager, a.id, now=NOW)
    db.session.commit()
    with pytest.raises(Conflict):
        svc.approve(manager, b.id, now=NOW)
    db.session.rollback()
    assert db.session.get(Occurrence, b.occurrences[0].id).status is OccurrenceStatus.PENDING


def test_cancel_one_date_and_past_dates_stay(db, make_room, make_user):
    room = make_room()
    user = make_user()
    rule = Recurrence(Frequency.WEEKLY, count=3)
    booking = svc.request_booking(
        user, command(room, datetime(2026, 10, 6, 18), recurrence=rule), now=NOW
    )
    svc.cancel(user, booking.id, [booking.occurrences[1].id], now=NOW)
    assert [o.status.value for o in booking.occurrences] == ["approved", "cancelled", "approved"]
    with pytest.raises(InvalidTransition):
        svc.cancel(user, booking.id, [booking.occurrences[1].id], now=NOW)
    later = datetime(2026, 10, 14, tzinfo=UTC)  # the first date is over
    with pytest.raises(InvalidTransition):
        svc.cancel(user, booking.id, [booking.occurrences[0].id], now=later)
    svc.cancel(user, booking.id, now=later)  # "the whole series" means what is still ahead
    assert [o.status.value for o in booking.occurrences] == ["approved", "cancelled", "cancelled"]


def test_change_series_times_keeps_single_cancellations(db, make_room, make_user):
    room = make_room()
    user = make_user()
    rule = Recurrence(Frequency.WEEKLY, count=4)
    booking = svc.request_booking(
        user, command(room, datetime(2026, 10, 6, 18), recurrence=rule), now=NOW
    )
    svc.cancel(user, booking.id, [booking.occurrences[2].id], now=NOW)
    svc.change_series(
        user,
        booking.id,
        from_date=date(2026, 10, 13),
        start_time=time(19),
        end_time=time(20, 30),
        now=NOW,
    )
    db.session.commit()
    local = [(o.starts_at + BERLIN_SUMMER).time() for o in booking.occurrences[:3]]
    assert local == [time(18), time(19), time(18)]  # the cancelled date was not moved
    assert booking.occurrences[2].status is OccurrenceStatus.CANCELLED
    assert booking.occurrences[3].starts_at == datetime(2026, 10, 27, 18, tzinfo=UTC)  # 19 CET
    assert count(db, Occupancy) == 3


def test_change_into_a_conflict_changes_nothing(db, make_room, make_user):
    room = make_room()
    user = make_user()
    svc.request_booking(make_user(), command(room, datetime(2026, 10, 13, 19)), now=NOW)
    rule = Recurrence(Frequency.WEEKLY, count=2)
    booking = svc.request_booking(
        user, command(room, datetime(2026, 10, 6, 18), recurrence=rule), now=NOW
    )
    db.session.commit()
    with pytest.raises(Conflict):
        svc.change_series(
            user,
            booking.id,
            from_date=date(2026, 10, 1),
            start_time=time(19),
            end_time=time(20),
            now=NOW,
        )
    db.session.rollback()
    starts = [o.starts_at.hour for o in db.session.get(Booking, booking.id).occurrences]
    assert starts == [16, 16]


def test_move_one_date_to_another_room(db, make_room, make_user):
    room = make_room()
    other_room = make_room(room.site)
    user = make_user()
    rule = Recurrence(Frequency.WEEKLY, count=2)
    booking = svc.request_booking(
        user, command(room, datetime(2026, 10, 6, 18), recurrence=rule), now=NOW
    )
    moved = booking.occurrences[1]
    svc.move_occurrence(
        user,
        moved.id,
        datetime(2026, 10, 14, 17),
        datetime(2026, 10, 14, 18),
        room_id=other_room.id,
        now=NOW,
    )
    db.session.commit()
    assert moved.room_id == other_room.id
    assert moved.sequence == 1
    units = db.session.scalars(
        select(Occupancy.unit_id).where(Occupancy.occurrence_id == moved.id)
    ).all()
    assert units == [other_room.id]


def test_a_long_earlier_booking_still_blocks(db, make_room, make_user):
    room = make_room(max_duration_minutes=14 * 24 * 60)
    user = make_user()
    svc.request_booking(user, command(room, datetime(2026, 10, 1, 8), 13 * 24 * 60), now=NOW)
    db.session.commit()
    with pytest.raises(Conflict):
        svc.request_booking(user, command(room, datetime(2026, 10, 13, 18)), now=NOW)


def test_dates_longer_than_two_weeks_and_day_long_buffers_are_refused(db, make_room, make_user):
    room = make_room()
    user = make_user()
    booking = svc.request_booking(user, command(room, datetime(2026, 10, 6, 18)), now=NOW)
    with pytest.raises(InvalidRequest) as raised:
        svc.move_occurrence(
            user,
            booking.occurrences[0].id,
            datetime(2026, 10, 6, 18),
            datetime(2026, 10, 30, 18),
            now=NOW,
        )
    assert raised.value.field == "end"
    with pytest.raises(ValueError, match="buffer_after_minutes"):
        room.buffer_after_minutes = 2 * 24 * 60


def test_approve_and_decline_rivals_takes_whole_and_parts_into_account(db, make_room, make_user):
    hall = make_room(name="Dreifachhalle", approval_policy=ApprovalPolicy.MANUAL)
    third = make_room(hall.site, name="Teil A", parent=hall, approval_policy=ApprovalPolicy.MANUAL)
    other = make_room(hall.site, name="Teil B", parent=hall, approval_policy=ApprovalPolicy.MANUAL)
    manager = make_user(manages=[hall.site])
    db.session.commit()
    at = datetime(2026, 10, 6, 18)
    chosen = svc.request_booking(make_user(), command(third, at), now=NOW)
    whole = svc.request_booking(make_user(), command(hall, at + timedelta(minutes=30)), now=NOW)
    beside = svc.request_booking(make_user(), command(other, at), now=NOW)  # another third
    later = svc.request_booking(make_user(), command(third, at + timedelta(hours=1)), now=NOW)
    db.session.commit()

    assert svc.rivals_to_decline(manager, chosen.id, now=NOW) == whole.occurrences
    decision = svc.approve_and_decline_rivals(
        manager, chosen.id, comment="", rival_reason="Vergeben", now=NOW
    )
    db.session.commit()
    assert decision.declined_rivals == tuple(whole.occurrences)
    assert chosen.occurrences[0].status is OccurrenceStatus.APPROVED
    assert whole.occurrences[0].status is OccurrenceStatus.DECLINED
    assert whole.occurrences[0].status_reason == "Vergeben"
    assert beside.occurrences[0].status is OccurrenceStatus.PENDING
    assert later.occurrences[0].status is OccurrenceStatus.PENDING  # back to back, no overlap
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["approved", "declined"]


def test_approve_and_decline_rivals_is_all_or_nothing(db, make_room, make_user):
    room = make_room(approval_policy=ApprovalPolicy.MANUAL)
    manager = make_user(manages=[room.site])
    at = datetime(2026, 10, 6, 18)
    first = svc.request_booking(make_user(), command(room, at), now=NOW)
    second = svc.request_booking(make_user(), command(room, at + timedelta(minutes=30)), now=NOW)
    rival = svc.request_booking(make_user(), command(room, at + timedelta(minutes=60)), now=NOW)
    db.session.commit()
    # The rival's time must be explained to its requester.
    with pytest.raises(InvalidRequest) as raised:
        svc.approve_and_decline_rivals(manager, second.id, rival_reason=" ", now=NOW)
    assert raised.value.field == "rival_reason"
    # Approved without declining rivals (as the API does): the second request is now blocked.
    svc.approve(manager, first.id, now=NOW)
    db.session.commit()
    audits = count(db, AuditEvent)
    with pytest.raises(Conflict):
        svc.approve_and_decline_rivals(manager, second.id, rival_reason="Vergeben", now=NOW)
    db.session.commit()  # a redirect with a message commits: nothing of the refusal is left
    db.session.expire_all()
    assert db.session.get(Occurrence, rival.occurrences[0].id).status is OccurrenceStatus.PENDING
    assert db.session.get(Occurrence, second.occurrences[0].id).status is OccurrenceStatus.PENDING
    assert count(db, AuditEvent) == audits


def test_approve_and_decline_rivals_needs_the_site_and_leaves_other_sites(db, make_room, make_user):
    room = make_room(approval_policy=ApprovalPolicy.MANUAL)
    elsewhere = make_room(approval_policy=ApprovalPolicy.MANUAL)
    manager = make_user(manages=[room.site])
    at = datetime(2026, 10, 6, 18)
    mine = svc.request_booking(make_user(), command(room, at), now=NOW)
    theirs = svc.request_booking(make_user(), command(elsewhere, at), now=NOW)
    db.session.commit()
    with pytest.raises(NotFound):
        svc.approve_and_decline_rivals(manager, theirs.id, rival_reason="x", now=NOW)
    decision = svc.approve_and_decline_rivals(manager, mine.id, now=NOW)  # no rival: no reason
    assert decision.declined_rivals == ()
    assert theirs.occurrences[0].status is OccurrenceStatus.PENDING
