"""Account and organisation pages in chromium: accessible, usable on a phone, by keyboard."""

from __future__ import annotations

from tests.conftest import PASSWORD


def test_account_pages_have_no_serious_axe_violations(page, axe, make_user, make_organisation, db):
    organisation = make_organisation(name="Chor Hennen")
    user = make_user(email="anna@example.org", organisations=[organisation])
    db.session.commit()
    for path in ("/login", "/register", "/password-reset", "/about"):
        page.goto(path + "?lang=de")
        assert axe(page) == [], path

    page.goto("/register?lang=de")  # ?lang= shows one page in a language, it stores nothing
    page.get_by_role("button", name="Konto erstellen").click()  # empty form: every error shown
    assert page.locator(".error").count() >= 3
    assert axe(page) == [], "register with errors"

    page.goto("/login?lang=de")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    for path in (
        "/profile",
        "/organisations",
        "/organisations/new",
        f"/organisations/{organisation.id}",
    ):
        page.goto(path)
        assert axe(page) == [], path


def test_log_in_switch_language_and_log_out_by_keyboard(page, make_user, db):
    make_user(email="anna@example.org", language="de")
    db.session.commit()
    page.goto("/login?lang=de")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Zum Inhalt springen"
    page.focus("#email")
    page.keyboard.type("anna@example.org")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/")

    page.goto("/profile")
    # The switch is a small form (POST) that leads back to this page.
    page.get_by_role("button", name="English").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/profile")
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto("/profile")  # the choice is now the account's setting
    assert page.get_by_role("heading", name="Change password").is_visible()

    page.get_by_role("button", name="Log out", exact=True).focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/")
    assert page.get_by_role("link", name="Log in").is_visible()


def test_account_pages_fit_a_phone(phone_page, horizontal_scroll):
    for path in ("/login", "/register", "/password-reset", "/about"):
        phone_page.goto(path + "?lang=de")
        assert not horizontal_scroll(phone_page), path
