"""The weekly search skips the weeks a room is closed (school holidays), as the booking form
does, lists rooms free on most dates after those free on all, and runs until a date, the
summer holidays or the end of the school half-year (#12)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest

from booking.models import Closure
from booking.services import school_calendar

BERLIN = ZoneInfo("Europe/Berlin")
EN = {"Accept-Language": "en"}


def first_tuesday() -> date:
    """The first Tuesday the weekly search looks at (today, if today is a Tuesday)."""
    today = datetime.now(BERLIN).date()
    return today + timedelta(days=(1 - today.weekday()) % 7)


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def cards(html: str, list_class: str) -> list[str]:
    """The text of each room card of one result list ("room-list" or "room-list partial-list")."""
    found = re.search(rf'<ol class="{list_class}"[^>]*>(.*?)</ol>', html, re.S)
    if not found:
        return []
    return [text(card) for card in found.group(1).split('<li class="room-card">')[1:]]


def names(html: str, list_class: str) -> list[str]:
    found = re.search(rf'<ol class="{list_class}"[^>]*>(.*?)</ol>', html, re.S)
    if not found:
        return []
    return re.findall(r'<h[34]><a href="/rooms/\d+">(.*?)</a></h[34]>', found.group(1))


def weekly(client, **params):
    query = {
        "mode": "weekly",
        "weekday": "1",
        "weekly_end": "weeks",
        "weeks": "9",
        "start": "18:00",
        "end": "20:00",
        "skip_closures": "y",
    }
    query.update(params)
    return client.get(
        "/", query_string={k: v for k, v in query.items() if v is not None}, headers=EN
    )


def close_weeks(db, site, first: date, weeks: list[int], reason: str = "Weihnachtsferien"):
    """Close the site from Monday to Sunday of the given weeks after ``first``."""
    for week in weeks:
        monday = first + timedelta(weeks=week) - timedelta(days=first.weekday())
        db.session.add(
            Closure(
                site_id=site.id,
                starts_at=at(monday, 0).astimezone(UTC),
                ends_at=at(monday + timedelta(days=7), 0).astimezone(UTC),
                reason=reason,
            )
        )
    db.session.commit()


@pytest.fixture
def school(db, make_site, make_room):
    """The issue's case: the Forum of a school, closed in two holiday weeks, else free."""
    site = make_site(name="Gesamtschule", district="Letmathe")
    forum = make_room(site, name="Forum", capacity=120)
    close_weeks(db, site, first_tuesday(), [3, 4])
    return forum


def test_school_room_free_but_for_two_holiday_weeks_is_listed(client, db, school):
    response = weekly(client)
    assert response.status_code == 200
    assert names(response.text, "room-list") == ["Forum"]
    (card,) = cards(response.text, "room-list")
    assert "free on 7 of 7 dates, 2 holiday weeks skipped" in card
    # The option is on, shown on the form, and said in the results.
    assert re.search(
        r'<input[^>]*checked[^>]*name="skip_closures"|<input[^>]*name="skip_closures"[^>]*checked',
        response.text,
    )
    assert "are skipped" in text(response.text)
    # The booking form it links to skips them too (its default), for the same series.
    assert "repeat=weekly" in response.text and "skip_closures=0" not in response.text


def test_option_off_restores_the_strict_search(client, db, school):
    html = weekly(client, skip_closures=None).text
    assert names(html, "room-list") == []
    assert "Forum" not in " ".join(names(html, "room-list"))
    # Closed weeks now count as dates that are not free: 7 of 9 is most, so it is offered.
    (card,) = cards(html, "room-list partial-list")
    assert "Forum" in card and "free on 7 of 9 dates" in card and "skipped" not in card
    assert not re.search(r'name="skip_closures"[^>]*checked', html)
    assert "skip_closures=0" in html  # the booking form keeps the choice


def test_option_is_on_by_default_and_for_links_without_it(client, db, school):
    home = client.get("/", headers=EN).text
    assert re.search(
        r'<input[^>]*checked[^>]*name="skip_closures"|name="skip_closures"[^>]*checked', home
    )
    assert "Skip school holidays and closures" in home
    # An older link (no "until when", no box): skipping is the default.
    html = client.get(
        "/",
        query_string={
            "mode": "weekly",
            "weekday": "1",
            "weeks": "9",
            "start": "18:00",
            "end": "20:00",
        },
        headers=EN,
    ).text
    assert names(html, "room-list") == ["Forum"]


def test_partly_free_rooms_come_after_the_free_ones_with_their_count(
    client, db, school, make_site, make_room, make_user, make_booking
):
    site = make_site(name="Bürgerhaus", district="Hennen")
    free = make_room(site, name="Saal", capacity=60)
    mostly = make_room(site, name="Clubraum", capacity=25)
    half = make_room(site, name="Keller", capacity=25)
    first = first_tuesday()
    user = make_user()
    make_booking(user, mostly, at(first + timedelta(weeks=2), 18), 60)
    make_booking(user, mostly, at(first + timedelta(weeks=5), 19), 60)
    for week in range(5):  # 4 of 9 free: not most
        make_booking(user, half, at(first + timedelta(weeks=week), 18), 120)
    html = weekly(client).text
    assert set(names(html, "room-list")) == {"Forum", "Saal"}
    assert names(html, "room-list partial-list") == ["Clubraum"]
    (card,) = cards(html, "room-list partial-list")
    assert "free on 7 of 9 dates" in card
    assert "Free on most of the dates" in html
    position = html.index
    assert position("Saal") < position("Free on most of the dates") < position("Clubraum")
    assert "Keller" not in html.split('id="places-title"')[0]
    assert f"/rooms/{free.id}/book" in html


