"""The equipment list administrators keep (#11): add a feature, tick it on a room, find the room
by it, read its label in German and English; change labels; deactivate; managers may not."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from booking.models import AuditEvent, Feature, Room

DE = {"Accept-Language": "de"}
EN = {"Accept-Language": "en"}
NEW = {"label_de": "Beamer mit HDMI", "label_en": "HDMI projector", "key": "hdmi_projector"}


def a_tuesday() -> date:
    today = date.today()
    return today + timedelta(days=7 - today.weekday() + 8)


def search(client, **params):
    query = {"mode": "date", "date": a_tuesday().isoformat(), "start": "18:00", "end": "20:00"}
    return client.get("/", query_string=query | params, headers=EN)


def results(html: str) -> str:
    """The search results part of the home page (not the list of all sites below it)."""
    return html.split('id="results-title"', 1)[1].split('id="places-title"', 1)[0]


def room_form(room: Room, **changes) -> dict:
    form = {
        "name": room.name,
        "parent_id": "",
        "capacity": str(room.capacity),
        "approval_policy": "manual",
        "min_lead_minutes": "0",
        "max_advance_days": "400",
        "buffer_before_minutes": "0",
        "buffer_after_minutes": "0",
        "features": list(room.features),
        "active": "y",
    }
    return form | changes


def error_of(html: str, field: str) -> str:
    """The error message shown next to a field (tied to it by its id)."""
    found = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', html, re.S)
    assert found, f"no error next to {field}"
    return re.sub(r"<[^>]+>", "", found.group(1))


def checkbox_values(html: str) -> list[str]:
    return re.findall(r'<input[^>]*name="features"[^>]*value="([^"]+)"', html)


def count_features(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Feature))


def test_a_new_feature_can_be_ticked_searched_and_read_in_both_languages(
    client, db, make_site, make_room, make_user, login_as, new_client
):
    site = make_site()
    room = make_room(site, name="Raum mit Technik", features=["wifi"])
    make_room(site, name="Raum ohne Technik", features=["wifi"])
    manager = make_user(manages=[site], language="en")
    admin = login_as(make_user(is_admin=True, language="en"))

    listing = client.get("/admin/features", headers=EN)
    assert listing.status_code == 200
    assert "Beamer" in listing.text and "<code>projector</code>" in listing.text
    response = client.post("/admin/features", data=NEW, headers=EN)
    assert response.status_code == 302, response.text
    feature = db.session.get(Feature, "hdmi_projector")
    assert (feature.label_de, feature.label_en, feature.active) == (
        "Beamer mit HDMI",
        "HDMI projector",
        True,
    )
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "feature_created"))
    assert event.actor_id == admin.id and event.details["key"] == "hdmi_projector"
    assert event.details["changes"]["label_de"] == [None, "Beamer mit HDMI"]

    caretaker = new_client()
    caretaker.post("/login", data={"email": manager.email, "password": "correct horse battery"})
    form_page = caretaker.get(f"/admin/rooms/{room.id}/edit", headers=EN)
    assert "hdmi_projector" in checkbox_values(form_page.text)
    assert "HDMI projector" in form_page.text
    saved = caretaker.post(
        f"/admin/rooms/{room.id}/edit", data=room_form(room, features=["wifi", "hdmi_projector"])
    )
    assert saved.status_code == 302, saved.text
    db.session.expire_all()
    assert db.session.get(Room, room.id).features == ["hdmi_projector", "wifi"]

    found = results(search(client, features="hdmi_projector").text)
    assert "Raum mit Technik" in found and "Raum ohne Technik" not in found
    assert "hdmi_projector" in checkbox_values(search(client).text)  # offered as a filter

    reader = new_client()  # nobody logged in: the browser's language
    german = reader.get(f"/rooms/{room.id}", headers=DE).text
    english = reader.get(f"/rooms/{room.id}", headers=EN).text
    assert "Beamer mit HDMI" in german and "WLAN" in german
    assert german.index("WLAN") < german.index("Beamer mit HDMI")  # the list's order: new last
    assert "HDMI projector" in english and "Beamer mit HDMI" not in english
    assert "Beamer mit HDMI" in reader.get(f"/sites/{site.id}", headers=DE).text

    listing = client.get("/admin/features").text
    row = re.search(r"<code>hdmi_projector</code>.*?</li>", listing, re.S).group(0)
    assert "1 room" in row  # one room has it


def test_the_key_is_made_from_the_english_name_when_left_empty(client, db, make_user, login_as):
    login_as(make_user(is_admin=True, language="en"))
    response = client.post(
        "/admin/features", data={"label_de": "Bällebad", "label_en": "Ball pit (soft)", "key": ""}
    )
    assert response.status_code == 302
    assert db.session.get(Feature, "ball_pit_soft").label_de == "Bällebad"


def test_a_taken_key_an_empty_name_or_a_bad_key_is_refused_next_to_its_field(
    client, db, make_user, login_as
):
    login_as(make_user(is_admin=True, language="en"))
    before = count_features(db)
    taken = client.post("/admin/features", data=NEW | {"key": "projector"}, headers=EN)
    assert taken.status_code == 422
    assert "projector is taken already" in error_of(taken.text, "key")
    empty = client.post("/admin/features", data=NEW | {"label_de": "  "}, headers=EN)
    assert empty.status_code == 422
    assert "Please enter a name." in error_of(empty.text, "label_de")
    bad = client.post("/admin/features", data=NEW | {"key": "Beamer HDMI"}, headers=EN)
    assert bad.status_code == 422
    assert "lowercase letters" in error_of(bad.text, "key")
    too_long = client.post("/admin/features", data=NEW | {"label_en": "x" * 101}, headers=EN)
    assert too_long.status_code == 422
    assert "At most 100 characters" in error_of(too_long.text, "label_en")
    assert count_features(db) == before
    assert not db.session.scalars(select(AuditEvent)).all()


def test_new_labels_show_at_once_and_are_audited(
    client, db, make_room, make_user, login_as, new_client
):
    room = make_room(features=["projector"])
    reader = new_client()
    assert "Beamer" in reader.get(f"/rooms/{room.id}", headers=DE).text  # the catalogue is loaded
    login_as(make_user(is_admin=True, language="en"))
    response = client.post(
        "/admin/features/projector",
        data={"label_de": "Videoprojektor", "label_en": "Video projector", "position": "5"},
    )
    assert response.status_code == 302
    assert "Videoprojektor" in reader.get(f"/rooms/{room.id}", headers=DE).text
    assert "Video projector" in reader.get(f"/rooms/{room.id}", headers=EN).text
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "feature_updated"))
    assert event.details["changes"] == {
        "label_de": ["Beamer", "Videoprojektor"],
        "label_en": ["Projector", "Video projector"],
        "position": [10, 5],
    }
    listing = client.get("/admin/features").text
    assert listing.index("Videoprojektor") < listing.index("Leinwand")  # position 5 comes first
    history = client.get("/admin/audit").text  # the admin's history names the change
    assert "Equipment in the list changed" in history and "Videoprojektor" in history
    empty = client.post("/admin/features/projector", data={"label_de": "", "label_en": "X"})
    assert empty.status_code == 422
    assert error_of(empty.text, "label_de")
    assert client.get("/admin/features/jacuzzi").status_code == 404


def test_a_deactivated_feature_stays_on_its_rooms_but_is_no_longer_offered(
    client, db, make_site, make_room, make_user, login_as, new_client
):
    site = make_site()
    piano_room = make_room(site, name="Musikraum", features=["piano"])
    plain = make_room(site, name="Gruppenraum")
    manager = make_user(manages=[site], language="en")
    login_as(make_user(is_admin=True, language="en"))
    assert client.post("/admin/features/piano/active", data={"active": "0"}).status_code == 302
    assert db.session.get(Feature, "piano").active is False
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "feature_updated"))
    assert event.details["changes"] == {"active": [True, False]}

    caretaker = new_client()
    caretaker.post("/login", data={"email": manager.email, "password": "correct horse battery"})
    assert "piano" not in checkbox_values(caretaker.get(f"/admin/rooms/{plain.id}/edit").text)
    refused = caretaker.post(
        f"/admin/rooms/{plain.id}/edit", data=room_form(plain, features=["piano"]), headers=EN
    )
    assert refused.status_code == 422
    assert "no longer offered" in refused.text
    db.session.expire_all()
    assert db.session.get(Room, plain.id).features == []
    # The room that has it keeps it (shown, marked) and can be saved with it.
    own = caretaker.get(f"/admin/rooms/{piano_room.id}/edit", headers=EN).text
    assert "piano" in checkbox_values(own) and "Piano (no longer offered)" in own
    kept = caretaker.post(
        f"/admin/rooms/{piano_room.id}/edit", data=room_form(piano_room, capacity="25")
    )
    assert kept.status_code == 302, kept.text
    db.session.expire_all()
    assert db.session.get(Room, piano_room.id).features == ["piano"]
    assert "Klavier" in new_client().get(f"/rooms/{piano_room.id}", headers=DE).text

    assert "piano" not in checkbox_values(search(client).text)  # not a search filter
    assert search(client, features="piano").status_code == 422

    assert client.post("/admin/features/piano/active", data={"active": "1"}).status_code == 302
    assert "piano" in checkbox_values(caretaker.get(f"/admin/rooms/{plain.id}/edit").text)


def test_only_administrators_keep_the_list(client, db, make_site, make_user, login_as):
    site = make_site()
    login_as(make_user(manages=[site], language="en"))
    assert client.get("/admin/features").status_code == 403
    assert client.post("/admin/features", data=NEW).status_code == 403
    assert client.get("/admin/features/projector").status_code == 403
    assert client.post("/admin/features/projector/active", data={"active": "0"}).status_code == 403
    assert db.session.get(Feature, "hdmi_projector") is None
    assert db.session.get(Feature, "projector").active is True
    index = client.get("/admin").text
    assert "/admin/features" not in index


def test_the_room_import_takes_new_keys_and_keeps_a_deactivated_one_where_it_is(db, make_user):
    from booking.services import features, room_import
    from tests.functional.test_room_import import csv_bytes, row

    admin = make_user(is_admin=True)
    features.create_feature(admin, features.FeatureCommand("Beamer mit HDMI", "HDMI projector"))
    first = room_import.import_rooms(admin, csv_bytes(row(features="hdmi_projector|piano")))
    assert first.rooms_created == 1
    features.set_active(admin, "piano", False)
    again = csv_bytes(row(features="hdmi_projector|piano"))
    assert room_import.import_rooms(admin, again).rooms_unchanged == 1  # the hall keeps it
    with pytest.raises(room_import.ImportRejected) as new_room:
        room_import.import_rooms(admin, csv_bytes(row(room_name="Neu", features="piano")))
    assert [(e.row, e.column) for e in new_room.value.errors] == [(2, "features")]
    with pytest.raises(room_import.ImportRejected) as unknown:
        room_import.import_rooms(admin, csv_bytes(row(features="jacuzzi")))
    ((error),) = unknown.value.errors
    assert (error.row, error.column) == (2, "features")
    offered = error.params["choices"].split(", ")
    assert "hdmi_projector" in offered and "piano" not in offered


def test_keys_made_from_names():
    from booking.services.features import suggest_key

    assert suggest_key("HDMI projector") == "hdmi_projector"
    assert suggest_key("Große Bühne (außen)") == "grosse_buehne_aussen"
    assert suggest_key("Café-Ecke") == "cafe_ecke"
    assert suggest_key("!!!") == ""
    assert len(suggest_key("x" * 40)) == 32
