"""Creating and revoking tokens: the CLI and the profile page (session login, CSRF)."""

from __future__ import annotations

import re

from sqlalchemy import select

from booking.api.cli import create_token_command
from booking.api.tokens import hash_token
from booking.extensions import db
from booking.models import ApiToken
from tests.api.conftest import assert_problem
from tests.conftest import PASSWORD


def test_cli_prints_a_working_token_as_last_line(app, client, make_user):
    user = make_user(email="anna@example.org")
    db.session.commit()
    result = app.test_cli_runner().invoke(
        create_token_command, ["--email", "ANNA@example.org", "--name", "Stadt-App"]
    )
    assert result.exit_code == 0, result.output
    plain = result.output.strip().splitlines()[-1]
    assert len(plain) >= 40  # at least 128 random bits, url-safe
    stored = db.session.scalars(select(ApiToken)).one()
    assert stored.name == "Stadt-App"
    assert stored.user_id == user.id
    assert stored.token_hash == hash_token(plain) != plain  # only the hash is stored
    response = client.get("/api/v1/bookings", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200


def test_cli_refuses_unknown_user(app, db):
    result = app.test_cli_runner().invoke(create_token_command, ["--email", "nobody@example.org"])
    assert result.exit_code != 0
    assert "nobody@example.org" in result.output


def _login(client, user) -> None:
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302


def test_profile_creates_shows_once_and_revokes(client, make_user):
    user = make_user()
    db.session.commit()
    _login(client, user)

    created = client.post("/profile/api-tokens", data={"name": "Vereinsplaner"})
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    plain = re.search(r'value="(rb_[^"]+)"', created.get_data(as_text=True)).group(1)
    api = {"Authorization": f"Bearer {plain}"}
    assert client.get("/api/v1/bookings", headers=api).status_code == 200

    profile = client.get("/profile").get_data(as_text=True)
    assert "Vereinsplaner" in profile
    assert plain not in profile  # shown only once
    token = db.session.scalars(select(ApiToken)).one()
    revoked = client.post(f"/profile/api-tokens/{token.id}/revoke")
    assert revoked.status_code == 302
    assert_problem(client.get("/api/v1/bookings", headers=api), 401)
    client.get("/profile")  # shows the flash message naming the revoked token
    assert "Vereinsplaner" not in client.get("/profile").get_data(as_text=True)


def test_profile_token_needs_a_name_and_cannot_revoke_others(client, make_user, token_for):
    owner, user = make_user(), make_user()
    token_for(owner)
    db.session.commit()
    _login(client, user)
    assert client.post("/profile/api-tokens", data={"name": "  "}).status_code == 302
    token = db.session.scalars(select(ApiToken)).one()  # no new token was made
    client.post(f"/profile/api-tokens/{token.id}/revoke")
    db.session.rollback()
    assert db.session.get(ApiToken, token.id).revoked_at is None


def test_profile_token_forms_need_csrf(app, client, make_user, monkeypatch):
    user = make_user()
    db.session.commit()
    _login(client, user)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post("/profile/api-tokens", data={"name": "ohne CSRF"})
    assert response.status_code == 400
    assert db.session.scalars(select(ApiToken)).first() is None


def test_token_routes_need_login(client):
    response = client.post("/profile/api-tokens", data={"name": "x"})
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
