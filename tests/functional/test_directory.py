"""The public directory "Who does what" (#15): organisations listed by their admins' choice,
with what they say about themselves and their upcoming open offers, nothing private; and the
plain-language guide "How it works"."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

from sqlalchemy import select

from booking.models import AuditEvent, MemberRole, Membership, Organisation, OrganisationKind

BERLIN = ZoneInfo("Europe/Berlin")
EN = {"Accept-Language": "en"}
DE = {"Accept-Language": "de"}


def at(days: int, hour: int = 18) -> datetime:
    day = date.today() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def entries(html: str) -> list[str]:
    """The names in the directory's list, in order."""
    found = re.search(r'<ol class="offer-list directory-list">(.*?)</ol>', html, re.S)
    if not found:
        return []
    names = re.findall(r'<h3><a href="/directory/\d+">(.*?)</a></h3>', found[1])
    return [unescape(name) for name in names]


def admin_of(db, make_user, organisation):
    user = make_user(language="en")
    db.session.add(Membership(user=user, organisation=organisation, role=MemberRole.ADMIN))
    db.session.commit()
    return user


def test_only_listed_organisations_are_shown(client, db, make_organisation):
    make_organisation(name="Chor Letmathe", listed=True, district="Letmathe")
    hidden = make_organisation(name="Stiller Verein")
    db.session.commit()
    response = client.get("/directory", headers=EN)
    assert response.status_code == 200
    assert entries(response.text) == ["Chor Letmathe"]
    assert "1 organisation" in text(response.text)
    assert client.get(f"/directory/{hidden.id}", headers=EN).status_code == 404
    assert client.get("/directory/424242", headers=EN).status_code == 404


def test_an_entry_shows_the_profile_and_public_offers_only(
    client, db, make_organisation, make_site, make_room, make_user, make_booking
):
    choir = make_organisation(
        name="Chor Letmathe",
        listed=True,
        kind=OrganisationKind.ASSOCIATION,
        district="Letmathe",
        description="Wir singen jeden Dienstag.",
        website="https://chor.example.org",
        email="info@chor.example.org",
    )
    room = make_room(make_site(name="Stadtteilhaus", district="Letmathe"), name="Saal")
    member = make_user(organisations=[choir])
    for week in range(5):
        make_booking(member, room, at(2 + 7 * week), title="Offene Probe", is_public=True,
                     organisation_id=choir.id)  # fmt: skip
    make_booking(member, room, at(3), title="Vorstandssitzung", organisation_id=choir.id)
    make_booking(member, room, at(4), title="Privat ohne Verein", is_public=True)
    html = client.get("/directory", headers=EN).text
    page = text(html)
    assert "Wir singen jeden Dienstag." in page and "Letmathe" in page
    assert page.count("Offene Probe") == 3  # the next three in the list
    assert "All 5 upcoming dates" in page
    assert 'href="https://chor.example.org"' in html and "mailto:info@chor.example.org" in html
    entry = client.get(f"/directory/{choir.id}", headers=EN)
    assert entry.status_code == 200
    shown = text(entry.text)
    assert shown.count("Offene Probe") == 5 and "5 upcoming dates" in shown
    assert "Saal" in shown and "Stadtteilhaus" in shown
    # Private bookings, bookings without the organisation and the members never appear.
    for page in (html, entry.text):
        assert "Vorstandssitzung" not in page
        assert "Privat ohne Verein" not in page
        assert member.name not in page and member.email not in page


def test_filters_by_words_district_and_kind(client, db, make_organisation):
    make_organisation(name="Chor Letmathe", listed=True, district="Letmathe")
    make_organisation(
        name="Sprachcafé", listed=True, district="Hennen", description="Deutsch lernen beim Kaffee"
    )
    make_organisation(
        name="Jugendtreff", listed=True, district="Hennen", kind=OrganisationKind.INITIATIVE
    )
    db.session.commit()
    assert entries(client.get("/directory?q=KAFFEE", headers=EN).text) == ["Sprachcafé"]
    assert entries(client.get("/directory?q=chor", headers=EN).text) == ["Chor Letmathe"]
    assert entries(client.get("/directory?q=kaffee+deutsch", headers=EN).text) == ["Sprachcafé"]
    assert entries(client.get("/directory?q=kaffee+chor", headers=EN).text) == []
    assert entries(client.get("/directory?district=Hennen", headers=EN).text) == [
        "Jugendtreff",
        "Sprachcafé",
    ]
    assert entries(client.get("/directory?district=Hennen&kind=initiative", headers=EN).text) == [
        "Jugendtreff"
    ]
    make_organisation(name="Über den Tellerrand", listed=True, description="Ökumenischer Kreis")
    db.session.commit()
    assert entries(client.get("/directory?q=über", headers=EN).text) == ["Über den Tellerrand"]
    assert entries(client.get("/directory?q=ÖKUMENISCH", headers=EN).text) == [
        "Über den Tellerrand"
    ]
    nothing = client.get("/directory?q=Schach", headers=EN)
    assert nothing.status_code == 200 and "No organisation matches" in nothing.text


