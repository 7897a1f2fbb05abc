"""The ``accounts`` blueprint: register, log in and out, reset a password, the profile page with
its API tokens, and the about page; and the Flask-Login settings these pages rely on."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("accounts", __name__)


def init_login(app: Flask) -> None:
    """Flask-Login's settings: who the session's user is and where a login is asked for."""
    from flask_babel import lazy_gettext

    manager = app.login_manager
    manager.user_loader(_load_user)
    manager.login_view = "accounts.login"
    manager.login_message = lazy_gettext("Please log in to see this page.")
    manager.login_message_category = "info"
    # "basic", not "strong": phones change IP address all the time, and "strong" would then
    # throw away the session and the remember-me login. A changed client only loses freshness.
    manager.session_protection = "basic"
    # A form sent while logged out is kept for the page the login leads back to.
    from booking.web import keep_input

    keep_input.init_app(app)


def _load_user(user_id: str):
    """The session's (or remember-me cookie's) user: ``"<id>:<generation>[:<nonce>]"``. A
    stale generation (logged out everywhere, password changed or reset, deactivated) or the
    old plain-id form answers None, and the request is anonymous."""
    from booking.extensions import db
    from booking.models import User

    parts = user_id.split(":")
    if len(parts) not in (2, 3) or not (parts[0].isdigit() and parts[1].isdigit()):
        return None
    user = db.session.get(User, int(parts[0]))
    if user is None or not user.active or user.session_generation != int(parts[1]):
        return None
    return user


from booking.web.accounts import api_tokens, views  # noqa: E402, F401  (routes)