def test_partly_free_rooms_are_offered_when_none_is_free_on_all(
    client, db, school, make_user, make_booking
):
    make_booking(make_user(), school, at(first_tuesday() + timedelta(weeks=1), 18), 60)
    html = weekly(client).text
    assert names(html, "room-list") == []
    assert "0 free rooms" in html
    (card,) = cards(html, "room-list partial-list")
    assert "free on 6 of 7 dates, 2 holiday weeks skipped" in card


def test_until_a_date(client, db, school):
    first = first_tuesday()
    last = first + timedelta(weeks=5)
    html = weekly(client, weekly_end="date", until=last.isoformat(), weeks=None).text
    (card,) = cards(html, "room-list")
    assert "free on 4 of 4 dates, 2 holiday weeks skipped" in card
    assert f"until={last.isoformat()}" in html


def test_until_a_date_needs_the_date_and_after_the_first(client, db, school):
    response = weekly(client, weekly_end="date", until="")
    assert response.status_code == 422
    assert re.search(r'id="until-error">.*?Please give the last date', response.text, re.S)
    earlier = first_tuesday() - timedelta(days=3)
    response = weekly(client, weekly_end="date", until=earlier.isoformat())
    assert response.status_code == 422
    assert re.search(r'id="until-error">.*?before the first date', response.text, re.S)


def test_until_the_summer_holidays_and_the_end_of_the_half_year(client, db, school):
    first = first_tuesday()
    for choice, expected in (
        ("summer", school_calendar.until_summer_holidays(first)),
        ("half_year", school_calendar.end_of_half_year(first)),
    ):
        response = weekly(client, weekly_end=choice, weeks=None)
        if response.status_code == 422:  # past the shipped calendar: said next to the choice
            assert "school holiday calendar only reaches until" in response.text
            continue
        assert response.status_code == 200
        assert f"until={expected.isoformat()}" in response.text
        weeks = (expected - first).days // 7 + 1
        (card,) = cards(response.text, "room-list")
        assert f"free on {weeks - 2} of {weeks - 2} dates, 2 holiday weeks skipped" in card


@pytest.mark.parametrize(
    ("first", "summer", "half_year"),
    [
        (date(2026, 11, 30), date(2027, 7, 18), date(2027, 1, 31)),  # first half of 2026/27
        (date(2027, 1, 31), date(2027, 7, 18), date(2027, 1, 31)),
        (date(2027, 2, 1), date(2027, 7, 18), date(2027, 7, 18)),  # second half
        (date(2027, 7, 20), None, date(2028, 1, 31)),  # in the summer holidays: next first half
        (date(2027, 9, 7), None, date(2028, 1, 31)),
    ],
)
def test_school_year_rules(first, summer, half_year):
    if summer is None:
        with pytest.raises(Exception, match="only reaches until"):
            school_calendar.until_summer_holidays(first)
    else:
        assert school_calendar.until_summer_holidays(first) == summer
    assert school_calendar.end_of_half_year(first) == half_year


def test_past_the_calendar_is_an_error_next_to_the_choice(client, db):
    from booking.services.errors import InvalidRequest

    with pytest.raises(InvalidRequest) as caught:
        school_calendar.end_of_half_year(date(2028, 3, 1), field="weekly_end")
    assert caught.value.field == "weekly_end"


def test_the_book_link_carries_the_choice_to_the_booking_form(
    client, db, school, make_user, login_as
):
    login_as(make_user(language="en"))
    for skip, ticked in ((None, False), ("y", True)):
        html = weekly(client, skip_closures=skip).text
        link = re.search(rf'href="(/rooms/{school.id}/book\?[^"]*)"', html).group(1)
        form = client.get(unescape(link)).text
        box = re.search(r'<input[^>]*name="skip_closures"[^>]*>', form).group(0)
        assert ("checked" in box) is ticked


def test_the_weekly_search_costs_the_same_statements_for_more_rooms(
    db, school, make_site, make_room, make_user, make_booking
):
    """Counted per room in a fixed number of statements: closures, occupancy and the rooms
    listed, whatever the number of rooms, closures and bookings."""
    from sqlalchemy import event

    from booking.extensions import db as _db
    from booking.services.search import RoomQuery, search_weekly

    first = first_tuesday()
    query = RoomQuery(
        start=datetime.combine(first, datetime.min.time()).replace(hour=18),
        end=datetime.combine(first, datetime.min.time()).replace(hour=20),
        weekly_until=first + timedelta(weeks=8),
        skip_closures=True,
    )

    def statements() -> tuple[int, int, int]:
        count = 0

        def counter(*args):
            nonlocal count
            count += 1

        search_weekly(query, zone=BERLIN)  # the catalogue is read once and cached
        _db.session.expire_all()
        event.listen(_db.engine, "before_cursor_execute", counter)
        try:
            found = search_weekly(query, zone=BERLIN)
        finally:
            event.remove(_db.engine, "before_cursor_execute", counter)
        return count, len(found.matches), len(found.partial)

    few, full, partial = statements()
    assert (full, partial) == (1, 0)
    user = make_user()
    for n in range(6):
        site = make_site(name=f"Schule {n}")
        close_weeks(db, site, first, [1, 2])
        room = make_room(site, name=f"Raum {n}")
        make_booking(user, room, at(first + timedelta(weeks=n % 3 + 3), 18), 60)
        make_room(site, name=f"Frei {n}")
    db.session.commit()
    many, full, partial = statements()
    assert (full, partial) == (7, 6)
    assert many == few
