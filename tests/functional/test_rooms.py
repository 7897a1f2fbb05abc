"""Site and room pages: facts, house rules, opening hours and a privacy-safe week calendar."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from booking.models import OpeningWindow

BERLIN = ZoneInfo("Europe/Berlin")
EN = {"Accept-Language": "en"}


def monday(weeks_ahead: int = 1) -> date:
    today = date.today()
    return today - timedelta(days=today.weekday()) + timedelta(weeks=weeks_ahead)


def iso(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)


def test_room_page_shows_the_facts(client, db, make_site, make_room):
    site = make_site(name="Stadtbücherei", district="Innenstadt")
    room = make_room(
        site,
        name="Lesesaal",
        capacity=40,
        step_free=True,
        hearing_loop=True,
        features=["projector", "wifi"],
        house_rules="Keine Speisen im Saal.",
        hours=[(0, 9 * 60, 18 * 60)],
    )
    db.session.commit()
    html = client.get(f"/rooms/{room.id}", headers=EN).text
    for text in (
        "Lesesaal",
        "Stadtbücherei",
        "Innenstadt",
        "up to 40 people",
        "Projector",
        "Wi-Fi",
        "step-free access",
        "hearing loop",
        "Keine Speisen im Saal.",
        "09:00–18:00",
        f"/rooms/{room.id}/book",
    ):
        assert text in html, text


def test_week_calendar_hides_private_bookings(
    client, db, make_room, make_user, make_booking, make_organisation
):
    room = make_room()
    club = make_organisation(name="Sprachcafé e.V.")
    member = make_user(organisations=[club])
    week = monday(2)
    make_booking(make_user(), room, at(week, 10), 60, title="Private therapy group")
    make_booking(
        member,
        room,
        at(week + timedelta(days=2), 18),
        90,
        title="Language café",
        is_public=True,
        organisation_id=club.id,
    )
    html = client.get(f"/rooms/{room.id}?week={iso(week)}", headers=EN).text
    assert "Private therapy group" not in html
    assert "occupied" in html
    assert "10:00" in html and "11:00" in html
    assert "Language café" in html and "Sprachcafé e.V." in html
    assert f"week={iso(week - timedelta(weeks=1))}" in html
    assert f"week={iso(week + timedelta(weeks=1))}" in html
    other_week = client.get(f"/rooms/{room.id}?week={iso(week + timedelta(weeks=1))}").text
    assert "Language café" not in other_week


def test_free_times_and_closed_days(client, db, make_site, make_room):
    site = make_site()
    room = make_room(site, hours=[(0, 16 * 60, 22 * 60)])
    db.session.commit()
    html = client.get(f"/rooms/{room.id}?week={iso(monday(1))}", headers=EN).text
    assert "16:00–22:00" in html
    assert html.count("Not bookable on this day.") == 6
    # A free time links to the booking form with two hours of it filled in.
    assert (
        f"/rooms/{room.id}/book?date={monday(1).isoformat()}&amp;start=16:00&amp;end=18:00" in html
    )


def test_bad_week_and_unknown_or_inactive_room(client, db, make_room, make_site):
    room = make_room()
    assert client.get(f"/rooms/{room.id}?week=2026-W99", headers=EN).status_code == 400
    assert client.get(f"/rooms/{room.id}?week=next", headers=EN).status_code == 400
    assert client.get("/rooms/424242").status_code == 404
    hidden = make_room(active=False)
    closed_site = make_site(active=False)
    in_closed_site = make_room(closed_site)
    assert client.get(f"/rooms/{hidden.id}").status_code == 404
    assert client.get(f"/rooms/{in_closed_site.id}").status_code == 404
    assert client.get(f"/sites/{closed_site.id}").status_code == 404
    assert client.get("/sites/424242").status_code == 404


def test_site_page_lists_rooms_and_opening_hours(client, db, make_site, make_room):
    site = make_site(
        name="Jugendzentrum Karnacksweg", district="Südost", contact_phone="02371 1234"
    )
    make_room(site, name="Werkraum", capacity=15)
    make_room(site, name="Geschlossen", active=False)
    db.session.add(OpeningWindow(site_id=site.id, weekday=4, opens=14 * 60, closes=21 * 60))
    db.session.commit()
    html = client.get(f"/sites/{site.id}", headers=EN).text
    assert "Jugendzentrum Karnacksweg" in html
    assert "Südost" in html
    assert "Werkraum" in html and "up to 15 people" in html
    assert "Geschlossen" not in html
    assert "14:00–21:00" in html
    assert "02371 1234" in html
