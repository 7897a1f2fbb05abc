"""Privacy (#13) through the browser's eyes: downloading one's data, deleting one's account
(password again, CSRF-protected, logged out everywhere afterwards) and the privacy page in
German and English."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from booking import create_app
from booking.models import ApprovalPolicy, Booking, OccurrenceStatus, User
from tests.conftest import PASSWORD

DOMAIN = "raumboerse.test"
LOGIN_COOKIES = ("session", "raumboerse_login", "remember_token")


def log_in(client, user, password=PASSWORD, **extra):
    return client.post("/login", data={"email": user.email, "password": password, **extra})


def copied_cookies(client) -> dict[str, str]:
    found = {name: client.get_cookie(name, domain=DOMAIN) for name in LOGIN_COOKIES}
    return {name: c.value for name, c in found.items() if c is not None}


def replay(new_client, cookies: dict[str, str]):
    """Another browser with nothing but copied cookies."""
    thief = new_client()
    for name, value in cookies.items():
        thief.set_cookie(name, value, domain=DOMAIN)
    return thief


@pytest.fixture
def anna(db, make_user, make_room, make_booking):
    """Anna (English pages) with a booking still to come and one in the past."""
    user = make_user(name="Anna Muster", email="anna@example.org", language="en")
    room = make_room(approval_policy=ApprovalPolicy.AUTOMATIC)
    start = datetime.now(UTC).replace(tzinfo=None, microsecond=0, second=0, minute=0)
    make_booking(
        user,
        room,
        start - timedelta(days=30),
        title="Annas Feier",
        now=datetime.now(UTC) - timedelta(days=40),
    )
    make_booking(user, room, start + timedelta(days=30), title="Annas Kurs", now=datetime.now(UTC))
    db.session.commit()
    return user


# Export ------------------------------------------------------------------------------------


def test_the_export_is_a_json_download_of_ones_own_data(client, anna, make_user, db):
    other = make_user(email="bert@example.org")
    db.session.commit()
    log_in(client, anna)
    response = client.get("/profile/export")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(
        r'attachment; filename="raumboerse-daten-\d{4}-\d{2}-\d{2}\.json"', disposition
    )
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "anna@example.org"
    assert {b["title"] for b in data["bookings"]} == {"Annas Feier", "Annas Kurs"}
    assert other.email not in response.get_data(as_text=True)


def test_the_export_needs_a_login(client, anna):
    response = client.get("/profile/export")
    assert response.status_code == 302 and "/login" in response.location


def test_the_profile_offers_export_and_deletion(client, anna):
    log_in(client, anna)
    page = client.get("/profile").get_data(as_text=True)
    assert 'href="/profile/export"' in page
    assert 'href="/profile/delete"' in page
    assert 'href="/privacy"' in page


# Deleting the account ------------------------------------------------------------------------


def test_the_confirmation_page_says_what_happens(client, anna):
    log_in(client, anna)
    page = client.get("/profile/delete").get_data(as_text=True)
    assert "Your date still to come is cancelled." in page
    assert "Your past bookings stay with the sites" in page
    assert 'type="password"' in page and 'name="password"' in page
    assert "Delete my account for good" in page


def test_a_wrong_password_keeps_everything(client, anna, db):
    log_in(client, anna)
    response = client.post("/profile/delete", data={"password": "not my password"})

    assert response.status_code == 422
    assert "The password is not right." in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(User, anna.id) is not None
    statuses = [o.status for b in db.session.scalars(select(Booking)) for o in b.occurrences]
    assert statuses == [OccurrenceStatus.APPROVED] * 2
    assert client.get("/profile").status_code == 200  # still logged in


def test_an_empty_password_is_asked_for(client, anna, db):
    log_in(client, anna)
    response = client.post("/profile/delete", data={"password": ""})
    assert response.status_code == 422
    assert "Please enter your password." in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(User, anna.id) is not None


def test_deleting_logs_out_everywhere_and_the_login_fails(new_client, anna, db):
    email = anna.email
    phone, laptop = new_client(), new_client()
    assert log_in(phone, anna, remember="y").status_code == 302
    assert log_in(laptop, anna).status_code == 302
    stolen = copied_cookies(phone)
    assert "raumboerse_login" in stolen  # "stay logged in" as well as the session

    response = phone.post("/profile/delete", data={"password": PASSWORD})
    assert response.status_code == 303 and response.location.endswith("/")
    assert phone.get_cookie("raumboerse_login", domain=DOMAIN) is None
    home = phone.get("/").get_data(as_text=True)
    assert "Your account is deleted." in home  # in the language the account used

    for client in (laptop, phone, replay(new_client, stolen)):
        answer = client.get("/profile")
        assert answer.status_code == 302 and "/login" in answer.location
    login = new_client().post("/login", data={"email": email, "password": PASSWORD})
    assert login.status_code == 422
    db.session.rollback()
    assert db.session.scalar(select(User).where(User.email == "anna@example.org")) is None
    bookings = list(db.session.scalars(select(Booking)))
    assert len(bookings) == 2 and all(b.requested_by_id is None for b in bookings)


def test_the_last_administrator_is_told_to_appoint_another(client, make_user, db):
    admin = make_user(is_admin=True, language="en")
    db.session.commit()
    log_in(client, admin)
    page = client.get("/profile/delete").get_data(as_text=True)
    assert "You are the last active administrator." in page
    assert 'name="password"' not in page
    response = client.post("/profile/delete", data={"password": PASSWORD})
    assert response.status_code == 422
    db.session.rollback()
    assert db.session.get(User, admin.id) is not None


@pytest.fixture
def csrf_app(database_url, db):
    """An app of its own with CSRF protection switched on (the test app has it off)."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret",
            "SERVER_NAME": DOMAIN,
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": True,
        }
    )
    yield app
    with app.app_context():
        from booking.extensions import db as _db

        _db.engine.dispose()


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_deleting_needs_the_forms_csrf_token(csrf_app, anna, db):
    anna_id = anna.id
    client = csrf_app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    data = {"email": anna.email, "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data).status_code == 302

    forged = client.post("/profile/delete", data={"password": PASSWORD})
    assert forged.status_code == 400
    db.session.rollback()
    assert db.session.get(User, anna_id) is not None

    token = csrf_token(client.get("/profile/delete").get_data(as_text=True))
    response = client.post("/profile/delete", data={"password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303
    db.session.rollback()
    assert db.session.get(User, anna_id) is None


# The privacy page ----------------------------------------------------------------------------


def test_the_privacy_page_in_german(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "RETENTION_MONTHS", 18)
    response = client.get("/privacy", headers={"Accept-Language": "de"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="de"' in page
    assert "<h1>Datenschutz</h1>" in page
    assert "18" in page


def test_the_privacy_page_in_english_with_the_configured_periods(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "RETENTION_MONTHS", 18)
    monkeypatch.setitem(app.config, "MAIL_RETENTION_DAYS", 14)
    page = client.get("/privacy?lang=en").get_data(as_text=True)
    assert '<html lang="en"' in page and "<h1>Privacy</h1>" in page
    assert "Bookings: 18 months after a booking's last date" in page
    assert "deleted 14 days after they were sent" in page
    assert "Download all your data as a file" in page
    assert "Delete your account" in page
    assert "complain to a data protection supervisory authority" in page


def test_the_privacy_page_names_the_contact_only_when_one_is_set(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "PRIVACY_CONTACT", "")
    page = client.get("/privacy?lang=en").get_data(as_text=True)
    assert "has not named a contact for privacy questions yet" in page
    assert "mailto:" not in page

    monkeypatch.setitem(app.config, "PRIVACY_CONTACT", "datenschutz@iserlohn.example")
    page = client.get("/privacy?lang=en").get_data(as_text=True)
    assert 'href="mailto:datenschutz@iserlohn.example"' in page
    assert "has not named a contact" not in page


def test_every_page_links_to_the_privacy_page(client):
    page = client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert re.search(r'<a href="/privacy">Datenschutz</a>', page)


# The retention rule's command ----------------------------------------------------------------


def test_the_purge_command_prints_what_it_did_and_a_second_run_does_nothing(app, db, anna):
    from booking.models import PasswordResetToken
    from booking.services import accounts
    from booking.web.accounts.privacy import anonymous_title

    accounts.request_password_reset(anna.email, now=datetime.now(UTC) - timedelta(hours=2))
    booking = db.session.scalar(select(Booking).where(Booking.title == "Annas Feier"))
    booking.occurrences[0].starts_at -= timedelta(days=800)
    booking.occurrences[0].ends_at -= timedelta(days=800)
    db.session.commit()
    runner = app.test_cli_runner()

    first = runner.invoke(args=["purge"])
    assert first.exit_code == 0, first.output
    assert "1 bookings anonymised" in first.output
    assert "1 password-reset links deleted" in first.output
    assert "(retention: 24 months, mails: 30 days)" in first.output
    db.session.rollback()
    assert db.session.scalar(select(PasswordResetToken)) is None
    old = db.session.scalar(select(Booking).where(Booking.id == booking.id))
    assert old.requested_by_id is None
    # A private title gives way to the placeholder, in the platform's language (German).
    assert old.title == anonymous_title() != "Annas Feier"

    again = runner.invoke(args=["purge"])
    assert again.exit_code == 0, again.output
    assert again.output.startswith(
        "0 bookings anonymised, 0 audit events anonymised, 0 mails deleted, "
        "0 password-reset links deleted"
    )
