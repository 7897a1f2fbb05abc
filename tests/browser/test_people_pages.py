"""People and organisations administration (#11) in chromium: no serious axe violation, fits a
phone, and an account is deactivated by keyboard alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from tests.conftest import PASSWORD


def _world(make_user, make_site, make_room, make_organisation, make_booking):
    site = make_site(name="Gesamtschule Seilersee")
    room = make_room(site, name="Aula")
    choir = make_organisation(name="Chor Harmonie")
    singer = make_user(name="Selma Sänger", organisations=[choir], manages=[site])
    soon = (datetime.now(UTC) + timedelta(days=20)).replace(hour=17, minute=0, microsecond=0)
    make_booking(singer, room, soon, organisation_id=choir.id, now=datetime.now(UTC))
    admin = make_user(name="Ada Admin", email="ada@example.org", is_admin=True, language="en")
    return site, choir, singer, admin


def _log_in(page, user) -> None:
    page.goto("/login?lang=en")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def _paths(site, choir, singer) -> list[str]:
    return [
        "/admin",
        "/admin/users",
        "/admin/users?q=" + "x" * 201,  # with an error next to the field
        f"/admin/users/{singer.id}",
        f"/admin/sites/{site.id}/managers",
        "/admin/organisations",
        f"/admin/organisations/{choir.id}",
    ]


def test_people_pages_have_no_serious_axe_violations(
    page, axe, db, make_user, make_site, make_room, make_organisation, make_booking
):
    site, choir, singer, admin = _world(
        make_user, make_site, make_room, make_organisation, make_booking
    )
    db.session.commit()
    _log_in(page, admin)
    for path in _paths(site, choir, singer):
        page.goto(path)
        assert axe(page) == [], path
    page.goto(f"/admin/sites/{site.id}/managers")
    page.get_by_role("button", name="Add").click()  # empty: the error next to the field
    assert page.locator(".error").count() == 1
    assert axe(page) == [], "managers with an error"


def test_people_pages_fit_a_phone(
    phone_page,
    horizontal_scroll,
    db,
    make_user,
    make_site,
    make_room,
    make_organisation,
    make_booking,
):
    site, choir, singer, admin = _world(
        make_user, make_site, make_room, make_organisation, make_booking
    )
    db.session.commit()
    _log_in(phone_page, admin)
    for path in _paths(site, choir, singer):
        phone_page.goto(path)
        assert not horizontal_scroll(phone_page), path


def test_deactivate_and_reactivate_by_keyboard(page, db, make_user):
    admin = make_user(name="Ada Admin", email="ada@example.org", is_admin=True, language="en")
    make_user(name="Egon Frei", email="egon@example.org")
    db.session.commit()
    _log_in(page, admin)
    page.goto("/admin/users")
    page.focus("#q")
    page.keyboard.type("egon")
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/users?q=egon*")
    page.get_by_role("link", name="Egon Frei").focus()
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    page.get_by_role("button", name="Deactivate the account").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Egon Frei is deactivated and can no longer log in.")).to_be_visible()
    page.get_by_role("button", name="Reactivate the account").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Egon Frei can log in again.")).to_be_visible()
