"""Revocable sessions (#13): logging out, "log out on all devices", a password change or reset
and deactivation end every session and remember-me cookie issued before, on every device. Two
independent clients stand for two devices; an attacker replays copied cookies."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from booking import create_app
from booking.models import ApiToken, OutboxMessage
from tests.conftest import PASSWORD

DOMAIN = "raumboerse.test"
NEW_PASSWORD = "a brand new secret 42"


def log_in(client, user, password=PASSWORD, **extra):
    return client.post("/login", data={"email": user.email, "password": password, **extra})


def cookie(client, name):
    found = client.get_cookie(name, domain=DOMAIN)
    return found.value if found is not None else None


def replay(new_client, **cookies):
    """Another browser with nothing but copied cookies."""
    thief = new_client()
    for name, value in cookies.items():
        thief.set_cookie(name, value, domain=DOMAIN)
    return thief


def api_tokens(db) -> int:
    return db.session.scalar(select(func.count()).select_from(ApiToken))


def assert_logged_out(client, db):
    response = client.get("/profile")
    assert response.status_code == 302 and "/login" in response.location
    before = api_tokens(db)
    response = client.post("/profile/api-tokens", data={"name": "stolen"})
    assert response.status_code in (302, 401, 403)
    if response.status_code == 302:
        assert "/login" in response.location
    assert api_tokens(db) == before


def test_the_session_cookie_is_dead_after_logout(new_client, make_user, db):
    user = make_user(language="en")
    device = new_client()
    assert log_in(device, user).status_code == 302
    stolen = cookie(device, "session")
    thief = replay(new_client, session=stolen)
    assert thief.get("/profile").status_code == 200  # the copy works while the session lives

    assert device.post("/logout").status_code == 302
    assert_logged_out(device, db)
    assert_logged_out(replay(new_client, session=stolen), db)


def test_logout_ends_the_sessions_on_other_devices_too(new_client, make_user, db):
    user = make_user(language="en")
    phone, laptop = new_client(), new_client()
    log_in(phone, user)
    log_in(laptop, user)
    assert laptop.get("/profile").status_code == 200
    phone.post("/logout")
    assert_logged_out(laptop, db)
    # A new login works as before.
    assert log_in(laptop, user).status_code == 302
    assert laptop.get("/profile").status_code == 200


def test_log_out_on_all_devices_from_the_profile(new_client, make_user, db):
    user = make_user(language="en")
    phone, laptop = new_client(), new_client()
    log_in(phone, user, remember="y")
    remembered = cookie(phone, "remember_token")
    log_in(laptop, user)
    page = laptop.get("/profile").get_data(as_text=True)
    assert "Log out on all devices" in page and 'action="/profile/logout-everywhere"' in page

    response = laptop.post("/profile/logout-everywhere")
    assert response.status_code == 303 and "/login" in response.location
    assert_logged_out(laptop, db)
    assert_logged_out(phone, db)
    assert_logged_out(replay(new_client, remember_token=remembered), db)


def test_a_password_change_ends_the_other_sessions_but_not_this_one(new_client, make_user, db):
    user = make_user(language="en")
    phone, laptop = new_client(), new_client()
    log_in(phone, user, remember="y")
    remembered = cookie(phone, "remember_token")
    log_in(laptop, user)
    old_laptop_cookie = cookie(laptop, "session")

    response = laptop.post(
        "/profile",
        data={
            "password-current_password": PASSWORD,
            "password-password": NEW_PASSWORD,
            "password-confirm": NEW_PASSWORD,
            "password-submit": "1",
        },
    )
    assert response.status_code == 302
    # The session that changed the password goes on; every other one, and the old cookies, end.
    assert laptop.get("/profile").status_code == 200
    assert_logged_out(phone, db)
    assert_logged_out(replay(new_client, remember_token=remembered), db)
    assert_logged_out(replay(new_client, session=old_laptop_cookie), db)


def test_a_password_reset_ends_every_session(new_client, make_user, db):
    user = make_user(email="anna@example.org", language="en")
    phone = new_client()
    log_in(phone, user, remember="y")
    remembered = cookie(phone, "remember_token")

    helper = new_client()
    helper.post("/password-reset", data={"email": "anna@example.org"})
    body = db.session.scalars(select(OutboxMessage.body_text)).one()
    link = re.search(r"http://raumboerse\.test(/password-reset/\S+)", body)[1]
    response = helper.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert helper.get("/profile").status_code == 200  # the reset logs this browser in

    assert_logged_out(phone, db)
    assert_logged_out(replay(new_client, remember_token=remembered), db)


def test_deactivation_by_an_admin_ends_every_session_for_good(new_client, make_user, db):
    admin = make_user(is_admin=True)
    user = make_user(language="en")
    phone = new_client()
    log_in(phone, user, remember="y")
    session_cookie, remembered = cookie(phone, "session"), cookie(phone, "remember_token")
    office = new_client()
    log_in(office, admin)

    assert office.post(f"/admin/users/{user.id}", data={"action": "deactivate"}).status_code == 302
    assert_logged_out(phone, db)
    # Reactivating lets the person log in again, but the old cookies stay dead.
    assert office.post(f"/admin/users/{user.id}", data={"action": "reactivate"}).status_code == 302
    assert_logged_out(replay(new_client, session=session_cookie), db)
    assert_logged_out(replay(new_client, remember_token=remembered), db)
    assert log_in(new_client(), user).status_code == 302


def test_remember_me_cookie_differs_per_login_and_dies_at_logout(new_client, make_user, db):
    user = make_user(language="en")
    first, second = new_client(), new_client()
    log_in(first, user, remember="y")
    log_in(second, user, remember="y")
    one, two = cookie(first, "remember_token"), cookie(second, "remember_token")
    assert one and two and one != two

    # The remember-me cookie alone logs in while the sessions live ...
    assert replay(new_client, remember_token=one).get("/profile").status_code == 200
    # ... and not after a logout (on any device).
    response = second.post("/logout")
    assert any(
        c.startswith("remember_token=;") or c.startswith('remember_token="";')
        for c in response.headers.getlist("Set-Cookie")
    )
    assert_logged_out(replay(new_client, remember_token=one), db)
    assert_logged_out(replay(new_client, remember_token=two), db)


def test_a_csrf_token_planted_before_login_is_refused_after_it(database_url, db, make_user):
    user = make_user(language="en")
    db.session.commit()
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
    try:
        client = app.test_client()

        def token(page: str) -> str:
            return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(page).text)[1]

        planted = token("/login")
        response = client.post(
            "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": planted}
        )
        assert response.status_code == 302
        assert client.get("/profile").status_code == 200
        # The planted token no longer passes: the profile form is refused, nothing is saved.
        response = client.post(
            "/profile",
            data={
                "profile-name": "Planted",
                "profile-language": "en",
                "profile-submit": "1",
                "profile-csrf_token": planted,
            },
        )
        assert response.status_code == 400  # CSRFProtect refuses it before the view
        db.session.refresh(user)
        assert user.name != "Planted"
        fresh = token("/profile")
        response = client.post("/logout", data={"csrf_token": planted})
        assert client.get("/profile").status_code == 200  # the planted token did not log out
        response = client.post("/logout", data={"csrf_token": fresh})
        assert client.get("/profile").status_code == 302
    finally:
        with app.app_context():
            from booking.extensions import db as _db

            _db.engine.dispose()
