"""Language choice, the German catalog, and dates shown in the user's locale."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale

from booking.web.i18n import localdate, localdatetime, localtime, status_label
from tests.conftest import PASSWORD

TRANSLATIONS = Path(__file__).resolve().parents[2] / "booking" / "translations"


@pytest.fixture
def client(new_client):
    """Every request loads its user afresh, as in production (see ``new_client``)."""
    return new_client()


def test_the_german_catalog_has_no_untranslated_or_fuzzy_entries():
    with (TRANSLATIONS / "de" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale="de")
    problems = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            problems.append(message.id)
    assert problems == [], "translate these (pybabel update, then fill in msgstr): " + repr(
        problems
    )
    assert len(catalog) > 100


def test_compiled_catalogs_are_not_older_than_their_sources():
    for language in ("de", "en"):
        folder = TRANSLATIONS / language / "LC_MESSAGES"
        assert (folder / "messages.mo").stat().st_mtime >= (
            folder / "messages.po"
        ).stat().st_mtime - 1


def test_german_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="de">' in page
    assert "Anmelden" in page
    assert "Passwort vergessen?" in page


def test_english_by_query_and_by_browser(new_client, client):
    page = client.get("/login?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Forgot your password?" in page
    other = new_client()
    page = other.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in page
    page = other.get("/login", headers={"Accept-Language": "fr, en;q=0.5, de;q=0.8"}).get_data(
        as_text=True
    )
    assert '<html lang="de">' in page


def test_the_language_choice_sticks_for_anonymous_visitors(client):
    # The switch is a POST (tests/functional/test_language_switch.py); ?lang= stores nothing.
    client.post("/language", data={"lang": "en", "next": "/login"})
    page = client.get("/register", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="en"' in page
    client.post("/language", data={"lang": "de", "next": "/login"})
    page = client.get("/register", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="de"' in page


def test_the_switcher_stores_the_choice_of_a_logged_in_user(client, db, make_user):
    user = make_user(email="anna@example.org", language="de")
    client.post("/login", data={"email": "anna@example.org", "password": PASSWORD})
    response = client.post("/language", data={"lang": "en", "next": "/profile"})
    assert response.status_code == 303 and response.headers["Location"] == "/profile"
    db.session.refresh(user)
    assert user.language == "en"
    # The user's setting wins over the browser.
    page = client.get("/profile", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="en"' in page


def test_switcher_keeps_the_page_and_its_arguments(client):
    page = client.get("/password-reset?lang=de&x=1").get_data(as_text=True)
    assert 'name="next" value="/password-reset?x=1"' in page
    assert 'name="lang" value="en" lang="en"' in page


def test_layout_has_landmarks_skip_link_and_footer_links(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="#main"' in page and '<main id="main"' in page
    assert 'href="/api/v1/docs"' in page
    assert 'href="/about"' in page
    assert 'href="/offers"' in page
    assert "booking.css" in page and "style.css" in page
    assert client.get("/about").status_code == 200


@pytest.mark.parametrize(
    ("language", "expected_date", "expected_time"),
    [("de", "Dienstag, 1. Dezember 2026", "19:30"), ("en", "Tuesday, 1 December 2026", "19:30")],
)
def test_date_filters_show_local_time_in_the_users_language(
    app, language, expected_date, expected_time
):
    winter = datetime(2026, 12, 1, 18, 30, tzinfo=UTC)  # 19:30 in Berlin
    with app.test_request_context("/"), force_locale(language):
        assert localdate(winter, "Europe/Berlin", "full") == expected_date
        assert localtime(winter).startswith(expected_time)
        assert expected_time in localdatetime(winter)
        assert localdate(date(2026, 12, 1), format="full") == expected_date
        # Naive values are local wall time already.
        assert localtime(datetime(2026, 12, 1, 19, 30)).startswith(expected_time)
    with app.test_request_context("/"), force_locale("de"):
        assert status_label("pending") == "wartet auf Freigabe"
