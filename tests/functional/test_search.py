"""Room search on the home page: free rooms ranked by fit, and alternatives."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
EN = {"Accept-Language": "en"}


def a_day(weeks: int = 2) -> date:
    today = date.today()
    return today + timedelta(days=7 - today.weekday() + 7 * (weeks - 1) + 1)  # a Tuesday


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)


def result_names(html: str) -> list[str]:
    section = html.split('id="results-title"', 1)[1].split('id="places-title"', 1)[0]
    if 'class="room-list"' not in section:
        return []
    listing = section.split('class="room-list"', 1)[1].split("</ol>", 1)[0]
    return re.findall(r'<h3><a href="/rooms/\d+">(.*?)</a></h3>', listing)


def search(client, day: date, **params):
    query = {"mode": "date", "date": day.isoformat(), "start": "18:00", "end": "20:00"}
    query.update(params)
    return client.get("/", query_string=query, headers=EN)


def test_search_form_is_on_the_home_page(client, db):
    html = client.get("/", headers=EN).text
    assert 'role="search"' in html
    for name in ("date", "start", "end", "people", "district", "step_free", "features"):
        assert f'name="{name}"' in html


def test_free_rooms_ranked_by_fit_with_their_facts(
    client, db, make_site, make_room, make_user, make_booking
):
    site = make_site(name="Bürgerhaus", district="Hennen")
    make_room(site, name="Big hall", capacity=200, step_free=True)
    make_room(site, name="Seminar", capacity=25, features=["projector"])
    make_room(site, name="Tiny", capacity=6)
    taken = make_room(site, name="Taken room", capacity=30)
    day = a_day()
    make_booking(make_user(), taken, at(day, 17), 120)
    html = search(client, day, people="20").text
    assert result_names(html) == ["Seminar", "Big hall"]
    assert "Hennen" in html
    assert "up to 25 people" in html
    assert "Projector" in html
    assert "step-free" in html
    assert f"/rooms/{taken.id}" not in html.split('id="places-title"')[0]
    assert f"date={day.isoformat()}" in html and "start=18:00" in html  # the Book link


def test_filters_by_district_features_and_step_free(client, db, make_site, make_room):
    north, south = make_site(district="Letmathe"), make_site(district="Hennen")
    make_room(north, name="North piano", features=["piano"], step_free=True)
    make_room(north, name="North plain", step_free=True)
    make_room(south, name="South piano", features=["piano"], step_free=True)
    make_room(north, name="North stairs", features=["piano"])
    html = search(client, a_day(), district="Letmathe", features="piano", step_free="y").text
    assert result_names(html) == ["North piano"]


def test_weekly_search_needs_every_week_free(
    client, db, make_site, make_room, make_user, make_booking
):
    site = make_site()
    make_room(site, name="Always free")
    busy = make_room(site, name="Busy in week three")
    first = a_day(1)
    make_booking(make_user(), busy, at(first + timedelta(weeks=3), 18), 60)
    html = client.get(
        "/",
        query_string={
            "mode": "weekly",
            "weekday": str(first.weekday()),
            "weeks": "6",
            "start": "18:00",
            "end": "20:00",
        },
        headers=EN,
    ).text
    assert result_names(html) == ["Always free"]
    assert "repeat=weekly" in html


def test_nothing_fits_shows_other_times_and_similar_rooms(
    client, db, make_site, make_room, make_user, make_booking
):
    site = make_site(district="Hennen")
    wanted = make_room(site, name="Music room", features=["piano"], capacity=20)
    make_room(site, name="Plain room", capacity=25)
    make_room(make_site(district="Letmathe"), name="Far piano", features=["piano"])
    day = a_day()
    make_booking(make_user(), wanted, at(day, 17), 180)
    html = search(client, day, district="Hennen", features="piano", people="15").text
    assert result_names(html) == []
    assert "No room fits exactly" in html
    others = html.split("The same rooms at other times")[1].split("Similar rooms")[0]
    assert "Music room" in others
    assert "20:00" in others  # right after the booking that day
    similar = html.split("Similar rooms at your time")[1]
    assert "Plain room" in similar and "without: Piano" in similar
    assert "Far piano" in similar and "in another district" in similar


def test_bad_search_input_is_marked_on_the_fields(client, db):
    response = client.get(
        "/", query_string={"mode": "date", "date": "", "start": "20:00", "end": "18:00"}, headers=EN
    )
    assert response.status_code == 422
    html = response.text
    assert 'id="date-error"' in html
    assert 'id="end-error"' in html
    assert 'value="20:00"' in html  # what was typed stays
    response = client.get(
        "/",
        query_string={
            "mode": "date",
            "date": "soon",
            "start": "18:00",
            "end": "20:00",
            "people": "0",
        },
        headers=EN,
    )
    assert response.status_code == 422
    assert 'id="people-error"' in response.text


def test_a_date_in_the_past_is_refused(client, db, make_room):
    make_room()
    yesterday = date.today() - timedelta(days=2)
    response = search(client, yesterday)
    assert response.status_code == 422
    assert "from today on" in response.text
    assert 'id="results-title"' not in response.text


def test_weekly_result_link_carries_the_series_to_the_form(
    client, db, make_room, login_as, make_user
):
    room = make_room()
    login_as(make_user(language="en"))
    html = client.get(
        "/",
        query_string={
            "mode": "weekly",
            "weekday": "2",
            "weeks": "4",
            "start": "17:00",
            "end": "18:00",
        },
        headers=EN,
    ).text
    link = re.search(rf'href="(/rooms/{room.id}/book\?[^"]+)"', html).group(1).replace("&amp;", "&")
    form = client.get(link).text
    assert (
        'value="weekly" checked' in form
        or 'checked value="weekly"' in form
        or re.search(
            r'<input[^>]*checked[^>]*value="weekly"|<input[^>]*value="weekly"[^>]*checked', form
        )
    )
    assert 'value="17:00"' in form
