"""Open offers: upcoming approved public dates across the city, filtered and paginated."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from booking import domain
from booking.models import ApprovalPolicy

BERLIN = ZoneInfo("Europe/Berlin")
EN = {"Accept-Language": "en"}


def at(days: int, hour: int = 18) -> datetime:
    day = date.today() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)


def test_only_upcoming_approved_public_dates(
    client, db, make_site, make_room, make_user, make_booking
):
    room = make_room(make_site(district="Letmathe"))
    manual = make_room(make_site(district="Letmathe"), approval_policy=ApprovalPolicy.MANUAL)
    user = make_user()
    make_booking(user, room, at(2), title="Homework help", is_public=True)
    make_booking(user, room, at(3), title="Private meeting")
    make_booking(user, manual, at(4), title="Pending choir", is_public=True)
    html = client.get("/offers", headers=EN).text
    assert "Homework help" in html
    assert "Private meeting" not in html
    assert "Pending choir" not in html
    assert "1 upcoming date" in html


def test_filter_by_district_and_dates(client, db, make_site, make_room, make_user, make_booking):
    letmathe = make_room(make_site(district="Letmathe"))
    hennen = make_room(make_site(district="Hennen"))
    user = make_user()
    make_booking(user, letmathe, at(2), title="Choir Letmathe", is_public=True)
    make_booking(user, hennen, at(2), title="Café Hennen", is_public=True)
    make_booking(user, hennen, at(20), title="Later in Hennen", is_public=True)
    html = client.get("/offers?district=Hennen", headers=EN).text
    assert "Café Hennen" in html and "Later in Hennen" in html
    assert "Choir Letmathe" not in html
    until = (date.today() + timedelta(days=10)).isoformat()
    html = client.get(f"/offers?district=Hennen&to={until}", headers=EN).text
    assert "Café Hennen" in html and "Later in Hennen" not in html
    start = (date.today() + timedelta(days=10)).isoformat()
    html = client.get(f"/offers?from={start}", headers=EN).text
    assert "Later in Hennen" in html and "Café Hennen" not in html


def test_bad_filters_are_explained(client, db):
    response = client.get("/offers?from=tomorrow&district=Atlantis", headers=EN)
    assert response.status_code == 422
    assert "There is no such district." in response.text
    assert "Please give a date like" in response.text
    response = client.get("/offers?from=2027-05-02&to=2027-05-01", headers=EN)
    assert response.status_code == 422


def test_pagination(client, db, make_room, make_user, make_booking):
    room = make_room()
    make_booking(
        make_user(),
        room,
        at(1),
        title="Weekly café",
        is_public=True,
        recurrence=domain.Recurrence(domain.Frequency.DAILY, count=25),
    )
    first = client.get("/offers", headers=EN).text
    assert "25 upcoming dates" in first
    assert first.count('class="offer"') == 20
    assert "Page 1 of 2" in first and "page=2" in first
    second = client.get("/offers?page=2", headers=EN).text
    assert second.count('class="offer"') == 5
    assert "page=1" in second


def test_an_offer_has_its_own_page_and_calendar(
    client, db, make_site, make_room, make_user, make_booking, make_organisation
):
    choir = make_organisation(name="Chor Letmathe", listed=True)
    site = make_site(name="Stadtteilhaus", district="Letmathe")
    room = make_room(site, name="Saal", step_free=True, hearing_loop=True)
    member = make_user(organisations=[choir])
    details = {"description": "Alle Stimmen willkommen", "organisation_id": choir.id}
    first = make_booking(member, room, at(2), title="Offene Probe", is_public=True, **details)
    page = client.get("/offers", headers=EN).text
    assert f'href="/offers/{first.id}"' in page
    response = client.get(f"/offers/{first.id}", headers=EN)
    assert response.status_code == 200
    shown = response.text
    for text in ("Offene Probe", "Alle Stimmen willkommen", "by Chor Letmathe", "Saal",
                 "step-free access", "hearing loop", "1 upcoming date"):  # fmt: skip
        assert text in shown, text
    assert f'href="/directory/{choir.id}"' in shown  # the organisation is listed
    assert f'href="/offers/{first.id}.ics"' in shown
    feed = client.get(f"/offers/{first.id}.ics")
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    body = feed.get_data(as_text=True)
    assert body.count("BEGIN:VEVENT") == 1 and "SUMMARY:Offene Probe" in body


def test_no_page_for_what_is_not_an_open_offer(
    client, db, make_site, make_room, make_user, make_booking
):
    room = make_room(make_site())
    manual = make_room(make_site(), approval_policy=ApprovalPolicy.MANUAL)
    user = make_user()
    private = make_booking(user, room, at(2), title="Vorstand")
    waiting = make_booking(user, manual, at(3), title="Noch nicht genehmigt", is_public=True)
    for booking in (private, waiting):
        for path in (f"/offers/{booking.id}", f"/offers/{booking.id}.ics"):
            response = client.get(path, headers=EN)
            assert response.status_code == 404, path
            assert booking.title not in response.get_data(as_text=True)
    assert client.get("/offers/424242", headers=EN).status_code == 404


def test_an_offer_page_shows_where_each_date_is(
    client, db, make_site, make_room, make_user, make_booking
):
    """A date moved to another room is shown there, with that room's accessibility; the offer's
    page stays reachable when its first room closes."""
    from booking.services.changes import move_occurrence

    site = make_site(name="Stadtteilhaus")
    saal = make_room(site, name="Saal", step_free=False)
    foyer = make_room(site, name="Foyer", step_free=True)
    manager = make_user(manages=[site])
    weekly = make_booking(manager, saal, at(2), title="Tanzcafé", is_public=True)
    second = make_booking(manager, saal, at(9), title="Tanzcafé 2", is_public=True)
    moved = second.occurrences[0]
    start = moved.starts_at.astimezone(BERLIN).replace(tzinfo=None)
    move_occurrence(manager, moved.id, start, start + timedelta(hours=1), foyer.id)
    db.session.commit()
    page = client.get(f"/offers/{second.id}", headers=EN).text
    assert "Foyer" in page and "step-free access" in page
    saal.active = False
    db.session.commit()
    assert client.get(f"/offers/{second.id}", headers=EN).status_code == 200
    assert client.get(f"/offers/{weekly.id}", headers=EN).status_code == 404  # only in Saal


def test_an_offer_that_is_over_has_no_page(client, db, make_room, make_user, make_booking):
    room = make_room()
    past = make_booking(make_user(), room, at(-3), title="Sommerfest", is_public=True)
    assert client.get(f"/offers/{past.id}", headers=EN).status_code == 404
    assert client.get(f"/offers/{past.id}.ics").status_code == 404
