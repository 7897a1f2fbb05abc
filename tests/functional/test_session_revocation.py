"""Revocable sessions (#13): logging out ends the login on this device; "log out on all devices",
a password change or reset and deactivation end every session and remember-me cookie issued
before, on every device. Two independent clients stand for two devices; an attacker replays
copied cookies."""

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


def test_logout_ends_this_device_only(new_client, make_user, db):
    user = make_user(language="en")
    phone, laptop = new_client(), new_client()
    log_in(phone, user, remember="y")
    remembered = cookie(phone, "raumboerse_login")
    stolen = cookie(phone, "session")
    log_in(laptop, user)
    response = phone.post("/logout")
    assert any(c.startswith("raumboerse_login=;") for c in response.headers.getlist("Set-Cookie"))
    assert_logged_out(phone, db)
    assert_logged_out(replay(new_client, session=stolen), db)
    assert_logged_out(replay(new_client, raumboerse_login=remembered), db)
    # The laptop's login is another one and goes on.
    assert laptop.get("/profile").status_code == 200


def test_the_profile_lists_the_devices_and_logs_out_one(new_client, make_user, db):
    user = make_user(language="en")
    phone = new_client()
    phone.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36"
    )
    laptop = new_client()
    laptop.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
    )
    log_in(phone, user, remember="y")
    log_in(laptop, user)
    page = laptop.get("/profile").get_data(as_text=True)
    assert "Firefox on Windows" in page and "Chrome Mobile on Android" in page
    assert page.count("this device") == 1
    ends = re.findall(r'action="(/profile/sessions/(\d+)/end)"', page)
    assert len(ends) == 1  # only the other device has a button

    assert laptop.post(ends[0][0]).status_code == 303
    assert_logged_out(phone, db)
    assert laptop.get("/profile").status_code == 200
    assert "Chrome Mobile" not in laptop.get("/profile").get_data(as_text=True)
    # A session id that is not one's own is a 404, not someone else's logout.
    other = make_user()
    intruder = new_client()
    log_in(intruder, other)
    own_id = re.findall(r"/profile/sessions/(\d+)/end", laptop.get("/profile").text)
    assert own_id == []  # the laptop is the only device left
    stranger = new_client()
    log_in(stranger, user)
    target = re.findall(r"/profile/sessions/(\d+)/end", stranger.get("/profile").text)[0]
    assert intruder.post(f"/profile/sessions/{target}/end").status_code == 404
    assert laptop.get("/profile").status_code == 200


def test_log_out_on_all_devices_from_the_profile(new_client, make_user, db):
    user = make_user(language="en")
    phone, laptop = new_client(), new_client()
    log_in(phone, user, remember="y")
    remembered = cookie(phone, "raumboerse_login")
    log_in(laptop, user)
    page = laptop.get("/profile").get_data(as_text=True)
    assert "Log out on all devices" in page and 'action="/profile/logout-everywhere"' in page

    response = laptop.post("/profile/logout-everywhere")
    assert response.status_code == 303 and "/login" in response.location
    assert_logged_out(laptop, db)
    assert_logged_out(phone, db)
    assert_logged_out(replay(new_client, raumboerse_login=remembered), db)


def test_a_password_change_ends_the_other_sessions_but_not_this_one(new_client, make_user, db):
    user = make_user(language="en")
    phone, laptop = new_client(), new_client()
    log_in(phone, user, remember="y")
    remembered = cookie(phone, "raumboerse_login")
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
    assert_logged_out(replay(new_client, raumboerse_login=remembered), db)
    assert_logged_out(replay(new_client, session=old_laptop_cookie), db)


def test_a_password_reset_ends_every_session(new_client, make_user, db):
    user = make_user(email="anna@example.org", language="en")
    phone = new_client()
    log_in(phone, user, remember="y")
    remembered = cookie(phone, "raumboerse_login")

    helper = new_client()
    helper.post("/password-reset", data={"email": "anna@example.org"})
    body = db.session.scalars(select(OutboxMessage.body_text)).one()
    link = re.search(r"http://raumboerse\.test(/password-reset/\S+)", body)[1]
    response = helper.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert helper.get("/profile").status_code == 200  # the reset logs this browser in

    assert_logged_out(phone, db)
    assert_logged_out(replay(new_client, raumboerse_login=remembered), db)


