"""Text and list fixes of #12: number agreement, one "When" on the search form, no stray
separators, past times not "free", English in 24-hour time and day-month dates, long lists paged.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from booking import domain
from booking.models import ApprovalPolicy

BERLIN = ZoneInfo("Europe/Berlin")
EN = {"Accept-Language": "en"}
DE = {"Accept-Language": "de"}


def next_monday(weeks_ahead: int = 2) -> date:
    today = date.today()
    return today + timedelta(days=7 - today.weekday() + 7 * (weeks_ahead - 1))


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)


def soon(days: int, hour: int = 18) -> datetime:
    return at(date.today() + timedelta(days=days), hour)


def weekly_preview(client, room, first: date) -> str:
    response = client.post(
        f"/rooms/{room.id}/book",
        data={
            "date": first.isoformat(),
            "start": "18:00",
            "end": "20:00",
            "title": "Chorprobe",
            "attendees": "12",
            "organisation": "",
            "repeat": "weekly",
            "limit": "count",
            "count": "4",
            "house_rules_accepted": "y",
            "preview": "y",
        },
    )
    assert response.status_code == 200, response.text
    return response.text


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_preview_counts_blocked_dates_in_the_right_number(
    client, db, make_user, make_room, make_booking, login_as
):
    admin = make_user(is_admin=True)
    room = make_room(approval_policy=ApprovalPolicy.MANUAL)
    first = next_monday()
    make_booking(admin, room, at(first + timedelta(weeks=1), 18), 60)
    login_as(make_user(language="en"))

    one = text_of(weekly_preview(client, room, first))
    assert "3 of 4 dates are free. 1 date cannot be booked (marked below)." in one

    make_booking(admin, room, at(first + timedelta(weeks=3), 18), 60)
    two = text_of(weekly_preview(client, room, first))
    assert "2 of 4 dates are free. 2 dates cannot be booked (marked below)." in two

    make_booking(admin, room, at(first + timedelta(weeks=2), 18), 60)
    three = text_of(weekly_preview(client, room, first))
    assert "1 of 4 dates is free. 3 dates cannot be booked (marked below)." in three


def test_a_rival_from_a_private_person_is_not_named_in_the_wrong_case(
    client, db, make_user, make_room, make_organisation, make_booking, login_as
):
    room = make_room(name="Aula", approval_policy=ApprovalPolicy.MANUAL)
    manager = make_user(manages=[room.site], language="en")
    choir = make_organisation(name="Kammerchor")
    start = soon(9)
    make_booking(
        make_user(organisations=[choir]), room, start, title="Probe", organisation_id=choir.id
    )
    make_booking(make_user(), room, start, title="Lesung")
    login_as(manager)

    english = text_of(client.get("/manage/requests").text)
    assert "Also requested by a private person: “Lesung”" in english
    assert "Also requested by Kammerchor: “Probe”" in english
    manager.language = "de"
    db.session.commit()
    german = text_of(client.get("/manage/requests", headers=DE).text)
    # "von" takes the dative: the article is never glued to the name in the nominative.
    assert "von eine Privatperson" not in german


def test_the_search_form_says_when_and_equipment_once(client, db):
    html = client.get("/", headers=EN).text
    start = html.index('<form method="get"')
    form = html[start : html.index("</form>", start)]
    assert re.findall(r"<legend>\s*When\s*</legend>", form) == ["<legend>When</legend>"]
    assert len(re.findall(r">\s*When\s*<", form)) == 1
    # The date-or-weekday radios belong to the "When" group itself, not to a group inside it.
    when = form[form.index("<legend>When</legend>") :]
    radio = re.search(r'<input[^>]*name="mode"', when)
    assert radio and "<fieldset" not in when[: radio.start()]
    assert len(re.findall(r">\s*Equipment(\s*\(\d+\))?\s*<", form)) == 1
    assert re.search(r'role="group"[^>]*aria-labelledby="features-label"', form)
    assert 'id="features-label"' in form


def test_the_site_contact_has_no_stray_separator(client, db, make_site, make_room):
    site = make_site(contact_email="hausmeister@example.org", contact_phone="02371 123")
    make_room(site)
    html = client.get(f"/sites/{site.id}", headers=EN).text
    contact = re.search(r'<p class="contact">(.*?)</p>', html, re.S).group(1)
    assert text_of(contact).strip() == "hausmeister@example.org · 02371 123"

    only_name = make_site(contact_name="Frau Schulte")
    html = client.get(f"/sites/{only_name.id}", headers=EN).text
    contact = re.search(r'<p class="contact">(.*?)</p>', html, re.S).group(1)
    assert text_of(contact).strip() == "Frau Schulte"


def test_past_days_of_the_room_week_are_over_not_free(client, db, make_room):
    room = make_room()  # open at any time: every day of the week has a free time
    last_week = date.today() - timedelta(days=7)
    year, week, _ = last_week.isocalendar()
    html = client.get(f"/rooms/{room.id}?week={year}-W{week:02d}", headers=EN).text
    days = html[html.index('<ol class="days">') :]
    assert 'class="slot free"' not in days
    assert ">free<" not in days
    assert days.count('class="slot past"') == 7
    assert "/book?" not in days  # nothing in the past can be booked

    this_week = client.get(f"/rooms/{room.id}", headers=EN).text
    for item in re.findall(
        r'<li class="day past">(.*?)</li>\s*(?=<li class="day|</ol>)', this_week, re.S
    ):
        assert 'class="slot free"' not in item
    today = this_week[this_week.index('class="day today"') :]
    today = today[: today.index('<li class="day') if '<li class="day' in today else None]
    now = datetime.now(BERLIN)
    for start in re.findall(r'class="slot free"><span class="slot-time">(\d\d:\d\d)', today):
        hour, minute = map(int, start.split(":"))
        assert (hour, minute) >= (now.hour, now.minute) or (hour, minute) == (0, 0)


def test_english_pages_use_24_hour_times_and_day_month_dates(
    client, db, make_user, make_room, login_as
):
    room = make_room()
    login_as(make_user(language="en"))
    first = date(2027, 3, 1)  # a Monday
    html = text_of(weekly_preview(client, room, first))
    assert "Monday, 1 March 2027" in html
    assert "18:00–20:00" in html
    assert "PM" not in html and "March 1" not in html


def test_offers_are_paged(client, db, make_room, make_user, make_booking):
    make_booking(
        make_user(),
        make_room(),
        soon(1),
        title="Sprachcafé",
        is_public=True,
        recurrence=domain.Recurrence(domain.Frequency.DAILY, count=23),
    )
    first = client.get("/offers", headers=EN).text
    assert first.count('class="offer"') == 20
    assert "Page 1 of 2" in first and 'rel="next" href="/offers?page=2"' in first
    second = client.get("/offers?page=2", headers=EN).text
    assert second.count('class="offer"') == 3
    beyond = client.get("/offers?page=99", headers=EN).text  # an old link: the last page
    assert beyond.count('class="offer"') == 3 and "Page 2 of 2" in beyond


def test_my_bookings_are_grouped_and_paged(
    client, db, make_user, make_room, make_booking, login_as
):
    me = make_user(language="en")
    room = make_room()
    for n in range(12):
        make_booking(me, room, soon(n + 2), title=f"Upcoming {n:02d}")
    for n in range(3):
        make_booking(me, room, datetime(2026, 3, 2 + n, 17, tzinfo=UTC), title=f"Past {n}")
    login_as(me)

    first = client.get("/my/bookings").text
    coming = first[first.index('id="current-title"') : first.index('id="earlier-title"')]
    assert "Coming up" in coming and "(12)" in coming
    assert [int(n) for n in re.findall(r">Upcoming (\d\d)<", coming)] == list(range(10))
    assert "Page 1 of 2" in coming
    assert 'href="/my/bookings?page=2#current-title"' in coming
    earlier = first[first.index('id="earlier-title"') :]
    assert "(3)" in earlier and earlier.count(">Past ") == 3
    assert "Page 1 of" not in earlier  # three fit on one page

    second = client.get("/my/bookings?page=2").text
    assert re.findall(r">Upcoming (\d\d)<", second) == ["10", "11"]
    assert second.count(">Past ") == 3  # the history stays on its own page


def test_the_dashboard_lists_a_few_requests_and_links_to_all(
    client, db, make_user, make_room, make_booking, login_as
):
    room = make_room(name="Aula", approval_policy=ApprovalPolicy.MANUAL)
    manager = make_user(manages=[room.site], language="en")
    for n in range(8):
        make_booking(make_user(), room, soon(n + 3), title=f"Anfrage {n}")
    login_as(manager)

    html = client.get("/manage").text
    waiting = html[html.index('id="waiting-title"') : html.index("</section>")]
    listed = re.findall(r">Anfrage (\d)<", waiting)
    assert listed == ["0", "1", "2", "3", "4"]  # the oldest first, five of them
    assert "and 3 more requests" in text_of(waiting)
    assert 'href="/manage/requests"' in waiting
    assert "Answer all 8 requests" in waiting