def test_bad_filters_are_explained(client, db, make_organisation):
    make_organisation(name="Chor", listed=True, district="Letmathe")
    db.session.commit()
    response = client.get("/directory?district=Atlantis", headers=EN)
    assert response.status_code == 422
    assert "There is no such district." in response.text
    response = client.get("/directory?kind=secret-society", headers=EN)
    assert response.status_code == 422
    assert "Please choose a kind from the list." in response.text
    response = client.get("/directory?q=" + "x" * 101, headers=EN)
    assert response.status_code == 422
    assert "The search text is too long." in response.text


def test_the_organisations_admin_lists_it(client, db, make_organisation, make_user, login_as):
    choir = make_organisation(name="Chor Letmathe")
    admin = admin_of(db, make_user, choir)
    login_as(admin)
    form = client.get(f"/organisations/{choir.id}/edit", headers=EN)
    assert form.status_code == 200
    assert "Members and private bookings are never shown." in form.text
    response = client.post(
        f"/organisations/{choir.id}/edit",
        data={
            "name": "Chor Letmathe",
            "kind": "association",
            "district": "Letmathe",
            "description": "Wir singen.",
            "website": "",
            "email": "Info@Chor.example.org",
            "listed": "y",
        },
        headers=EN,
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (choir.listed, choir.email) == (True, "info@chor.example.org")
    assert entries(client.get("/directory", headers=EN).text) == ["Chor Letmathe"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "organisation_updated"))
    assert event.actor_id == admin.id and event.organisation_id == choir.id
    assert event.details["changes"]["listed"] == [False, True]
    assert set(event.details["changes"]) == {"district", "description", "email", "listed"}
    # Taken out again: gone from the directory and its page.
    data = {"name": "Chor Letmathe", "kind": "association", "district": "Letmathe"}
    assert client.post(f"/organisations/{choir.id}/edit", data=data).status_code == 302
    assert entries(client.get("/directory", headers=EN).text) == []
    assert client.get(f"/directory/{choir.id}").status_code == 404


def test_bad_profile_input_is_refused_and_nothing_changes(
    client, db, make_organisation, make_user, login_as
):
    make_organisation(name="Sportverein")
    choir = make_organisation(name="Chor Letmathe")
    login_as(admin_of(db, make_user, choir))
    base = {"name": "Chor Letmathe", "kind": "association", "listed": "y"}
    for data, message in (
        (base | {"email": "not an address"}, "This e-mail address is not valid."),
        (base | {"name": "sportverein"}, "An organisation with this name exists already."),
        (base | {"website": "chor.example.org"}, "starting with https://"),
        (base | {"kind": "secret-society"}, "Not a valid choice"),
    ):
        response = client.post(f"/organisations/{choir.id}/edit", data=data, headers=EN)
        assert response.status_code == 422, data
        assert message in unescape(response.text), data
        db.session.expire_all()
        assert (choir.name, choir.listed) == ("Chor Letmathe", False)


def test_only_the_organisations_admins_edit_its_profile(
    client, db, make_organisation, make_user, login_as
):
    choir = make_organisation(name="Chor Letmathe")
    member = make_user(organisations=[choir], language="en")
    data = {"name": "Chor Letmathe", "kind": "association", "listed": "y"}
    assert client.get(f"/organisations/{choir.id}/edit").status_code == 302  # to the login
    login_as(member)
    assert client.get(f"/organisations/{choir.id}/edit").status_code == 403
    assert client.post(f"/organisations/{choir.id}/edit", data=data).status_code == 403
    page = client.get(f"/organisations/{choir.id}", headers=EN).text
    assert "Not listed in the public directory." in page and "Edit profile" not in page
    db.session.expire_all()
    assert db.session.get(Organisation, choir.id).listed is False


def test_the_list_costs_the_same_statements_for_more_organisations(
    client, db, make_organisation, make_site, make_room, make_user, make_booking
):
    from sqlalchemy import event

    room = make_room(make_site())

    def statements() -> int:
        count = []
        listen = lambda *args: count.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listen)
        try:
            assert client.get("/directory").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listen)
        return len(count)

    def add_organisations(n: int, start: int) -> None:
        for k in range(start, start + n):
            organisation = make_organisation(name=f"Verein {k:03d}", listed=True)
            member = make_user(organisations=[organisation])
            make_booking(member, room, at(1 + k), title=f"Treffen {k}", is_public=True,
                         organisation_id=organisation.id)  # fmt: skip

    add_organisations(2, 0)
    statements()
    few = statements()
    add_organisations(8, 2)
    statements()
    assert statements() == few


def test_how_it_works_in_plain_language(client, db):
    response = client.get("/help", headers=DE)
    assert response.status_code == 200
    page = text(response.text)
    assert "So funktioniert es" in page
    for step in ("Raum finden", "Konto anlegen", "Raum anfragen", "Auf die Antwort warten"):
        assert step in page
    english = text(client.get("/help", headers=EN).text)
    assert "How it works" in english and "Find a room" in english
    home = client.get("/", headers=DE).text
    assert 'href="/help"' in home