def test_deactivation_by_an_admin_ends_every_session_for_good(new_client, make_user, db):
    admin = make_user(is_admin=True)
    user = make_user(language="en")
    phone = new_client()
    log_in(phone, user, remember="y")
    session_cookie, remembered = cookie(phone, "session"), cookie(phone, "raumboerse_login")
    office = new_client()
    log_in(office, admin)

    assert office.post(f"/admin/users/{user.id}", data={"action": "deactivate"}).status_code == 302
    assert_logged_out(phone, db)
    # Reactivating lets the person log in again, but the old cookies stay dead.
    assert office.post(f"/admin/users/{user.id}", data={"action": "reactivate"}).status_code == 302
    assert_logged_out(replay(new_client, session=session_cookie), db)
    assert_logged_out(replay(new_client, raumboerse_login=remembered), db)
    assert log_in(new_client(), user).status_code == 302


def test_remember_me_cookie_differs_per_login_and_is_rotated_on_use(new_client, make_user, db):
    user = make_user(language="en")
    first, second = new_client(), new_client()
    log_in(first, user, remember="y")
    log_in(second, user, remember="y")
    one, two = cookie(first, "raumboerse_login"), cookie(second, "raumboerse_login")
    assert one and two and one != two
    assert user.email not in one and len(one.split(":")[1]) >= 43  # 256 random bits

    # The browser was closed: only the remember-me cookie is left. It starts a new session and
    # is replaced by a new token.
    reopened = replay(new_client, raumboerse_login=one)
    assert reopened.get("/profile").status_code == 200
    rotated = cookie(reopened, "raumboerse_login")
    assert rotated and rotated != one
    assert reopened.get("/profile").status_code == 200  # the new session cookie carries on
    # The replaced token still lets in a request sent side by side (a restored tab) ...
    assert replay(new_client, raumboerse_login=one).get("/profile").status_code == 200
    # ... and the new one keeps working after the browser is closed again.
    assert replay(new_client, raumboerse_login=rotated).get("/profile").status_code == 200


def test_a_replaced_remember_me_token_used_late_ends_that_login(new_client, make_user, db):
    """Two browsers with the same token: one is a copy. The login ends for both."""
    from booking.models import LoginSession
    from booking.services import login_sessions

    user = make_user(language="en")
    owner = new_client()
    log_in(owner, user, remember="y")
    copied = cookie(owner, "raumboerse_login")
    reopened = replay(new_client, raumboerse_login=copied)
    assert reopened.get("/profile").status_code == 200
    rotated = cookie(reopened, "raumboerse_login")
    login = db.session.scalars(select(LoginSession)).one()
    login.rotated_at = login.rotated_at - login_sessions.GRACE * 2
    db.session.commit()

    assert_logged_out(replay(new_client, raumboerse_login=copied), db)
    assert_logged_out(replay(new_client, raumboerse_login=rotated), db)
    assert_logged_out(reopened, db)


def test_an_expired_or_forged_remember_me_cookie_is_deleted(new_client, make_user, db):
    from booking.models import LoginSession

    user = make_user(language="en")
    owner = new_client()
    log_in(owner, user, remember="y")
    token = cookie(owner, "raumboerse_login")
    login_id, secret = token.split(":")
    for forged in (f"{login_id}:{secret[:-2]}xx", f"{int(login_id) + 1}:{secret}", "x", "1:2:3"):
        thief = replay(new_client, raumboerse_login=forged)
        response = thief.get("/profile")
        assert response.status_code == 302
        assert any(
            c.startswith("raumboerse_login=;") for c in response.headers.getlist("Set-Cookie")
        )
    login = db.session.scalars(select(LoginSession)).one()
    login.remember_until = login.created_at
    db.session.commit()
    assert_logged_out(replay(new_client, raumboerse_login=token), db)


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
