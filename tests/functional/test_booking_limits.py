"""The room's limits stand next to the booking form's fields they concern, and breaking one is
an error on that field (422), besides the preview's row (#12)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from booking.models import Booking


def in_days(days: int) -> date:
    return date.today() + timedelta(days=days)


def form_data(first: date, **overrides) -> dict:
    data = {
        "date": first.isoformat(),
        "start": "18:00",
        "end": "20:00",
        "title": "Chorprobe",
        "attendees": "8",
        "organisation": "",
        "repeat": "none",
        "limit": "until",
        "house_rules_accepted": "y",
        "preview": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def clean(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", html))).strip()


def hint_of(html: str, field: str) -> str:
    match = re.search(rf'<p class="[^"]*\bhint\b[^"]*" id="{field}-hint">(.*?)</p>', html, re.S)
    assert match, f"no hint next to {field}"
    described = re.search(rf'<[^>]*id="{field}"[^>]*>', html).group(0)
    assert f"{field}-hint" in described, f"{field} is not described by its hint"
    return clean(match.group(1))


def error_of(html: str, field: str) -> str:
    match = re.search(
        rf'<p class="[^"]*\bfield-error\b[^"]*" id="{field}-error">(.*?)</p>', html, re.S
    )
    assert match, f"no error shown next to {field}"
    control = re.search(rf'<[^>]*id="{field}"[^>]*>', html).group(0)
    assert f"{field}-error" in control and 'aria-invalid="true"' in control
    return clean(match.group(1))


@pytest.fixture
def requester(make_user, login_as):
    return login_as(make_user(language="en"))


@pytest.fixture
def strict_room(make_room):
    return make_room(
        capacity=10,
        min_lead_minutes=2 * 24 * 60,
        max_advance_days=56,
        min_duration_minutes=60,
        max_duration_minutes=180,
        hours=[(d, 8 * 60, 21 * 60) for d in range(5)] + [(5, 10 * 60, 14 * 60)],
    )


def booking_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Booking))


def test_the_limits_stand_next_to_their_fields(client, requester, strict_room):
    html = client.get(f"/rooms/{strict_room.id}/book").text
    assert hint_of(html, "attendees") == "This room holds up to 10 people."
    date_hint = hint_of(html, "date")
    assert "Book at least 2 days ahead." in date_hint
    assert "at most 8 weeks ahead" in date_hint
    assert hint_of(html, "start") == (
        "Opening hours: Monday–Friday 08:00–21:00; Saturday 10:00–14:00; Sunday closed."
    )
    assert hint_of(html, "end") == "A booking lasts at least 1 hour and at most 3 hours."


def test_a_room_with_few_limits_has_few_hints(client, requester, make_room):
    room = make_room(capacity=40, max_advance_days=400)
    html = client.get(f"/rooms/{room.id}/book").text
    assert hint_of(html, "attendees") == "This room holds up to 40 people."
    assert hint_of(html, "date").startswith("Dates can be booked at most 400 days ahead")
    assert 'id="start-hint"' not in html  # open at any time: nothing to say


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"attendees": "25"}, "attendees", "This room holds at most 10 people."),
        ({"days": 1}, "date", "This room must be booked at least 2 days ahead."),
        ({"days": 70}, "date", "This room can be booked at most 8 weeks ahead"),
        ({"end": "18:30"}, "end", "A booking of this room lasts at least 1 hour."),
        (
            {"start": "17:00", "end": "20:30"},
            "end",
            "A booking of this room lasts at most 3 hours.",
        ),
        ({"start": "20:00", "end": "22:00"}, "start", "20:00–22:00 is outside the opening hours."),
    ],
)
def test_a_broken_limit_is_an_error_on_its_field(
    client, db, requester, strict_room, overrides, field, message
):
    first = in_days(overrides.pop("days", 14))
    while first.weekday() > 4:  # a weekday: open 08:00-21:00
        first += timedelta(days=1)
    response = client.post(f"/rooms/{strict_room.id}/book", data=form_data(first, **overrides))
    assert response.status_code == 422
    assert message in error_of(response.text, field)
    assert 'id="error-summary"' in response.text  # and listed at the top, linked to the field
    assert f'href="#{field}"' in response.text
    assert 'class="blocked"' in response.text  # the preview still shows the date and why
    assert booking_count(db) == 0


def test_later_dates_too_far_ahead_are_marked_on_the_series_end(client, db, requester, strict_room):
    first = in_days(14)
    while first.weekday() != 1:
        first += timedelta(days=1)
    data = form_data(first, repeat="weekly", limit="count", count="10")
    response = client.post(f"/rooms/{strict_room.id}/book", data=data)
    assert response.status_code == 422
    message = error_of(response.text, "count")
    assert re.search(r"The last \d dates are more than 8 weeks ahead", message)
    assert "date-error" not in response.text
    # The free dates can still be booked, the others left out, after the user agrees.
    assert "Book the" in response.text


def test_within_the_limits_the_preview_is_fine(client, requester, strict_room):
    first = in_days(14)
    while first.weekday() > 4:
        first += timedelta(days=1)
    response = client.post(f"/rooms/{strict_room.id}/book", data=form_data(first))
    assert response.status_code == 200
    assert "field-error" not in response.text
