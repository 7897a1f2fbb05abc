"""Registering, logging in and out, password resets and the profile, through the test client."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from booking.models import OutboxMessage, PasswordResetToken, User
from booking.services.passwords import verify_password
from tests.conftest import PASSWORD
from tests.mails import confirmation_link, last_mail_to

NEW_PASSWORD = "a new long secret"


@pytest.fixture
def client(new_client):
    """Every request loads its user afresh, as in production (see ``new_client``)."""
    return new_client()


def register(client, **overrides):
    data = {
        "email": "neu@example.org",
        "name": "Nora Neu",
        "password": "lange-geheim-1",
        "confirm": "lange-geheim-1",
        "language": "de",
    } | overrides
    return client.post("/register", data=data)


def login(client, email, password=PASSWORD, **extra):
    return client.post("/login", data={"email": email, "password": password, **extra})


def test_register_mails_a_link_that_opens_the_argon2id_account(client, db):
    response = register(client, email="  Nora.Neu@Example.ORG ")
    assert response.status_code == 303 and response.location.endswith("/register/sent")
    page = client.get(response.location).get_data(as_text=True)
    assert "Nora.Neu@Example.ORG" in page and "E-Mail" in page
    user = db.session.scalar(select(User).where(User.email == "nora.neu@example.org"))
    assert user is not None and user.name == "Nora Neu" and user.email_confirmed_at is None
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, "lange-geheim-1")
    # Not usable before the address is confirmed; the password's owner is told why.
    assert client.get("/profile").status_code == 302
    refused = login(client, "nora.neu@example.org", "lange-geheim-1")
    assert refused.status_code == 422 and "bestätigen" in refused.get_data(as_text=True)

    link = confirmation_link(db, "nora.neu@example.org")
    assert client.get(link).status_code == 200  # a page with a button: mail scanners use GET
    assert client.get("/profile").status_code == 302
    confirmed = client.post(link)
    assert confirmed.status_code == 303
    profile = client.get("/profile")
    assert profile.status_code == 200
    assert "nora.neu@example.org" in profile.get_data(as_text=True)
    db.session.refresh(user)
    assert user.email_confirmed_at is not None
    # The link works once.
    assert new_client_of(client).get(link).status_code == 410


def new_client_of(client):
    return client.application.test_client()


def test_register_answers_the_same_for_a_registered_address(client, db, make_user):
    """Nobody learns from the page whether an address has an account; its owner gets a mail."""
    owner = make_user(email="taken@example.org", name="Tina Taken")
    before = owner.password_hash
    taken = register(client, email="taken@example.org", name="Mallory")
    fresh = register(new_client_of(client), email="free@example.org", name="Mallory")
    assert taken.status_code == fresh.status_code == 303
    assert taken.location == fresh.location
    sent_taken = client.get(taken.location).get_data(as_text=True)
    assert "Diese Adresse ist schon registriert" not in sent_taken
    mail = last_mail_to(db, "taken@example.org")
    assert "schon ein Konto" in mail.subject and "/login" in mail.body_text
    assert "register/confirm" not in mail.body_text
    db.session.refresh(owner)
    assert owner.name == "Tina Taken" and owner.password_hash == before
    assert login(new_client_of(client), "taken@example.org").status_code == 302


def test_registering_again_before_confirming_replaces_the_link(client, db):
    register(client, email="neu@example.org", name="First Try")
    first = confirmation_link(db, "neu@example.org")
    register(client, email="neu@example.org", name="Second Try")
    second = confirmation_link(db, "neu@example.org")
    assert first != second
    assert client.get(first).status_code == 410
    assert client.post(second).status_code == 303
    assert db.session.scalar(select(User.name).where(User.email == "neu@example.org")) == (
        "Second Try"
    )


def test_register_shows_errors_next_to_fields_and_keeps_input(client, db, make_user):
    response = register(client, email="not an address", name="Tim Tester")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="Tim Tester"' in page  # nothing typed is lost

    response = register(client, password="kurz", confirm="kurz")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="password-error"' in page
    assert "mindestens 10 Zeichen" in page
    assert 'aria-invalid="true"' in page

    response = register(client, confirm="something else entirely")
    assert response.status_code == 422
    assert "Die beiden Passwörter sind nicht gleich." in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "neu@example.org")) is None


def test_login_and_logout(client, make_user):
    user = make_user(email="anna@example.org")
    response = login(client, "ANNA@example.org")
    assert response.status_code == 302
    assert client.get("/profile").status_code == 200
    assert user.last_login_at is not None

    assert client.get("/logout").status_code == 405  # logging out changes state: POST only
    response = client.post("/logout")
    assert response.status_code == 302
    response = client.get("/profile")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_unknown_email_and_wrong_password_get_the_same_answer(client, make_user):
    make_user(email="anna@example.org")
    wrong_password = login(client, "anna@example.org", "not the password at all")
    unknown = login(client, "nobody@example.org", "not the password at all")
    assert wrong_password.status_code == unknown.status_code == 422

    def message(response):
        return re.search(
            r'<div class="alert alert-error".*?</div>', response.get_data(as_text=True), re.S
        )[0]

    assert message(wrong_password) == message(unknown)
    assert "Die E-Mail-Adresse oder das Passwort stimmt nicht." in message(unknown)
    assert client.get("/profile").status_code == 302


def test_remember_me_sets_a_lasting_cookie(new_client, client, make_user):
    make_user(email="anna@example.org")
    response = login(client, "anna@example.org", remember="y")
    cookies = response.headers.getlist("Set-Cookie")
    remember = [c for c in cookies if c.startswith("raumboerse_login=")]
    assert len(remember) == 1 and "Expires=" in remember[0] and "HttpOnly" in remember[0]

    other = new_client()
    response = login(other, "anna@example.org")
    assert not any(
        c.startswith("raumboerse_login=") for c in response.headers.getlist("Set-Cookie")
    )


def test_remember_cookie_logs_in_again_after_the_session_is_gone(client, make_user):
    make_user(email="anna@example.org")
    login(client, "anna@example.org", remember="y")
    client.delete_cookie("session", domain="raumboerse.test")
    assert client.get("/profile").status_code == 200


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/my/bookings", "/my/bookings"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
    ],
)
def test_login_follows_next_only_to_local_paths(client, make_user, next_url, expected):
    make_user(email="anna@example.org")
    response = client.post(
        "/login",
        query_string={"next": next_url},
        data={"email": "anna@example.org", "password": PASSWORD},
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location in (expected, "http://raumboerse.test" + expected)


def test_login_page_protects_pages_and_comes_back(client, make_user):
    make_user(email="anna@example.org")
    response = client.get("/profile")
    assert response.status_code == 302
    assert "next=%2Fprofile" in response.headers["Location"]
    response = client.post(
        "/login?next=%2Fprofile", data={"email": "anna@example.org", "password": PASSWORD}
    )
    assert response.headers["Location"].endswith("/profile")


def _reset_link(db, recipient) -> str:
    message = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient == recipient)
    ).one()
    return re.search(r"http://raumboerse\.test(/password-reset/\S+)", message.body_text)[1]


def test_password_reset_answers_the_same_for_known_and_unknown_addresses(client, db, make_user):
    make_user(email="anna@example.org")
    known = client.post("/password-reset", data={"email": "anna@example.org"})
    unknown = client.post("/password-reset", data={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True)
    recipients = db.session.scalars(select(OutboxMessage.recipient)).all()
    assert recipients == ["anna@example.org"]


def test_password_reset_link_is_single_use_and_logs_in(new_client, client, db, make_user):
    user = make_user(email="anna@example.org")
    client.post("/password-reset", data={"email": "anna@example.org"})
    link = _reset_link(db, "anna@example.org")
    token = link.rsplit("/", 1)[1]
    stored = db.session.scalars(select(PasswordResetToken)).one()
    assert token not in stored.token_hash  # only a hash is kept

    assert client.get(link).status_code == 200
    response = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert client.get("/profile").status_code == 200
    db.session.refresh(user)
    assert verify_password(user.password_hash, NEW_PASSWORD)

    again = new_client()
    response = again.post(
        link, data={"password": "yet another secret", "confirm": "yet another secret"}
    )
    assert response.status_code == 410
    assert "Dieser Link gilt nicht mehr" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert verify_password(user.password_hash, NEW_PASSWORD)


def test_password_reset_link_expires(client, db, make_user):
    user = make_user(email="anna@example.org")
    client.post("/password-reset", data={"email": "anna@example.org"})
    link = _reset_link(db, "anna@example.org")
    stored = db.session.scalars(select(PasswordResetToken)).one()
    stored.expires_at = stored.created_at - timedelta(seconds=1)
    db.session.commit()
    response = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 410
    db.session.refresh(user)
    assert not verify_password(user.password_hash, NEW_PASSWORD)


def test_password_reset_of_an_unknown_token_is_refused(client):
    assert client.get("/password-reset/not-a-real-token").status_code == 410


def test_profile_changes_password_only_with_the_current_one(client, db, make_user):
    user = make_user(email="anna@example.org")
    login(client, "anna@example.org")
    response = client.post(
        "/profile",
        data={
            "password-current_password": "wrong wrong wrong",
            "password-password": NEW_PASSWORD,
            "password-confirm": NEW_PASSWORD,
            "password-submit": "1",
        },
    )
    assert response.status_code == 422
    assert "Das aktuelle Passwort stimmt nicht." in response.get_data(as_text=True)
    db.session.refresh(user)
    assert verify_password(user.password_hash, PASSWORD)

    response = client.post(
        "/profile",
        data={
            "password-current_password": PASSWORD,
            "password-password": NEW_PASSWORD,
            "password-confirm": NEW_PASSWORD,
            "password-submit": "1",
        },
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert verify_password(user.password_hash, NEW_PASSWORD)


def test_profile_changes_name_and_language(client, db, make_user):
    user = make_user(email="anna@example.org", language="de")
    login(client, "anna@example.org")
    response = client.post(
        "/profile",
        data={"profile-name": "Anna A.", "profile-language": "en", "profile-submit": "1"},
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert (user.name, user.language) == ("Anna A.", "en")
    page = client.get("/profile", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Change password" in page

    response = client.post(
        "/profile",
        data={"profile-name": "Anna A.", "profile-language": "fr", "profile-submit": "1"},
    )
    assert response.status_code == 422


def test_old_hashes_are_upgraded_at_login(client, db, make_user):
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    user = make_user(email="anna@example.org")
    user.password_hash = weak
    db.session.commit()
    assert login(client, "anna@example.org").status_code == 302
    db.session.refresh(user)
    assert user.password_hash != weak
    assert "m=65536" in user.password_hash


def test_changing_the_password_retires_open_reset_links(client, db, make_user):
    make_user(email="anna@example.org")
    client.post("/password-reset", data={"email": "anna@example.org"})
    link = _reset_link(db, "anna@example.org")
    login(client, "anna@example.org")
    client.post(
        "/profile",
        data={
            "password-current_password": PASSWORD,
            "password-password": NEW_PASSWORD,
            "password-confirm": NEW_PASSWORD,
            "password-submit": "1",
        },
    )
    assert client.get(link).status_code == 410
