"""The equipment list (#11) in chromium: no serious axe violation on its pages (an error next to
a field included), they fit a phone, and a feature is added by keyboard alone."""

from __future__ import annotations

from playwright.sync_api import expect

from booking.models import Feature
from tests.conftest import PASSWORD


def _world(make_user, make_site, make_room):
    site = make_site(name="Gesamtschule Seilersee")
    room = make_room(site, name="Musikraum", features=["piano", "wifi"])
    admin = make_user(name="Ada Admin", is_admin=True, language="en")
    return site, room, admin


def _log_in(page, user) -> None:
    page.goto("/login?lang=en")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def _paths(room) -> list[str]:
    return ["/admin/features", "/admin/features/piano", f"/admin/rooms/{room.id}/edit"]


def test_equipment_pages_have_no_serious_axe_violations(
    page, axe, db, make_user, make_site, make_room
):
    _site, room, admin = _world(make_user, make_site, make_room)
    db.session.get(Feature, "piano").active = False  # the room form marks it
    db.session.commit()
    _log_in(page, admin)
    for path in _paths(room):
        page.goto(path)
        assert axe(page) == [], path
    page.goto("/admin/features")
    page.fill("#label_de", "Beamer mit HDMI")
    page.fill("#label_en", "HDMI projector")
    page.fill("#key", "projector")  # taken: the error next to the field
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#key-error")).to_contain_text("taken")
    assert axe(page) == [], "add form with an error"


def test_a_feature_is_added_by_keyboard(page, db, make_user, make_site, make_room):
    _site, _room, admin = _world(make_user, make_site, make_room)
    db.session.commit()
    _log_in(page, admin)
    page.goto("/admin/features")
    page.focus("#label_de")
    page.keyboard.type("Beamer mit HDMI")
    page.keyboard.press("Tab")
    page.keyboard.type("HDMI projector")
    page.keyboard.press("Tab")  # the key: left empty, made from the English name
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("body")).to_contain_text("key hdmi_projector")
    expect(page.locator("ul.features")).to_contain_text("Beamer mit HDMI")


def test_equipment_pages_fit_a_phone(
    phone_page, horizontal_scroll, db, make_user, make_site, make_room
):
    _site, room, admin = _world(make_user, make_site, make_room)
    db.session.commit()
    _log_in(phone_page, admin)
    for path in _paths(room):
        phone_page.goto(path)
        assert not horizontal_scroll(phone_page), path
