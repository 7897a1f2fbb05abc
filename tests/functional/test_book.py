"""The booking form: preview with marks, confirmation, errors next to fields, nothing lost."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from booking.models import ApprovalPolicy, Booking, Closure, Occurrence, OccurrenceStatus

BERLIN = ZoneInfo("Europe/Berlin")


def next_monday(weeks_ahead: int = 2) -> date:
    today = date.today()
    return today + timedelta(days=7 - today.weekday() + 7 * (weeks_ahead - 1))


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)


def booking_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Booking))


def form_data(first: date, **overrides) -> dict:
    data = {
        "date": first.isoformat(),
        "start": "18:00",
        "end": "20:00",
        "title": "Chorprobe",
        "description": "Offene Probe für Neue",
        "attendees": "12",
        "organisation": "",
        "repeat": "weekly",
        "limit": "count",
        "count": "4",
        "house_rules_accepted": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def requester(make_user, login_as):
    return login_as(make_user(language="en", name="Rita Requester"))


@pytest.fixture
def manager(make_user):
    """Books straight away (approved), whatever the room's policy."""
    return make_user(language="en", is_admin=True)


def error_of(html: str, field: str) -> str:
    match = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', html, re.S)
    assert match, f"no error shown for {field}"
    return re.sub(r"<[^>]+>", "", match.group(1))


def test_booking_needs_a_login(client, make_room):
    room = make_room()
    response = client.get(f"/rooms/{room.id}/book")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_unknown_or_inactive_room_is_404(client, requester, make_room):
    room = make_room(active=False)
    assert client.get(f"/rooms/{room.id}/book").status_code == 404
    assert client.get("/rooms/999999/book").status_code == 404


def test_search_link_prefills_the_form(client, requester, make_room):
    room = make_room()
    html = client.get(
        f"/rooms/{room.id}/book?date=2027-03-02&start=18:00&end=19:30&people=14"
    ).get_data(as_text=True)
    assert 'value="2027-03-02"' in html
    assert 'value="18:00"' in html
    assert 'value="19:30"' in html
    assert 'value="14"' in html


