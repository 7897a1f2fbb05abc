"""Password rules (#13): common passwords are refused everywhere a password is chosen, an
overlong one is told so (not "at least"), and the argon2id parameters stay as they were."""

from __future__ import annotations

import re

import pytest
from argon2 import Type, extract_parameters
from sqlalchemy import select

from booking.models import OutboxMessage, User
from booking.services import accounts
from booking.services.errors import InvalidRequest
from booking.services.passwords import hash_password, verify_password
from tests.conftest import PASSWORD

EN = {"Accept-Language": "en"}
COMMON = "This password is among the most used ones and easy to guess. Please choose another."
TOO_LONG = "The password may have at most 1024 characters."
GOOD = "Kirschbaum blüht im Hinterhof"
OVERLONG = "a" * 1025


@pytest.fixture
def client(new_client):
    return new_client()


def field_error(page: str, field_id: str) -> str:
    """The error shown right under the field (and tied to it by aria-describedby)."""
    match = re.search(
        rf'<p class="[^"]*error[^"]*" id="{re.escape(field_id)}-error">(.*?)</p>', page
    )
    assert match, f"no error next to {field_id}"
    control = re.search(rf'<input[^>]*\bid="{re.escape(field_id)}"[^>]*>', page)[0]
    assert re.search(rf'aria-describedby="[^"]*\b{re.escape(field_id)}-error\b', control), control
    return match[1]


def register(client, password, email="neu@example.org"):
    return client.post(
        "/register",
        data={
            "email": email,
            "name": "Nora Neu",
            "password": password,
            "confirm": password,
            "language": "en",
        },
        headers=EN,
    )


@pytest.mark.parametrize("password", ["password123", "qwertzuiop", "1234567890", "Password123"])
def test_register_refuses_a_common_password_next_to_the_field(client, db, password):
    response = register(client, password)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert COMMON in field_error(page, "password")
    assert db.session.scalar(select(User).where(User.email == "neu@example.org")) is None


def test_register_tells_an_overlong_password_it_is_too_long(client, db):
    response = register(client, OVERLONG)
    error = field_error(response.get_data(as_text=True), "password")
    assert response.status_code == 422
    assert TOO_LONG in error
    assert "at least" not in error
    assert db.session.scalar(select(User).where(User.email == "neu@example.org")) is None


def test_register_accepts_a_good_passphrase_hashed_with_the_same_argon2id(client, db):
    response = register(client, GOOD)
    assert response.status_code == 303
    user = db.session.scalar(select(User).where(User.email == "neu@example.org"))
    assert verify_password(user.password_hash, GOOD)
    assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    parameters = extract_parameters(user.password_hash)
    assert parameters.type is Type.ID
    assert (parameters.memory_cost, parameters.time_cost, parameters.parallelism) == (65536, 3, 4)
    assert (parameters.hash_len, parameters.salt_len) == (32, 16)


def change(client, password):
    return client.post(
        "/profile",
        data={
            "password-current_password": PASSWORD,
            "password-password": password,
            "password-confirm": password,
            "password-submit": "1",
        },
    )


@pytest.mark.parametrize("password", ["password123", "qwertzuiop"])
def test_password_change_refuses_a_common_password(client, db, make_user, login_as, password):
    user = make_user(email="anna@example.org", language="en")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    response = change(client, password)
    assert response.status_code == 422
    assert COMMON in field_error(response.get_data(as_text=True), "password-password")
    db.session.refresh(user)
    assert verify_password(user.password_hash, PASSWORD)


def test_password_change_says_too_long_and_accepts_a_passphrase(client, db, make_user):
    user = make_user(email="anna@example.org", language="en")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    response = change(client, OVERLONG)
    error = field_error(response.get_data(as_text=True), "password-password")
    assert response.status_code == 422
    assert TOO_LONG in error and "at least" not in error

    assert change(client, GOOD).status_code == 302
    db.session.refresh(user)
    assert verify_password(user.password_hash, GOOD)


def reset_link(client, db, email) -> str:
    client.post("/password-reset", data={"email": email}, headers=EN)
    body = db.session.scalars(
        select(OutboxMessage.body_text).where(OutboxMessage.recipient == email)
    ).one()
    return re.search(r"http://raumboerse\.test(/password-reset/\S+)", body)[1]


def test_password_reset_refuses_common_and_overlong_then_takes_a_passphrase(client, db, make_user):
    user = make_user(email="anna@example.org", language="en")
    link = reset_link(client, db, user.email)
    for password, message in (
        ("password123", COMMON),
        ("qwertzuiop", COMMON),
        (OVERLONG, TOO_LONG),
    ):
        response = client.post(link, data={"password": password, "confirm": password}, headers=EN)
        error = field_error(response.get_data(as_text=True), "password")
        assert response.status_code == 422, password
        assert message in error and "at least" not in error
    db.session.refresh(user)
    assert verify_password(user.password_hash, PASSWORD)

    response = client.post(link, data={"password": GOOD, "confirm": GOOD}, headers=EN)
    assert response.status_code == 302
    db.session.refresh(user)
    assert verify_password(user.password_hash, GOOD)


def test_service_codes_for_common_too_long_and_too_short():
    for password, code in (
        ("password123", "password_common"),
        ("QWERTZUIOP", "password_common"),
        (OVERLONG, "password_too_long"),
        ("kurz", "password_too_short"),
    ):
        with pytest.raises(InvalidRequest) as caught:
            accounts.check_password_strength(password)
        assert (caught.value.field, caught.value.code) == ("password", code)
    accounts.check_password_strength(GOOD)
    accounts.check_password_strength("x" * 1024)


def test_admin_cli_refuses_a_common_password(app, db):
    runner = app.test_cli_runner()
    args = ["create-user", "--email", "new@example.org", "--name", "N", "--password"]
    result = runner.invoke(args=[*args, "password123"])
    assert result.exit_code != 0
    assert "most used" in result.output
    result = runner.invoke(args=[*args, OVERLONG])
    assert result.exit_code != 0
    assert "at most 1024 characters" in result.output
    assert db.session.scalar(select(User).where(User.email == "new@example.org")) is None
    result = runner.invoke(args=[*args, GOOD])
    assert result.exit_code == 0, result.output


def test_hash_parameters_are_argon2id_as_before():
    assert hash_password(GOOD).startswith("$argon2id$v=19$m=65536,t=3,p=4$")