def test_preview_marks_the_conflicting_date_and_writes_nothing(
    client, db, requester, manager, make_room, make_booking
):
    room = make_room(approval_policy=ApprovalPolicy.MANUAL)
    first = next_monday()
    make_booking(manager, room, local(first + timedelta(weeks=2), 18, 30), 60, title="Secret")
    before = booking_count(db)

    response = client.post(f"/rooms/{room.id}/book", data=form_data(first, preview="y"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count('class="blocked"') == 1
    assert html.count('class="free"') == 3
    assert "Already booked at this time" in html
    assert "Secret" not in html  # other people's bookings stay private
    assert "Book the 3 free dates" in html
    assert "The managers of the site will check your request." in html
    assert booking_count(db) == before


def test_booking_blocked_dates_needs_explicit_confirmation(
    client, db, requester, manager, make_room, make_booking
):
    room = make_room(approval_policy=ApprovalPolicy.MANUAL)
    first = next_monday()
    make_booking(manager, room, local(first + timedelta(weeks=1), 17, 0), 120)
    before = booking_count(db)
    preview = client.post(f"/rooms/{room.id}/book", data=form_data(first, preview="y"))
    fingerprint = re.search(r'name="previewed" type="hidden" value="(\w+)"', preview.text)
    assert fingerprint, preview.text

    refused = client.post(
        f"/rooms/{room.id}/book",
        data=form_data(first, book="y", previewed=fingerprint.group(1)),
    )
    assert refused.status_code == 409
    assert "Tick this box" in error_of(refused.text, "book_free_dates_only")
    assert booking_count(db) == before
    assert 'value="Chorprobe"' in refused.text  # nothing typed is lost
    assert "Offene Probe für Neue" in refused.text

    done = client.post(
        f"/rooms/{room.id}/book",
        data=form_data(first, book="y", previewed=fingerprint.group(1), book_free_dates_only="y"),
    )
    assert done.status_code == 302
    booking = db.session.scalars(select(Booking).where(Booking.title == "Chorprobe")).one()
    assert [o.status for o in booking.occurrences] == [OccurrenceStatus.PENDING] * 3
    assert booking.requested_by_id == requester.id
    assert booking.house_rules_accepted_at is not None
    page = client.get(done.headers["Location"])
    assert "Status: waiting for approval." in page.text
    assert "What happens next?" in page.text
    assert f"/bookings/{booking.id}.ics" in page.text


def test_all_free_dates_book_directly_and_say_approved(client, db, requester, make_room):
    room = make_room(approval_policy=ApprovalPolicy.AUTOMATIC)
    first = next_monday()
    preview = client.post(f"/rooms/{room.id}/book", data=form_data(first, preview="y"))
    assert "All 4 dates are free." in preview.text
    assert "Book these 4 dates" in preview.text
    fingerprint = re.search(r'name="previewed" type="hidden" value="(\w+)"', preview.text)
    done = client.post(
        f"/rooms/{room.id}/book",
        data=form_data(first, book="y", previewed=fingerprint.group(1)),
        follow_redirects=True,
    )
    assert "Your booking is confirmed" in done.text
    occurrences = db.session.scalars(select(Occurrence)).all()
    assert len(occurrences) == 4
    assert {o.status for o in occurrences} == {OccurrenceStatus.APPROVED}
    assert [o.starts_at.astimezone(BERLIN).date() for o in occurrences] == [
        first + timedelta(weeks=i) for i in range(4)
    ]


def test_book_without_preview_of_these_details_shows_the_preview(client, db, requester, make_room):
    room = make_room()
    response = client.post(
        f"/rooms/{room.id}/book", data=form_data(first := next_monday(), book="y", previewed="")
    )
    assert response.status_code == 200
    assert "Your dates" in response.text
    assert booking_count(db) == 0
    preview = client.post(f"/rooms/{room.id}/book", data=form_data(first, preview="y"))
    fingerprint = re.search(r'name="previewed" type="hidden" value="(\w+)"', preview.text)
    changed = client.post(
        f"/rooms/{room.id}/book",
        data=form_data(first, start="19:00", book="y", previewed=fingerprint.group(1)),
    )
    assert "You changed the details" in changed.text
    assert booking_count(db) == 0


def test_shape_errors_are_next_to_their_fields_and_input_is_kept(client, db, requester, make_room):
    room = make_room()
    response = client.post(
        f"/rooms/{room.id}/book",
        data=form_data(next_monday(), title="", start="", attendees="many", preview="y"),
    )
    assert response.status_code == 422
    html = response.text
    assert error_of(html, "title")
    assert error_of(html, "start")
    assert error_of(html, "attendees")
    assert 'href="#title"' in html  # the error summary links to the field
    assert 'aria-invalid="true"' in html
    assert "Offene Probe für Neue" in html
    assert booking_count(db) == 0


def test_end_before_start_is_marked_on_end(client, db, requester, make_room):
    room = make_room()
    response = client.post(
        f"/rooms/{room.id}/book",
        data=form_data(next_monday(), start="20:00", end="18:00", preview="y"),
    )
    assert response.status_code == 422
    assert "end must be after the start" in error_of(response.text, "end")


def test_series_without_an_end_asks_for_one(client, requester, make_room):
    room = make_room()
    response = client.post(
        f"/rooms/{room.id}/book", data=form_data(next_monday(), count="", preview="y")
    )
    assert response.status_code == 422
    assert "number of dates" in error_of(response.text, "count")


def test_house_rules_must_be_confirmed(client, db, requester, make_room):
    room = make_room(house_rules="Bitte Stühle hochstellen.")
    db.session.commit()
    first = next_monday()
    preview = client.post(
        f"/rooms/{room.id}/book", data=form_data(first, preview="y", house_rules_accepted=None)
    )
    assert "Bitte Stühle hochstellen." in preview.text
    fingerprint = re.search(r'name="previewed" type="hidden" value="(\w+)"', preview.text)
    response = client.post(
        f"/rooms/{room.id}/book",
        data=form_data(first, book="y", previewed=fingerprint.group(1), house_rules_accepted=None),
    )
    assert response.status_code == 422
    assert "house rules" in error_of(response.text, "house_rules_accepted")
    assert booking_count(db) == 0


def test_reasons_are_friendly_texts(client, db, requester, make_room, make_site):
    site = make_site()
    room = make_room(site, capacity=10, hours=[(d, 8 * 60, 19 * 60) for d in range(7)])
    first = next_monday()
    db.session.add(
        Closure(
            site_id=site.id,
            starts_at=local(first + timedelta(weeks=1), 0).astimezone(UTC),
            ends_at=local(first + timedelta(weeks=1, days=1), 0).astimezone(UTC),
            reason="Weihnachtsferien",
        )
    )
    db.session.commit()
    response = client.post(
        f"/rooms/{room.id}/book",
        data=form_data(first, attendees="25", skip_closures=None, preview="y"),
    )
    html = response.text
    assert "Too many people for this room" in html
    assert "Outside the opening hours" in html
    assert "The room is closed (Weihnachtsferien)" in html
    assert "None of the dates can be booked" in html
    assert "Book the" not in html  # no way to book nothing


def test_skipped_holidays_are_listed(client, db, requester, make_room, make_site):
    site = make_site()
    room = make_room(site)
    first = next_monday()
    db.session.add(
        Closure(
            site_id=site.id,
            starts_at=local(first + timedelta(weeks=1), 0).astimezone(UTC),
            ends_at=local(first + timedelta(weeks=1, days=1), 0).astimezone(UTC),
            reason="Osterferien",
        )
    )
    db.session.commit()
    response = client.post(
        f"/rooms/{room.id}/book", data=form_data(first, skip_closures="y", preview="y")
    )
    assert "Skipped: closed (Osterferien)" in response.text
    assert response.text.count('class="free"') == 3


def test_monthly_on_the_nth_weekday(client, db, requester, make_room):
    room = make_room()
    first = date(date.today().year + 1, 3, 1)
    first += timedelta(days=(1 - first.weekday()) % 7 + 7)  # the second Tuesday of March
    preview = client.post(
        f"/rooms/{room.id}/book",
        data=form_data(first, repeat="monthly", position="", count="3", preview="y"),
    )
    assert preview.status_code == 200
    fingerprint = re.search(r'name="previewed" type="hidden" value="(\w+)"', preview.text)
    client.post(
        f"/rooms/{room.id}/book",
        data=form_data(
            first,
            repeat="monthly",
            position="",
            count="3",
            book="y",
            previewed=fingerprint.group(1),
        ),
    )
    days = [o.starts_at.astimezone(BERLIN).date() for o in db.session.scalars(select(Occurrence))]
    assert len(days) == 3
    assert all(d.weekday() == 1 and 8 <= d.day <= 14 for d in days)


def test_only_own_organisations_can_be_chosen(
    client, db, make_user, login_as, make_room, make_organisation
):
    mine, theirs = make_organisation(name="TuS"), make_organisation(name="Fremder Verein")
    login_as(make_user(language="en", organisations=[mine]))
    room = make_room()
    form = client.get(f"/rooms/{room.id}/book").text
    assert "TuS" in form
    assert "Fremder Verein" not in form
    response = client.post(
        f"/rooms/{room.id}/book",
        data=form_data(next_monday(), organisation=str(theirs.id), preview="y"),
    )
    assert response.status_code == 422
    assert error_of(response.text, "organisation")
    ok = client.post(
        f"/rooms/{room.id}/book",
        data=form_data(next_monday(), organisation=str(mine.id), preview="y"),
    )
    assert ok.status_code == 200


def test_series_rule_problems_are_marked_on_their_fields(client, db, requester, make_room):
    room = make_room()
    db.session.commit()
    first = next_monday()
    response = client.post(
        f"/rooms/{room.id}/book",
        data=form_data(
            first,
            limit="until",
            count="",
            until=(first - timedelta(days=3)).isoformat(),
            preview="y",
        ),
    )
    assert response.status_code == 422
    assert "before the first date" in error_of(response.text, "until")
    response = client.post(
        f"/rooms/{room.id}/book",
        data=form_data(first, repeat="biweekly", count="900", preview="y"),
    )
    assert response.status_code == 422
    assert error_of(response.text, "count")
    assert booking_count(db) == 0
